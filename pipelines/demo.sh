#!/usr/bin/env bash
# The facesr demo: installs what is missing, builds, and enhances real faces with the default model.
#
# usage: pipelines/demo.sh [OUTPUT_DIR]        (default: out/demo)
#
# Today it runs the engine on a still: the small faces (37-53 px) of a sample photo from dlib's
# example set, with their boxes from dlib's testing.xml, and writes a comparison sheet
# (input | bicubic | facesr). The video demo on a surveillance-style clip comes with the element
# (issue 5) and the trained default model (issue 6).
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir=${1:-out/demo}
build_dir=${BUILD_DIR:-build}

scripts/install-deps.sh
if [[ ! -f "$build_dir/build.ninja" ]]; then
  meson setup "$build_dir"
fi
meson compile -C "$build_dir" facesr-enhance-image facesr-make-test-model
mkdir -p "$out_dir"

model=model/weights/facesr-default.safetensors
if [[ ! -f "$model" ]]; then
  model="$out_dir/untrained-random-weights.safetensors"
  "$build_dir/tests/facesr-make-test-model" "$model" 16 8 1
  cat >&2 <<MSG

  NOTE: no trained default model is bundled yet (model/weights/facesr-default.safetensors comes
  with the default-model issue). This demo runs the full engine path on RANDOM weights: the
  facesr column will be noise-grey, not an enhanced face. It shows the plumbing, not the result.

MSG
fi

photo=/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg
if [[ ! -r "$photo" ]]; then
  echo "demo: $photo is missing: it comes with Debian's libdlib19.1 (run scripts/install-deps.sh;" \
       "on minimal images check that /usr/share/doc is not excluded by dpkg)" >&2
  exit 1
fi
# Boxes (x,y,width,height) from dlib's examples/faces/testing.xml for this photo.
"$build_dir/pipelines/facesr-enhance-image" --model "$model" \
  --box 274,181,52,53 --box 55,156,44,44 --box 146,166,37,37 \
  --box 329,55,44,44 --box 233,74,44,44 --box 178,86,37,37 \
  "$photo" "$out_dir/comparison.png"
echo "demo: output in $(cd "$out_dir" && pwd)"
