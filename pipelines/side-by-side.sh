#!/usr/bin/env bash
# Original and enhanced video next to each other (compositor), to the screen or into an MP4 file.
#
# usage: pipelines/side-by-side.sh INPUT [OUTPUT.mp4] [facesr-property=value ...]
#   e.g. pipelines/side-by-side.sh cctv.mp4                      (to the screen)
#        pipelines/side-by-side.sh cctv.mp4 compare.mp4 annotate=true
# The left half is the input, the right half facesr's output. (facesr mode=side-by-side gives
# the same picture from one element.)
# Environment: FACESR_MODEL, FACESR_BUILD_DIR (see pipelines/facesr-env.sh).
set -euo pipefail
source "$(dirname "$0")/facesr-env.sh"

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
input=$1
shift
output=""
if [[ $# -gt 0 && "$1" != *=* ]]; then
  output=$1
  shift
  [[ "$output" == *.mp4 ]] || die "output '$output' should end in .mp4"
fi
[[ -r "$input" ]] || die "input '$input' is not a readable file"
facesr_require compositor gstreamer1.0-plugins-base decodebin gstreamer1.0-plugins-base

# The input's width (where the enhanced half starts): the caps of its first decoded frame.
width=$(gst-launch-1.0 -v filesrc location="$input" ! decodebin ! videoconvert ! identity eos-after=1 \
  ! fakesink 2>/dev/null | sed -n 's/.*identity0.GstPad:src: caps = video\/x-raw.*width=(int)\([0-9]*\).*/\1/p' | head -1)
[[ -n "$width" ]] || die "could not read the video width of '$input' (no video stream decoded)"

if [[ -n "$output" ]]; then
  facesr_require x264enc gstreamer1.0-plugins-ugly mp4mux gstreamer1.0-plugins-good
  sink="videoconvert ! x264enc ! h264parse ! mp4mux ! filesink location=$output"
else
  facesr_require autovideosink gstreamer1.0-plugins-good
  sink="videoconvert ! autovideosink"
fi
# shellcheck disable=SC2046,SC2086
gst-launch-1.0 -e compositor name=mix sink_1::xpos="$width" ! $sink \
  filesrc location="$input" ! decodebin ! videoconvert ! tee name=t \
  t. ! queue ! mix.sink_0 \
  t. ! queue ! $(facesr_element "$@") ! videoconvert ! mix.sink_1
[[ -z "$output" ]] || echo "$(basename "$0"): wrote $output"
