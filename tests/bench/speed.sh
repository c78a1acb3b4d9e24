#!/usr/bin/env bash
# Issue #7's speed table: generator ms/face and element frames/s beside their baselines
# (bench-speed), then detection vs gst-plugins-bad facedetect (bench-detect). All in one run.
# usage: tests/bench/speed.sh [BUILD_DIR]   (default: build; builds what it needs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
meson compile -C "$build" bench-speed bench-detect bench-engine-memory gstfacesr test-model-ngf16 test-model-ngf16-transposed \
  test-model-ngf16-subpixel >/dev/null
export GST_PLUGIN_PATH=$build/gst-plugin GST_REGISTRY=$build/tests/bench/registry-speed.bin
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%F)"
"$build/tests/bench/bench-speed" "$root/model/weights/facesr-default.safetensors" \
  "$build/tests/bench/test-model-ngf16.safetensors" "$build/tests/bench/test-model-ngf16-transposed.safetensors" \
  "$build/tests/bench/test-model-ngf16-subpixel.safetensors"
echo
echo "malloc keeping freed memory (EngineOptions::keep_freed_memory), one process per row:"
for model in "$root/model/weights/facesr-default.safetensors" "$build/tests/bench/test-model-ngf16-transposed.safetensors" \
             "$build/tests/bench/test-model-ngf16-subpixel.safetensors"; do
  for setting in off on off on; do "$build/tests/bench/bench-engine-memory" "$model" "$setting"; done
done
echo
"$build/tests/bench/bench-detect" 6
