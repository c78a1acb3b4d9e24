#!/usr/bin/env bash
# Subpixel heads against 3x3-conv heads (generator.h, HeadMode) at an equal training budget, on a GPU
# machine: generator ngf GPU_HEADS_NGF (default 16) with transposed upsampling, the default model's
# recipe otherwise (residual heads, full augmentation, ndf 32), batch 64, the two runs side by side on
# the one GPU for the same time. Each is evaluated on the validation faces (CUDA, fp32) and exported
# as F16 (ngf 16: 11 MB, small enough to come back) into $OUT with its validation sheet.
#
# Prepare here first (Debian 12): tests/gpu/collect-deps.sh   (fills .gpu-deps/, ignored by git)
# Then on the GPU machine, from the repository root, with .gpu-deps carried:
#   OUT=/some/folder GPU_RUN_SECONDS=330 tests/gpu/heads.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
build_targets="training/facesr-train training/facesr-eval"
source tests/gpu/common.sh
ngf=${GPU_HEADS_NGF:-16}
train=$build/training/facesr-train
eval=$build/training/facesr-eval
[[ -x $train && -x $eval ]] || { say "facesr-train or facesr-eval not built"; finish 1; }
heads=(conv3x3 subpixel)
args_of() {  # heads
  echo --device cuda --data "$data" --ngf "$ngf" --upsample transposed --heads "$1" --residual --augment full --ndf 32 \
    --batch 64 --threads 8 --quiet
}

# A 12-step probe of each, side by side (phase 2, the dearer one), sizes both runs to the time left.
for h in "${heads[@]}"; do
  rm -rf "$root/build-gpu-probe-$h"
  # shellcheck disable=SC2046
  timeout 120 "$train" $(args_of "$h") --out "$root/build-gpu-probe-$h" --steps 12 --phase1-steps 0 \
    --validate-every 0 --checkpoint-every 0 --sample-every 0 > "$logs/probe-$h.log" 2>&1 &
done
wait
step_s=0
for h in "${heads[@]}"; do
  probe=$(step_table "$root/build-gpu-probe-$h/log.csv" 64 2>&1)
  say "probe $h: $probe"
  s=$(awk '/^training phase/ {print $7}' <<< "$probe")
  step_s=$(python3 -c "print(max($step_s, ${s:-0.5}))")
  rm -rf "$root/build-gpu-probe-$h"
done
seconds=$(( $(left) - 70 ))
steps=$(python3 -c "print(max(20, int($seconds / $step_s * 0.85)))")
phase1=$(( steps * 65 / 100 ))
say "training ngf $ngf transposed, heads ${heads[*]} side by side: $steps steps (phase 1 $phase1), at most ${seconds}s"
for h in "${heads[@]}"; do
  run=$root/build-gpu-heads-$h
  rm -rf "$run"
  # shellcheck disable=SC2046
  timeout -s TERM "$seconds" "$train" $(args_of "$h") --out "$run" --steps "$steps" --phase1-steps "$phase1" \
    --validate-every $(( steps / 4 )) --checkpoint-every "$steps" --sample-every 0 --seed 1 > "$logs/train-$h.log" 2>&1 &
done
wait
for h in "${heads[@]}"; do
  run=$root/build-gpu-heads-$h
  say "train $h: $(tail -1 "$logs/train-$h.log")"
  step_table "$run/log.csv" 64 | sed "s/^/$h /" | tee -a "$OUT/summary.txt"
  cp "$run/validation.csv" "$logs/validation-$h.csv" 2>/dev/null
  # shellcheck disable=SC2046
  "$train" $(args_of "$h") --out "$run" --export "$OUT/ngf$ngf-$h.safetensors" --export-dtype F16 >> "$logs/train-$h.log" 2>&1
  say "export $h rc=$?"
  timeout 60 "$eval" --model "$OUT/ngf$ngf-$h.safetensors" --data "$data" --split validation --device cuda \
    --precision fp32 --json "$logs/eval-$h.json" --sheet "$OUT/ngf$ngf-$h-sheet.png" > "$logs/eval-$h.txt" 2>&1
  say "eval $h rc=$?: $(grep -m1 '^  mean' "$logs/eval-$h.txt")"
  rm -rf "$run"
done
finish 0
