#!/usr/bin/env bash
# Rebuilds model/weights/facesr-default.safetensors (or, with `quality`, facesr-quality.safetensors)
# from scratch, reproducibly (issues 6 and 16):
#   1. data: shared/data/celeba-aligned (8,593 aligned CelebA faces, 256x256; non-commercial terms:
#      shared/data/SOURCES.md) packed by facesr-prepare --aligned: the JPEG files as they are, masks
#      from 68 landmarks, the crop rule measured against the HOG and Haar detectors' boxes, 5 % of the
#      images held out at random for validation (seed 1; no identity labels, so people overlap);
#   2. facesr-train in out/runs/default (ngf 8, residual heads, no discriminators, batches of 8 faces):
#      stage 1, 8,000 steps on sharp-input degradations (motion blur, defocus, bicubic 8x down), the
#      learning rate 2e-4 falling linearly over the last 3,000 (about 70 minutes of 2 idle cores);
#      stage 2, on to 14,000 steps with CCTV-like inputs too (sensor noise on 30 % of the 32x32
#      inputs, JPEG on 30 %), the rate restarting at 1e-4 and falling to 0 over those 6,000 steps
#      (about 70 minutes more); stage 3, on to 20,000 steps with half the inputs small faces too
#      (captured at 12-31 px and resized up to 32x32 with bicubic, as the element does with faces under
#      ~27 px), the rate restarting at 1e-4 and falling to 0 (about 60 minutes more).
#      Each resumes from the checkpoint: run the script again after a stop.
#      `quality`: ngf 16 in out/runs/quality (2.4x the time per face in fp32; 10.7 M parameters), the same
#      data and losses: stage 1 to step 3,031 at 2e-4 on sharp-input degradations, stage 2 to 8,000
#      with the CCTV-like inputs, the rate falling linearly to 0 over those 4,969 steps; stage 3 to
#      12,000, the rate restarting at 1e-4 and falling to 0 over those 4,000 steps (about 4 h 45 min
#      of 2 idle cores); stage 4 fine-tunes that model (exported as F16, out/runs/quality/stage3.safetensors)
#      in out/runs/quality-small with `--init`: 2,000 steps with half the inputs small faces, as the
#      default's stage 3, the rate 1e-4 falling to 0, fresh Adam (about 35 minutes more);
#   3. export as F16 to model/weights/facesr-<variant>.safetensors and evaluate it, fixed-seed protocol,
#      on the CelebA validation faces and on the 12 validation faces of the packaged photos (other
#      people, other cameras; prepared with the model's crop rule): eval-celeba.json,
#      eval-packaged.json, the sheets, curve.png.
#
# usage: training/train-default.sh [default|quality]   (BUILD_DIR picks the build)
# Environment: CELEBA_DIR (default ../shared/data/celeba-aligned), THREADS (default: all cores);
# OMP_WAIT_POLICY defaults to PASSIVE: with the default (spinning) OpenMP threads a step was 10x slower
# while anything else ran on the 2 cores.
# Stop it any time with Ctrl-C: the checkpoint is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
celeba_dir=${CELEBA_DIR:-../shared/data/celeba-aligned}
data_dir=out/data
variant=${1:-default}
die() { echo "train-default: $*" >&2; exit 1; }
[[ $variant == default || $variant == quality ]] || die "unknown model '$variant' (expected default or quality)"
run_dir=out/runs/$variant

scripts/install-deps.sh
[[ -f "$build_dir/build.ninja" ]] || meson setup "$build_dir"
meson compile -C "$build_dir" facesr-prepare facesr-train facesr-eval facesr-plot
[[ -d $celeba_dir ]] || die "$celeba_dir is missing: set CELEBA_DIR to the folder of aligned 256x256 CelebA faces"
mkdir -p "$data_dir" "$run_dir"

# ---- data -----------------------------------------------------------------------------------
dataset=$data_dir/celeba-aligned-v2.safetensors  # v2: with BlazeFace's crop rule
if [[ ! -f $dataset ]]; then
  # BlazeFace's crop rule is measured too when its model is there.
  scripts/fetch-detector-models.sh || echo "train-default: no BlazeFace model: its crop rule is not measured" >&2
  "$build_dir/training/facesr-prepare" --aligned --out "$dataset" --val 0.05 --seed 1 "$celeba_dir" \
    > "$data_dir/celeba-aligned-v2.summary.json"
fi

