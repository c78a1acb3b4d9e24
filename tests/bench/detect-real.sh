#!/usr/bin/env bash
# Issue 38's real-photo detection benchmark (tests/bench/bench_detect_real.cpp): dlib's annotated
# photos resized to 12-64 px faces, clean and with noise + JPEG, every backend and the element's finder.
# usage: tests/bench/detect-real.sh [bench-detect-real args, e.g. --face-px 24]   (BUILD_DIR: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${BUILD_DIR:-build}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); cores: $(nproc); flags: $(grep -o -w -E 'avx2|avx512f|avx512_bf16|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
exec "$build_dir/tests/bench/bench-detect-real" "$@"
