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
# The flags that decide the speed: AVX2 (oneDNN's and OpenCV's fp32 kernels), AVX-512 (wider ones),
# AVX-512 BF16 / AMX (precision=auto runs bf16 only with these).
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_vnni|avx512_bf16|amx_bf16|amx_tile)$' | tr '\n' ' ')
echo "CPU flags: ${flags:-none of avx2/avx512/amx}"
# A second run of the element rows as an AVX2-only CPU (oneDNN and OpenCV held to AVX2), unless the
# CPU is one already: precision=auto then runs fp32, as on most NVR and desktop CPUs.
avx2_env=(ONEDNN_MAX_CPU_ISA=AVX2 OPENCV_CPU_DISABLE=AVX512_SKX,AVX512_COMMON,AVX512F,AVX512_KNL,AVX512_KNM,AVX512_CNL,AVX512_CLX,AVX512_ICL)
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
if [[ " $flags " == *" avx512f "* ]]; then
  echo
  echo "The element rows again as an AVX2-only CPU (${avx2_env[*]}; precision=auto runs fp32):"
  env "${avx2_env[@]}" "$build/tests/bench/bench-speed" "$root/model/weights/facesr-default.safetensors" \
    "$build/tests/bench/test-model-ngf16.safetensors" "$build/tests/bench/test-model-ngf16-transposed.safetensors" \
    "$build/tests/bench/test-model-ngf16-subpixel.safetensors" --element-only
fi
echo
"$build/tests/bench/bench-detect" 6
