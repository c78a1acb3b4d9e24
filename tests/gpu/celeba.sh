#!/usr/bin/env bash
# Issue #16 on a lent GPU: train the generator on the CelebA faces there, and bring the weights back.
# The device tool sends at most 64 MiB per call, the checkout included (~28 MiB, two models), and brings
# back files of at most 16 MiB: the dataset travels gzipped (its masks shrink to nothing, its JPEGs
# by ~6 %: 165 MB -> ~120 MB) in parts over several calls (what a call leaves in ignored folders
# stays for the next one on the same warm machine: 4 calls in all), the weights come back in parts.
#
#   1. here:  tests/gpu/celeba.sh pack [DATASET]
#             gzips DATASET (default out/data/celeba-aligned-v2.safetensors, facesr-prepare --aligned;
#             with GPU_JPEG_QUALITY=Q its JPEGs are re-encoded first, facesr-prepare --repack: quality
#             70 makes it 3 calls, at a loss of 36.9 dB PSNR in the ground truth, so not by default),
#             fills .gpu-deps (collect-deps.sh -) and splits it into .gpu-data/p00, p01, ..., each
#             sized so that its call fits; prints the device calls to make, one after another (the
#             machine stays warm 30 s after a call):
#               carry [".gpu-data/p00"], command "ls -l .gpu-data/*"        (likewise p01, ...)
#               carry [".gpu-deps", ".gpu-data/pNN"] (the last part), timeout_s 600, command
#               "GPU_RUN_SECONDS=570 tests/gpu/celeba.sh train"
#   2. there: tests/gpu/celeba.sh train
#             builds facesr-train and facesr-eval against the machine's LibTorch (common.sh), joins
#             and unzips the parts (sha256 checked), probes the step time, trains for the time left (linear decay
#             of the rate to 0 at the last step, sized from the probe; the probe does not time the
#             validations, so a run can be stopped a few steps short: its checkpoint is exported as
#             it is), exports F16 and evaluates the
#             new model and its --init model on the validation faces (the CelebA figure of the
#             README's tables, unless the faces were re-encoded). $OUT gets
#             summary.txt, results.tar.gz (logs, log.csv, validation.csv, eval JSONs), the last sample
#             grid, the validation sheet, and the weights as ngfN.safetensors.part-00, -01 (<= 15 MiB).
#   3. here:  tests/gpu/celeba.sh unpack FILES_AT OUT.safetensors
#             joins the parts and checks them against the sha256 in summary.txt; then evaluate with
#             facesr-eval on the original (not re-encoded) faces as the README's tables are.
#
# Training (environment): GPU_TRAIN_NGF (16), GPU_INIT (model/weights/facesr-quality.safetensors:
# fine-tune the shipped ngf-16 model; "none": from scratch), GPU_BATCH (32), GPU_LR (2e-4), GPU_SEED
# (11), GPU_TRAIN_ARGS (default "--sensor-noise 0.3 --jpeg 0.3 --small-faces 0.5", the inputs of the
# shipped models' last stages). GPU_TRAIN_DEVICE (cuda) and GPU_PREBUILT=build make a dry run on the
# Debian machine: GPU_TRAIN_DEVICE=cpu GPU_PREBUILT=build GPU_RUN_SECONDS=150 tests/gpu/celeba.sh train
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-}
mib=$((1024 * 1024))

