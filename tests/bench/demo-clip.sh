#!/usr/bin/env bash
# The element on the demo's clip at its default properties: a realistic mix of face sizes (24-88 px,
# 4-5 faces a frame, 854x480). Prints what the element did with the faces it found (by reason, and
# the enhanced ones by model scale, from its "facesr" messages), its frames/s and faces enhanced per
# second, and the same clip with enabled=false (decoding and conversion alone) in the same run.
# usage: tests/bench/demo-clip.sh [CLIP [MODEL]]   (defaults: out/demo/input.mp4 from pipelines/demo.sh,
#        model/weights/facesr-default.safetensors with its companions; BUILD_DIR: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
clip=${1:-out/demo/input.mp4}
model=${2:-model/weights/facesr-default.safetensors}
build_dir=${BUILD_DIR:-build}
[[ -f $clip ]] || { echo "demo-clip: $clip is missing: run pipelines/demo.sh first" >&2; exit 2; }
export GST_PLUGIN_PATH=$PWD/$build_dir/gst-plugin GST_REGISTRY=$PWD/$build_dir/registry-demo-clip.bin
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "CPU flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')"
messages=$(mktemp)
trap 'rm -f "$messages"' EXIT
run() {  # run PROPS...: seconds of the pipeline, its messages in $messages
  local start end
  start=$(date +%s.%N)
  gst-launch-1.0 -m filesrc location="$clip" ! decodebin ! videoconvert ! facesr model="$model" "$@" \
    ! fakesink sync=false > "$messages"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
n=${FRAMES:-200}  # the demo clip's frame count (8 s at 25 fps); set FRAMES for another clip
off=$(run enabled=false)
on=$(run)
echo "clip $clip ($n frames), model $model"
echo "faces found, by what the element did (reason):"
grep -o 'reason\\=\\(string\\)[a-z-]*' "$messages" | sed 's/.*)/  /' | sort | uniq -c
echo "enhanced faces by model scale:"
grep -o 'enhanced\\=\\(boolean\\)true[^;]*scale\\=\\(uint\\)[0-9]*' "$messages" | sed 's/.*)/  x/' | sort | uniq -c
enhanced=$(grep -o 'reason\\=\\(string\\)enhanced' "$messages" | wc -l)
found=$(grep -o 'reason\\=\\(string\\)[a-z-]*' "$messages" | wc -l)
awk -v e="$enhanced" -v f="$found" -v n="$n" -v on="$on" -v off="$off" 'BEGIN {
  printf "enhanced %d of %d faces found (%.1f %%)\n", e, f, f > 0 ? 100 * e / f : 0
  printf "element at defaults: %.1f s, %.1f frames/s, %.1f faces enhanced/s; enabled=false: %.1f s, %.1f frames/s\n",
         on, n / on, e / on, off, n / off }'
