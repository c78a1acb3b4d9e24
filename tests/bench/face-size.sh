#!/usr/bin/env bash
# The face-size benchmark (tests/bench/bench_face_size.cpp) on the 12 packaged validation faces
# (other people than CelebA's, held out of every model's training): prepares them with facesr-prepare
# (1.5x crops, the split of training/train-default.sh), then runs the element at 12-128 px faces.
# usage: tests/bench/face-size.sh [MODEL [OUT_DIR [extra bench-face-size args, e.g. --props "max-face-size=0"]]]
#        (defaults: model/weights/facesr-default.safetensors, out/face-size; BUILD_DIR: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-model/weights/facesr-default.safetensors}
out=${2:-out/face-size}
shift $(( $# < 2 ? $# : 2 ))
build_dir=${BUILD_DIR:-build}
scripts/fetch-train-photos.sh out/data/train-photos
data=out/data/faces-validation-1.5x.safetensors
dlib=/usr/share/doc/libdlib19.1/examples
[[ -f $data ]] || "$build_dir/training/facesr-prepare" --out "$data" --min-face 100 --val 0.15 --seed 1 \
  "$dlib/faces" "$dlib/johns" out/data/train-photos > /dev/null
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); flags: $(grep -o -w -E 'avx2|avx512f|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
GST_PLUGIN_PATH=$PWD/$build_dir/gst-plugin GST_REGISTRY=$PWD/$build_dir/registry-face-size.bin \
OMP_WAIT_POLICY=PASSIVE "$build_dir/tests/bench/bench-face-size" --data "$data" --model "$model" --out "$out" "$@"