pack() {
  local dataset=${1:-out/data/celeba-aligned-v2.safetensors} quality=${GPU_JPEG_QUALITY:-}
  [[ -f $dataset ]] || { echo "celeba.sh: no $dataset: make it with facesr-prepare --aligned (training/train-default.sh does)" >&2; exit 1; }
  if [[ -n $quality ]]; then
    build/training/facesr-prepare --repack "$dataset" --jpeg-quality "$quality" --out "out/data/celeba-gpu-q$quality.safetensors" || exit 1
    dataset=out/data/celeba-gpu-q$quality.safetensors
  fi
  local packed=out/data/celeba-gpu.safetensors.gz
  gzip -9 -c "$dataset" > "$packed" || exit 1
  [[ -d .gpu-deps ]] || tests/gpu/collect-deps.sh - || exit 1
  grep -qx '/.gpu-data/' .git/info/exclude 2>/dev/null || echo '/.gpu-data/' >> .git/info/exclude
  # What travels in every call: tracked files and untracked files git does not ignore.
  local checkout deps limit=$((62 * mib))
  checkout=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 stat -c %s 2>/dev/null |
              awk '{s += $1} END {print s + 0}')
  deps=$(du -sb .gpu-deps | cut -f1)
  local first_cap=$((limit - checkout)) last_cap=$((limit - checkout - deps))
  ((last_cap > mib)) || { echo "celeba.sh: checkout ($checkout bytes) and .gpu-deps ($deps) leave no room" >&2; exit 1; }
  local size
  size=$(stat -c %s "$packed")
  rm -rf .gpu-data
  # The last part travels beside .gpu-deps (last_cap bytes at most), the ones before it alone.
  part() {  # part OFFSET BYTES: the next .gpu-data/pNN
    local dir
    dir=.gpu-data/p$(printf %02d $index)
    mkdir -p "$dir"
    tail -c +$(($1 + 1)) "$packed" | head -c "$2" > "$dir/celeba.part"
    index=$((index + 1))
  }
  local index=0 offset=0 head_bytes=$((size > last_cap ? size - last_cap : 0))
  for ((offset = 0; offset < head_bytes; offset += first_cap)); do
    part $offset $((head_bytes - offset < first_cap ? head_bytes - offset : first_cap))
  done
  part $head_bytes $((size - head_bytes))
  local last
  last=$(ls -d .gpu-data/p* | tail -1)
  sha256sum "$dataset" | cut -d' ' -f1 > "$last/celeba.sha256"
  echo "celeba.sh: $dataset, gzipped to $((size / mib)) MiB, in $index parts; checkout $((checkout / mib)) MiB, .gpu-deps $((deps / mib)) MiB"
  echo "device calls, one after another:"
  for dir in .gpu-data/p*; do
    if [[ $dir == "$last" ]]; then
      echo "  carry [\".gpu-deps\", \"$dir\"], timeout_s 600: GPU_RUN_SECONDS=570 tests/gpu/celeba.sh train"
    else
      echo "  carry [\"$dir\"]: ls -l .gpu-data/*"
    fi
  done
}

unpack() {
  local from=${1:?usage: celeba.sh unpack FILES_AT OUT.safetensors} out=${2:?usage: celeba.sh unpack FILES_AT OUT.safetensors}
  local parts=("$from"/ngf*.safetensors.part-*)
  [[ -f ${parts[0]} ]] || { echo "celeba.sh: no ngf*.safetensors.part-* in $from" >&2; exit 1; }
  cat "${parts[@]}" > "$out.tmp" || exit 1
  local want got
  want=$(sed -n "s/.*weights sha256: //p" "$from/summary.txt" | tail -1)
  got=$(sha256sum "$out.tmp" | cut -d' ' -f1)
  [[ -n $want && $want == "$got" ]] || { rm -f "$out.tmp"; echo "celeba.sh: the parts do not match summary.txt's sha256 ($want vs $got)" >&2; exit 1; }
  mv "$out.tmp" "$out"
  echo "celeba.sh: $out ($(stat -c %s "$out") bytes, sha256 $got)"
}