# ---- training -------------------------------------------------------------------------------
case $variant in
  default)
    ngf=8 stage1_steps=8000
    stage1=(--lr 2e-4 --lr-decay-steps 3000 --phase1-steps 8000 --seed 1)
    stage2=(--lr 1e-4 --lr-decay-steps 6000 --steps 14000 --phase1-steps 14000 --seed 2 --sensor-noise 0.3 --jpeg 0.3)
    stage2_steps=14000
    stage3=(--lr 1e-4 --lr-decay-steps 6000 --steps 20000 --phase1-steps 20000 --seed 5 --sensor-noise 0.3 --jpeg 0.3
            --small-faces 0.5) ;;
  quality)
    ngf=16 stage1_steps=3031
    stage1=(--lr 2e-4 --lr-decay-steps 0 --phase1-steps 8000 --seed 1)
    stage2=(--lr 2e-4 --lr-decay-steps 4900 --steps 8000 --phase1-steps 8000 --seed 3 --sensor-noise 0.3 --jpeg 0.3)
    stage2_steps=8000
    stage3=(--lr 1e-4 --lr-decay-steps 4000 --steps 12000 --phase1-steps 12000 --seed 4 --sensor-noise 0.3 --jpeg 0.3)
    finetune=(--lr 1e-4 --lr-decay-steps 2000 --steps 2000 --phase1-steps 2000 --seed 6 --sensor-noise 0.3 --jpeg 0.3
              --small-faces 0.5) ;;
esac
common=(--data "$dataset" --ngf $ngf --ndf 32 --residual --ablation model2 --augment full
        --batch 8 --checkpoint-every 250 --validate-every 1000 --sample-every 1000 --threads "${THREADS:-0}" --quiet)
train() {  # train DIR OPTIONS...: resumes from DIR's checkpoint when there is one
  local dir=$1 resume=()
  shift
  [[ -f $dir/checkpoint.pt ]] && resume=(--resume)
  set +e
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$build_dir/training/facesr-train" "${common[@]}" --out "$dir" "$@" "${resume[@]}"
  local rc=$?
  set -e
  [[ $rc == 130 ]] && { echo "train-default: stopped; run again to resume" >&2; exit 130; }
  [[ $rc == 0 ]] || exit $rc
}
step=0
[[ -f $run_dir/log.csv ]] && step=$(tail -n1 "$run_dir/log.csv" | cut -d, -f1)
[[ $step =~ ^[0-9]+$ && $step -ge $((stage1_steps - 1)) ]] || train "$run_dir" "${stage1[@]}" --steps $stage1_steps
[[ $step =~ ^[0-9]+$ && $step -ge $((stage2_steps - 1)) ]] || train "$run_dir" "${stage2[@]}"
train "$run_dir" "${stage3[@]}"
last=("$run_dir" "${stage3[@]}")
if [[ ${finetune+set} ]]; then
  base=$run_dir/stage3.safetensors
  [[ -f $base ]] || "$build_dir/training/facesr-train" "${common[@]}" --out "$run_dir" "${stage3[@]}" \
    --export "$base" --export-dtype F16
  train "$run_dir-small" "${finetune[@]}" --init "$base"
  last=("$run_dir-small" "${finetune[@]}" --init "$base")
fi

# ---- export and evaluation ------------------------------------------------------------------
model=model/weights/facesr-$variant.safetensors
"$build_dir/training/facesr-train" "${common[@]}" --out "${last[@]}" --export "$model" --export-dtype F16
"$build_dir/training/facesr-eval" --model "$model" --data "$dataset" --split validation \
  --json "${last[0]}/eval-celeba.json" --sheet "${last[0]}/sheet-celeba.png"
# The packaged photos' validation faces (the split of the earlier default model), cut by the model's
# crop rule, which facesr-prepare --aligned measured (the hog rule; the summary has it).
scripts/fetch-train-photos.sh "$data_dir/train-photos"
read -r side dx dy < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['crop_rule_measured']['hog']; \
print(r['side_scale'], r['center_dx'], r['center_dy'])" "$data_dir/celeba-aligned-v2.summary.json")
packaged=$data_dir/packaged-model-rule.safetensors
dlib=/usr/share/doc/libdlib19.1/examples
"$build_dir/training/facesr-prepare" --out "$packaged" --min-face 100 --val 0.15 --seed 1 \
  --crop-side-scale "$side" --crop-center-dx "$dx" --crop-center-dy "$dy" \
  "$dlib/faces" "$dlib/johns" "$data_dir/train-photos" > /dev/null
"$build_dir/training/facesr-eval" --model "$model" --data "$packaged" --split validation \
  --json "${last[0]}/eval-packaged.json" --sheet "${last[0]}/sheet-packaged.png"
"$build_dir/training/facesr-plot" "${last[0]}"
echo "train-default: wrote $model (figures in ${last[0]}/eval-celeba.json and eval-packaged.json, curve in ${last[0]}/curve.png)"
