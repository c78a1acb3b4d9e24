#!/usr/bin/env bash
# Builds the weights-reader fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
# usage: tests/fuzz/run.sh [seconds=600]
# New inputs go to build-fuzz/corpus (the committed seeds in tests/fuzz/corpus stay untouched);
# a crash is written as build-fuzz/crash-* and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [seconds]" >&2; exit 2; }
scripts/install-deps.sh
if [[ ! -d build-fuzz ]]; then
  CXX=clang++ meson setup build-fuzz -Dfuzz=enabled -Dtests=disabled -Dbenchmarks=disabled \
    -Dgst-plugin=disabled -Dfacedetect=disabled -Dtraining-tools=disabled
fi
ninja -C build-fuzz tests/fuzz/fuzz-safetensors tests/fuzz/fuzz-metadata
mkdir -p build-fuzz/corpus build-fuzz/corpus-metadata
cd build-fuzz
# The time is shared: the container reader first, then the metadata strings.
./tests/fuzz/fuzz-safetensors -max_total_time="$(( (seconds + 1) / 2 ))" -max_len=65536 -print_final_stats=1 \
  corpus ../tests/fuzz/corpus
./tests/fuzz/fuzz-metadata -max_total_time="$(( (seconds + 1) / 2 ))" -max_len=400000 -print_final_stats=1 \
  corpus-metadata ../tests/fuzz/corpus-metadata