train() {
  build_targets="training/facesr-train training/facesr-eval"
  source tests/gpu/common.sh
  local device=${GPU_TRAIN_DEVICE:-cuda} ngf=${GPU_TRAIN_NGF:-16} batch=${GPU_BATCH:-32} lr=${GPU_LR:-2e-4}
  local seed=${GPU_SEED:-11} init=${GPU_INIT:-model/weights/facesr-quality.safetensors}
  local extra
  read -r -a extra <<< "${GPU_TRAIN_ARGS:---sensor-noise 0.3 --jpeg 0.3 --small-faces 0.5}"
  local init_args=()
  [[ $init == none ]] || init_args=(--init "$init")

  # ---- the dataset, joined from the parts the earlier calls left --------------------------------
  local data_dir=$root/build-gpu-data
  mkdir -p "$data_dir"
  local celeba=$data_dir/celeba.safetensors
  cat .gpu-data/p*/celeba.part 2>> "$logs/join.log" | gunzip > "$celeba" 2>> "$logs/join.log"
  local want got
  want=$(cat .gpu-data/p*/celeba.sha256 2>/dev/null | tail -1)
  got=$(sha256sum "$celeba" | cut -d' ' -f1)
  say "dataset: $(ls -d .gpu-data/p* 2>/dev/null | tr '\n' ' ')-> $(stat -c %s "$celeba") bytes, sha256 ${got:0:16} ($([[ $want == "$got" ]] && echo matches || echo "DOES NOT match ${want:0:16}: a part is missing; the machine went back between calls? send the parts again, one call after another"))"
  [[ $want == "$got" ]] || finish 1

  local train=$build/training/facesr-train eval=$build/training/facesr-eval
  [[ -x $train && -x $eval ]] || { say "facesr-train / facesr-eval not built"; finish 1; }
  local common=(--device "$device" --data "$celeba" --ngf "$ngf" --ndf 32 --residual --ablation model2 --augment full
                --batch "$batch" "${extra[@]}" "${init_args[@]}" --quiet)

  # ---- probe: seconds per step at this batch, data loading included --------------------------------
  local run=$root/build-gpu-run
  rm -rf "$run" "$run-probe"
  timeout 120 "$train" "${common[@]}" --out "$run-probe" --steps 12 --phase1-steps 12 --validate-every 0 \
    --checkpoint-every 0 --sample-every 0 > "$logs/train-probe.log" 2>&1
  local probe_rc=$? probe step_s
  probe=$(step_table "$run-probe/log.csv" "$batch" 2>&1)
  say "probe rc=$probe_rc: $probe"
  step_s=$(awk '/^training phase/ {print $7}' <<< "$probe")  # "... median S s/step ..."
  rm -rf "$run-probe"

  # ---- train for the time left, less export and evaluation (~60 s) ----------------------------------
  local seconds=$(( $(left) - 75 )) steps
  steps=$(python3 -c "print(max(10, int($seconds / ${step_s:-1} * 0.85)))")
  say "training ngf $ngf, batch $batch, lr $lr falling to 0, ${init_args[*]:-from scratch} ${extra[*]}: $steps steps in at most ${seconds}s (probe ${step_s:-?} s/step)"
  timeout -s INT "$seconds" "$train" "${common[@]}" --out "$run" --lr "$lr" --lr-decay-steps "$steps" --steps "$steps" \
    --phase1-steps "$steps" --seed "$seed" --validate-every $(( (steps + 3) / 4 )) --checkpoint-every "$steps" \
    --sample-every $(( (steps + 1) / 2 )) > "$logs/train.log" 2>&1
  say "facesr-train rc=$?: $(tail -1 "$logs/train.log")"
  step_table "$run/log.csv" "$batch" | tee -a "$OUT/summary.txt"
  cp "$run"/*.csv "$logs/" 2>/dev/null
  local last_sample
  last_sample=$(ls "$run"/samples/*.png 2>/dev/null | sort | tail -1)
  [[ -n $last_sample ]] && cp "$last_sample" "$OUT/ngf$ngf-training-samples.png"

  # ---- export (F16, from the last checkpoint), evaluate, split ---------------------------------------
  local model=$run/model-f16.safetensors
  if [[ -f $run/checkpoint.pt ]]; then
    "$train" "${common[@]}" --out "$run" --lr "$lr" --lr-decay-steps "$steps" --steps "$steps" --phase1-steps "$steps" \
      --export "$model" --export-dtype F16 >> "$logs/train.log" 2>&1
    say "export rc=$?"
  fi
  [[ -f $model ]] || { say "no model: training stopped before its checkpoint (see train.log)"; finish 1; }
  local spec name file
  local sheet=()
  for spec in "new:$model" "init:$init"; do
    IFS=: read -r name file <<< "$spec"
    [[ -f $file ]] || continue
    sheet=()
    [[ $name == new ]] && sheet=(--sheet "$OUT/ngf$ngf-validation-sheet.png")
    timeout 120 "$eval" --model "$file" --data "$celeba" --split validation --device "$device" \
      --json "$logs/eval-$name.json" "${sheet[@]}" > "$logs/eval-$name.txt" 2>&1
    say "eval $name ($file), validation faces, rc=$?: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); m=d['mean']; \
print(f\"{d['faces']} faces: {m['psnr_db']:.2f} dB / {m['ssim']:.3f}, bicubic {m['bicubic_psnr_db']:.2f} / {m['bicubic_ssim']:.3f}\")" \
      "$logs/eval-$name.json" 2>&1)"
  done
  split -b $((15 * mib)) -d "$model" "$OUT/ngf$ngf.safetensors.part-"
  say "weights sha256: $(sha256sum "$model" | cut -d' ' -f1)"
  say "weights: $(ls "$OUT"/ngf$ngf.safetensors.part-* | xargs -n1 basename | tr '\n' ' ')(join here: tests/gpu/celeba.sh unpack FILES_AT OUT.safetensors)"
  rm -rf "$run"
  finish 0
}

case $mode in
  pack) shift; pack "$@" ;;
  train) train ;;
  unpack) shift; unpack "$@" ;;
  *) echo "usage: tests/gpu/celeba.sh pack [DATASET] | train | unpack FILES_AT OUT.safetensors (see the top of this file)" >&2
     exit 2 ;;
esac
