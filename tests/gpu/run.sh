#!/usr/bin/env bash
# Issue #8 in one call on a GPU machine that has PyTorch (its LibTorch) and nothing from Debian:
#   build model/ + the trainer + the model tests against that LibTorch with CUDA linked; run the CUDA
#   tests, then the whole model suite; bench-gpu (generator ngf 16/64 at batch 1/8/64 in fp32/bf16/
#   fp16, the engine, degradation on the GPU); train ngf GPU_TRAIN_NGF (default 64, the paper's),
#   batch 64 on the packed faces for the time left (its log.csv gives training images/s per phase);
#   evaluate it and the CPU default model on the validation faces. A trained model small enough for
#   the device tool (<= 15 MB: ngf 8 or 16) comes back as $OUT/ngfN.safetensors.
# Everything lands in $OUT (summary.txt, results.tar.gz with every log, the sample grid).
#
# Prepare here first (Debian 12): tests/gpu/collect-deps.sh   (fills .gpu-deps/, ignored by git)
# Then on the GPU machine, from the repository root, with .gpu-deps carried:
#   OUT=/some/folder GPU_RUN_SECONDS=540 [GPU_TRAIN_NGF=8] [GPU_TRAIN_ARGS="--ndf 32"] tests/gpu/run.sh
# GPU_TRAIN_ARGS: more facesr-train options for the probe and the run (the default model's recipe
# has --ndf 32, training/train-default.sh).
# Each stage gets what is left of GPU_RUN_SECONDS; training takes the rest minus what evaluation needs.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/gpu/common.sh
ngf=${GPU_TRAIN_NGF:-64}
read -r -a extra_train_args <<< "${GPU_TRAIN_ARGS:-}"

# ---- CUDA tests first ----------------------------------------------------------------------------
for t in test-engine test-generator test-degradation; do
  [[ -x $build/tests/$t ]] || { say "$t not built"; continue; }
  timeout 120 "$build/tests/$t" --gtest_filter='*Cuda*:*CUDA*' > "$logs/$t-cuda.log" 2>&1
  say "$t CUDA tests rc=$?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$logs/$t-cuda.log" | tr '\n' ' ')"
done

# ---- bench-gpu -------------------------------------------------------------------------------------
if [[ -x $build/tests/bench/bench-gpu ]]; then
  timeout $(( $(left) / 4 )) "$build/tests/bench/bench-gpu" "$data" "$default_model" \
    > "$logs/bench-gpu.txt" 2> "$logs/bench-gpu.err"
  say "bench-gpu rc=$?"
  cat "$logs/bench-gpu.txt" >> "$OUT/summary.txt"
  tail -3 "$logs/bench-gpu.err" >> "$OUT/summary.txt"
fi

# ---- the whole model suite on the CPU cores, while the GPU trains ----------------------------------
(cd "$build" && timeout $(( $(left) - 60 )) meson test --suite model --suite training --no-rebuild \
  > "$logs/meson-test.log" 2>&1; echo "rc=$?" >> "$logs/meson-test.log") &
tests_pid=$!

# ---- train ngf $ngf -------------------------------------------------------------------------------
train=$build/training/facesr-train
run=$root/build-gpu-run  # checkpoints (ngf 64: ~1 GB) stay out of $OUT
rm -rf "$run"
seconds=$(( $(left) - 75 ))
if [[ -x $train && $seconds -ge 60 ]]; then
  # A 12-step probe with both discriminators (the dearer phase) sizes the run to the time left.
  timeout 120 "$train" --device cuda --data "$data" --out "$run-probe" --ngf "$ngf" --batch 64 --residual --steps 12 "${extra_train_args[@]}" \
    --phase1-steps 0 --validate-every 0 --checkpoint-every 0 --sample-every 0 --quiet > "$logs/train-probe.log" 2>&1
  probe_rc=$?
  probe=$(step_table "$run-probe/log.csv" 64 2>&1)
  say "probe rc=$probe_rc: $probe"
  step_s=$(awk '/^training phase/ {print $7}' <<< "$probe")  # its one line: "... median S s/step ..."
  rm -rf "$run-probe"
  seconds=$(( $(left) - 75 ))
  steps=$(python3 -c "print(max(20, int($seconds / ${step_s:-0.5} * 0.8)))")
  phase1=$(( steps * 65 / 100 ))
  say "training ngf $ngf, batch 64 ${GPU_TRAIN_ARGS:-}: $steps steps (phase 1 $phase1) in at most ${seconds}s"
  timeout -s TERM "$seconds" "$train" --device cuda --data "$data" --out "$run" --ngf "$ngf" --batch 64 --residual --augment full \
    --blur-max 40 --steps "$steps" --phase1-steps "$phase1" --validate-every $(( steps / 4 )) \
    --checkpoint-every "$steps" --sample-every $(( steps / 2 )) "${extra_train_args[@]}" --quiet > "$logs/train.log" 2>&1
  rc=$?
  say "facesr-train rc=$rc: $(tail -1 "$logs/train.log")"
  step_table "$run/log.csv" 64 | tee -a "$OUT/summary.txt"
  if [[ ! -f $run/model.safetensors && -f $run/checkpoint.pt ]]; then
    "$train" --data "$data" --out "$run" --ngf "$ngf" --batch 64 --residual "${extra_train_args[@]}" --export "$run/model.safetensors" \
      >> "$logs/train.log" 2>&1
    say "exported after the stop: rc=$?"
  fi
  last_sample=$(ls "$run"/samples/*.png 2>/dev/null | sort | tail -1)
  [[ -n $last_sample ]] && cp "$last_sample" "$OUT/ngf$ngf-training-samples.png"
  cp "$run"/*.csv "$logs/" 2>/dev/null
else
  say "no training: facesr-train not built or ${seconds}s left"
fi

# ---- evaluate: the new model on the GPU, the CPU default model on the GPU in each precision ---------
eval=$build/training/facesr-eval
if [[ -x $eval ]]; then
  for spec in "ngf$ngf:$run/model.safetensors:fp32" "default:$default_model:fp32" "default:$default_model:fp16" \
              "default:$default_model:bf16"; do
    IFS=: read -r name model precision <<< "$spec"
    [[ -f $model ]] || { say "eval $name: no model"; continue; }
    timeout 60 "$eval" --model "$model" --data "$data" --split validation --device cuda --precision "$precision" \
      --json "$logs/eval-$name-$precision.json" > "$logs/eval-$name-$precision.txt" 2>&1
    say "eval $name $precision rc=$?: $(tail -2 "$logs/eval-$name-$precision.txt" | tr '\n' ' ')"
  done
  [[ -f $run/model.safetensors ]] && "$eval" --model "$run/model.safetensors" --data "$data" --split validation \
    --device cuda --sheet "$OUT/ngf$ngf-validation-sheet.png" > /dev/null 2>&1
fi
if [[ -f $run/model.safetensors && $(stat -c %s "$run/model.safetensors") -le 15000000 ]]; then
  cp "$run/model.safetensors" "$OUT/ngf$ngf.safetensors"
  say "brought back: ngf$ngf.safetensors"
fi
rm -rf "$run"  # larger weights (ngf 64: 350 MB) are more than the device tool brings back

wait $tests_pid
say "model + training suites: $(grep -E '^(Ok|Fail|Skipped|Timeout):' "$logs/meson-test.log" | tr -s ' ' | tr '\n' ' ') $(tail -1 "$logs/meson-test.log")"
cp "$build/meson-logs/testlog.txt" "$logs/" 2>/dev/null
finish 0
