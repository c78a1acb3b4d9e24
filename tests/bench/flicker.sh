#!/usr/bin/env bash
# Issue 20's flicker table: renders the demo's photos as a slowly panning CCTV-style clip with small
# faces (facesr-make-clip: faces 20 px, pan 0.05 frame widths per photo, sensor noise, motion blur)
# and the same clip clean (no noise, no motion blur), then runs bench-flicker: the element's enhanced
# faces frame to frame vs the input's and the clean clip's, for several temporal-smoothing values; then
# at output-scale 2 against the element's bicubic resize (enabled=false).
# usage: tests/bench/flicker.sh [MODEL [OUT_DIR]]   (default: the shipped model, out/flicker)
# The photos are the demo's (pipelines/demo.sh fetches them once into out/demo/cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
model=${1:-model/weights/facesr-default.safetensors}
out=${2:-out/flicker}
build=${BUILD_DIR:-build}
photos=out/demo/cache/face-api-1.7.15
[[ -f $photos/sample5.jpg && -f $photos/sample6.jpg ]] ||
  { echo "flicker: $photos/sample5.jpg and sample6.jpg missing: run pipelines/demo.sh once" >&2; exit 1; }
meson compile -C "$build" bench-flicker facesr-make-clip gstfacesr >/dev/null
mkdir -p "$out"
clip=(--width 854 --height 480 --fps 25 --seconds 3 --face-width 20 --pan 0.05 --seed 1)
"$build/pipelines/facesr-make-clip" "${clip[@]}" --output "$out/input.bgrx" "$photos/sample5.jpg" "$photos/sample6.jpg" 2>/dev/null
"$build/pipelines/facesr-make-clip" "${clip[@]}" --noise 0 --exposure 0 --subframes 1 --output "$out/clean.bgrx" \
  "$photos/sample5.jpg" "$photos/sample6.jpg" 2>/dev/null
export GST_PLUGIN_PATH=$root/$build/gst-plugin GST_REGISTRY=$root/$build/tests/bench/registry-flicker.bin
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
"$build/tests/bench/bench-flicker" --input "$out/input.bgrx" --clean "$out/clean.bgrx" --width 854 --height 480 \
  --model "$model" --props "" --props "temporal-smoothing=0.2" --props "temporal-smoothing=0.7" \
  --props "temporal-smoothing=0" --strip "$out/strip.png" | tee "$out/flicker.txt"
# At output-scale 2, against the element's own bicubic resize (enabled=false) of the input.
"$build/tests/bench/bench-flicker" --input "$out/input.bgrx" --clean "$out/clean.bgrx" --width 854 --height 480 \
  --model "$model" --output-scale 2 --props "" --props "temporal-smoothing=0" --strip "$out/strip-x2.png" |
  tee -a "$out/flicker.txt"
rm -f "$out/input.bgrx" "$out/clean.bgrx"
