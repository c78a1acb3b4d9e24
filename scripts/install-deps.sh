#!/usr/bin/env bash
# Installs every Debian 12 package facesr needs to build, test and run its demo.
# Idempotent: when everything is present it changes nothing and runs no apt-get at all.
#
# usage: scripts/install-deps.sh [--print]     (--print: list the packages and exit)
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config cmake
  # model/ and training/: LibTorch (CPU) and small well-kept libraries
  libtorch-dev libgloo-dev nlohmann-json3-dev libcli11-dev libfmt-dev libstb-dev
  # facesr-export (ONNX graphs, docs/onnx.md): Debian's ONNX 1.12 (onnx_proto, checker) and protobuf;
  # optional at build time (without them facesr-export is not built and tests/onnx/ skips)
  libonnx-dev libprotobuf-dev
  # OpenBLAS (OpenMP threads) as the system BLAS: LibTorch runs small fp32 convolutions (batch 1, the
  # engine's faces side by side) through BLAS sgemm, and Debian's default is the reference BLAS: with
  # it the element on an AVX2-only CPU made 22-23 fps, with OpenBLAS 29 (bench-speed, issue 19)
  libopenblas0-openmp
  # tests, benchmarks, fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev valgrind
  # facedetect/: dlib (HOG, 68-point landmarks, example faces), OpenCV (cascades, imaging; contrib's
  # quality module and opencv-data's BRISQUE model files for facesr-eval --realism)
  libdlib-dev libdlib-data libopencv-dev opencv-data
  # gst-plugin/ and pipelines/
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-opencv
  # demo and tests: encoders, image tools
  python3
)

# npm (for the photo packages in shared/data/SOURCES.md) comes with the machine's Node.js;
# Debian's npm package conflicts with it, so it is checked, not installed.
if [[ "${1:-}" == "--print" ]]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
