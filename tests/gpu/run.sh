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
root=$PWD
OUT=${OUT:-$root/out/gpu}
mkdir -p "$OUT"
logs=$OUT/logs
mkdir -p "$logs"
budget=${GPU_RUN_SECONDS:-540}
ngf=${GPU_TRAIN_NGF:-64}
read -r -a extra_train_args <<< "${GPU_TRAIN_ARGS:-}"
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
left() { echo $(( budget - $(elapsed) )); }
say() { echo "[$(elapsed)s] $*" | tee -a "$OUT/summary.txt"; }
finish() {  # the device tool brings back at most 8 files: the logs travel as one archive
  tar -czf "$OUT/results.tar.gz" -C "$OUT" logs 2>/dev/null && rm -rf "$logs"
  say "done; logs in results.tar.gz"
  exit "${1:-0}"
}

# ---- the machine ---------------------------------------------------------------------------------
pybin=$(dirname "$(python3 -c 'import sys; print(sys.executable)')")
export PATH="$pybin:$PATH"
command -v meson > /dev/null || meson() { python3 -m mesonbuild.mesonmain "$@"; }
[[ -d /usr/local/cuda/bin ]] && export PATH="$PATH:/usr/local/cuda/bin" CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
  g++ --version | head -1; meson --version; ninja --version; cmake --version | head -1
  echo "cores $(nproc)"; command -v pkg-config || echo "no pkg-config: using .gpu-deps/bin"
} > "$logs/machine.txt" 2>&1
cat "$logs/machine.txt" >> "$OUT/summary.txt"

deps=$root/.gpu-deps
[[ -d $deps ]] || { say "no .gpu-deps: run tests/gpu/collect-deps.sh on the Debian machine and carry .gpu-deps"; finish 1; }
pcdir=$root/build-gpu-pkgconfig  # the .pc templates with this checkout's path filled in
rm -rf "$pcdir"; mkdir -p "$pcdir"
for f in "$deps"/lib/pkgconfig/*.pc; do sed "s|@PREFIX@|$deps|" "$f" > "$pcdir/$(basename "$f")"; done
command -v pkg-config >/dev/null || export PATH="$PATH:$deps/bin"
export PKG_CONFIG_PATH=$pcdir
torch_dir=${TORCH_DIR:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch}
torch_root=${TORCH_ROOT:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
std=c++17
grep -qs 'C++20 or later' "$torch_root/include/ATen/ATen.h" "$torch_root/include/torch/all.h" && std=c++20

# ---- build -----------------------------------------------------------------------------------------
build=$root/build-gpu
configured=""
for try_std in $std c++20; do
  say "configure (cpp_std=$try_std, torch_dir=$torch_dir)"
  rm -rf "$build"
  if meson setup "$build" -Dbuildtype=release -Dcpp_std=$try_std -Dtorch_dir="$torch_dir" \
       -Dcuda=${FACESR_CUDA:-enabled} -Dgst-plugin=disabled -Dfacedetect=disabled -Dtraining-tools=enabled \
       -Dtests=enabled -Dbenchmarks=auto > "$logs/setup-$try_std.log" 2>&1; then
    configured=$try_std; cp "$logs/setup-$try_std.log" "$logs/setup.log"; break
  fi
  tail -15 "$logs/setup-$try_std.log" | tee -a "$OUT/summary.txt"
done
[[ -n $configured ]] || finish 1
grep -A8 '^facesr' "$logs/setup.log" | tee -a "$OUT/summary.txt"
timeout $(( $(left) - 120 )) ninja -C "$build" -k 0 > "$logs/build.log" 2>&1
say "build rc=$? ($(grep -c 'FAILED' "$logs/build.log") failed)"
grep -B2 -A12 'FAILED' "$logs/build.log" | grep -m 40 -E 'error|FAILED' | tee -a "$OUT/summary.txt"

data=$deps/data/faces.safetensors
default_model=$root/model/weights/facesr-default.safetensors

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

# Median seconds per step of a facesr-train run's log.csv, per phase (1: G + D_g, 2: + D_l), warm-up
# steps left out, as images/s at its batch.
step_table() {  # log.csv batch
  python3 - "$1" "$2" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))[2:]
batch = int(sys.argv[2])
for phase in sorted({r["phase"] for r in rows}):
    s = [float(r["seconds"]) for r in rows if r["phase"] == phase]
    m = statistics.median(s)
    print(f"training phase {phase}: {len(s)} steps, median {m:.3f} s/step = {batch / m:.1f} images/s")
PY
}

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
