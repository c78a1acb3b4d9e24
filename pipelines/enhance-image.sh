#!/usr/bin/env bash
# Enhances the faces of a still image (JPEG or PNG) into a PNG, optionally 2/4/8x larger.
#
# usage: pipelines/enhance-image.sh INPUT.{jpg,png} OUTPUT.png [facesr-property=value ...]
#   e.g. pipelines/enhance-image.sh group.jpg group-x4.png output-scale=4 detector=hog
# Environment: FACESR_MODEL, FACESR_BUILD_DIR (see pipelines/facesr-env.sh).
set -euo pipefail
source "$(dirname "$0")/facesr-env.sh"

if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
input=$1 output=$2
shift 2
[[ -r "$input" ]] || die "input '$input' is not a readable file"
[[ "$output" == *.png ]] || die "output '$output' should end in .png"
case "${input,,}" in
  *.jpg | *.jpeg) decoder=jpegdec ;;
  *.png) decoder=pngdec ;;
  *) die "input '$input' should be a .jpg, .jpeg or .png image" ;;
esac
facesr_require $decoder gstreamer1.0-plugins-good pngenc gstreamer1.0-plugins-good imagefreeze gstreamer1.0-plugins-good

# A still is one frame: detect on it (detect-interval=1), no smoothing.
# shellcheck disable=SC2046
gst-launch-1.0 -q filesrc location="$input" ! $decoder ! videoconvert \
  ! $(facesr_element detect-interval=1 "$@") ! videoconvert ! pngenc ! filesink location="$output"
[[ -s "$output" ]] || die "no image was written"
echo "$(basename "$0"): wrote $output"
