#!/usr/bin/env bash
# Regenerates the fuzzer's seed corpus: tiny real facesr weights files and a few near-misses.
# usage: tests/fuzz/make_corpus.sh BUILD_DIR     (BUILD_DIR holds tests/facesr-make-test-model)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
make_model="$1/tests/facesr-make-test-model"
out="$here/corpus"
mkdir -p "$out"
"$make_model" "$out/ngf1-depth4-f32.safetensors" 1 4 1 F32
"$make_model" "$out/ngf1-depth4-f16.safetensors" 1 4 2 F16
"$make_model" "$out/ngf1-depth4-bf16.safetensors" 1 4 3 BF16
head -c 200 "$out/ngf1-depth4-f32.safetensors" > "$out/truncated.safetensors"
printf '\x13\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{}}' > "$out/empty-header.safetensors"
