#!/usr/bin/env bash
# Enhances the faces of a video file into an H.264 MP4 file.
#
# usage: pipelines/enhance-file.sh INPUT OUTPUT.mp4 [facesr-property=value ...]
#   e.g. pipelines/enhance-file.sh cctv.mkv cctv-facesr.mp4 detector=hog detect-interval=2
# Environment: FACESR_MODEL (weights file), FACESR_BUILD_DIR (see pipelines/facesr-env.sh).
# Audio is not copied.
set -euo pipefail
source "$(dirname "$0")/facesr-env.sh"

if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
input=$1 output=$2
shift 2
[[ -r "$input" ]] || die "input '$input' is not a readable file"
[[ "$output" == *.mp4 ]] || die "output '$output' should end in .mp4 (H.264 in MP4)"
[[ -d "$(dirname "$output")" ]] || die "output directory '$(dirname "$output")' does not exist"
facesr_require decodebin gstreamer1.0-plugins-base x264enc gstreamer1.0-plugins-ugly mp4mux gstreamer1.0-plugins-good

# shellcheck disable=SC2046
gst-launch-1.0 -e filesrc location="$input" ! decodebin ! videoconvert ! $(facesr_element "$@") \
  ! videoconvert ! x264enc speed-preset=medium ! h264parse ! mp4mux ! filesink location="$output"
echo "$(basename "$0"): wrote $output"
