#!/usr/bin/env bash
# Shows a webcam (V4L2) with enhanced faces.
#
# usage: pipelines/webcam-to-screen.sh [/dev/videoN] [facesr-property=value ...]
#   e.g. pipelines/webcam-to-screen.sh /dev/video0 mode=inset annotate=true
# Environment: FACESR_MODEL, FACESR_BUILD_DIR (see pipelines/facesr-env.sh).
set -euo pipefail
source "$(dirname "$0")/facesr-env.sh"

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
device=/dev/video0
if [[ $# -gt 0 && "$1" == /dev/* ]]; then
  device=$1
  shift
fi
[[ -c "$device" ]] || die "no video device at $device (is the webcam plugged in? ls /dev/video*)"
[[ -r "$device" ]] || die "$device is not readable: add yourself to the 'video' group"
facesr_require v4l2src gstreamer1.0-plugins-good autovideosink gstreamer1.0-plugins-good

# shellcheck disable=SC2046
exec gst-launch-1.0 v4l2src device="$device" ! videoconvert ! $(facesr_element "$@") \
  ! videoconvert ! autovideosink sync=false
