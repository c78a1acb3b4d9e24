#!/usr/bin/env bash
# Shows an RTSP camera with enhanced faces (live: late frames pass through un-enhanced).
#
# usage: pipelines/rtsp-to-screen.sh rtsp://[user:password@]host[:port]/path [facesr-property=value ...]
#   e.g. pipelines/rtsp-to-screen.sh rtsp://192.168.1.20:554/stream1 detect-interval=5 annotate=true
# Environment: FACESR_MODEL, FACESR_BUILD_DIR (see pipelines/facesr-env.sh), RTSP_LATENCY_MS (default 200).
set -euo pipefail
source "$(dirname "$0")/facesr-env.sh"

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
url=$1
shift
[[ "$url" == rtsp://* || "$url" == rtsps://* ]] || die "'$url' is not an rtsp:// URL"
facesr_require rtspsrc gstreamer1.0-plugins-good decodebin gstreamer1.0-plugins-base autovideosink gstreamer1.0-plugins-good

# shellcheck disable=SC2046
exec gst-launch-1.0 rtspsrc location="$url" latency="${RTSP_LATENCY_MS:-200}" ! decodebin ! videoconvert \
  ! $(facesr_element "$@") ! videoconvert ! autovideosink sync=true
