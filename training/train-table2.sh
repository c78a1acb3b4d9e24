#!/usr/bin/env bash
# The paper's Table 2 at this scale: the ablations and the adversarial method trained for the same steps
# from one common start, then measured on the same faces.
#   start:  model/weights/facesr-default.safetensors (the shipped 8x model, ngf 8, trained with pixel
#           losses only); every row is a fine-tune of it (--init), same seed, so the same batches, flips
#           and degradations (the default's last stage: motion blur, sensor noise on 30 %, JPEG on 30 %,
#           half the faces captured at 12-31 px and resized up); fresh Adam and discriminators (ndf 16).
#   rows:   model1  ours with a bicubic upsampler in place of the learned one (the file's U-Net and decoders)
#           model2  no discriminators (L_pix only)
#           model3  global D only (+ its feature matching)
#           ours    global D from step 0, local D from STEPS/2 (LSGAN), lambda_pix 100, feature matching
#                   (lambda_fm 10) in place of the VGG-19 term, which cannot be had here
#           ours-n  ours with noise (strength NOISE) after every conv of G while training ("w/ N")
#   then:   each exported as F16 and measured by facesr-eval (PSNR, SSIM, BRISQUE, the Frechet distance
#           on face-descriptor features, identity, landmark distance, sharpness) on the 430 CelebA
#           validation faces and the 12 packaged faces, and written as one table (table2.md) and one
#           sheet per set (the same faces from each model).
#
# usage: training/train-table2.sh [row ...]     (default: all five; BUILD_DIR picks the build)
# Environment: STEPS (default 1200), NOISE (default 0.1), THREADS, EVALUATE_ONLY=1 (measure what is
# trained), OUT (default out/runs/table2). A run stopped part-way resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
steps=${STEPS:-1200}
noise=${NOISE:-0.1}
out=${OUT:-out/runs/table2}
rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=(model1 model2 model3 ours ours-n)
die() { echo "train-table2: $*" >&2; exit 1; }
dataset=out/data/celeba-aligned-v2.safetensors
packaged=out/data/packaged-model-rule.safetensors
init=model/weights/facesr-default.safetensors
[[ -f $dataset ]] || die "$dataset is missing: run training/train-default.sh's data step (or train-scales.sh) first"

row_args() {  # row_args ROW: the facesr-train options of one row
  case $1 in
    model1) echo --ablation model1 ;;
    model2) echo --ablation model2 ;;
    model3) echo --ablation model3 ;;
    ours) echo ;;
    ours-n) echo --noise "$noise" ;;
    *) die "unknown row '$1' (model1 model2 model3 ours ours-n)" ;;
  esac
}

train_row() {  # train_row ROW: trains (or resumes) and exports out/ROW/model-f16.safetensors
  local row=$1 dir=$out/$1 resume=()
  mkdir -p "$dir"
  [[ -f $dir/checkpoint.pt ]] && resume=(--resume)
  # shellcheck disable=SC2207
  local extra=($(row_args "$row"))
  local args=(--data "$dataset" --init "$init" --ndf 16 --augment full --batch 8 --lr 1e-4
              --lr-decay-steps $((steps / 2)) --steps "$steps" --phase1-steps $((steps / 2)) --seed 21
              --sensor-noise 0.3 --jpeg 0.3 --small-faces 0.5 --checkpoint-every 100 --validate-every 0
              --sample-every $((steps / 2)) --threads "${THREADS:-0}" --quiet --out "$dir" "${extra[@]}")
  set +e
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$build_dir/training/facesr-train" "${args[@]}" "${resume[@]}" \
    2>> "$dir/train.log"
  local rc=$?
  set -e
  [[ $rc == 130 ]] && { echo "train-table2: $row stopped; run again to resume" >&2; return 130; }
  [[ $rc == 0 ]] || die "$row failed (rc $rc; $dir/train.log)"
  "$build_dir/training/facesr-train" "${args[@]}" --export "$dir/model-f16.safetensors" --export-dtype F16 > /dev/null
}

if [[ ${EVALUATE_ONLY:-0} != 1 ]]; then
  meson compile -C "$build_dir" facesr-train facesr-eval > /dev/null
  for row in "${rows[@]}"; do
    [[ -f $out/$row/model-f16.safetensors ]] || train_row "$row"
  done
fi
exec training/table2-measure.sh "$out" "${rows[@]}"
