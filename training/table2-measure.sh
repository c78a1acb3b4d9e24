#!/usr/bin/env bash
# Measures the rows training/train-table2.sh trained and writes the table: for the start model
# (model/weights/facesr-default.safetensors) and each row's OUT/ROW/model-f16.safetensors, facesr-eval
# --realism --identity on the 430 CelebA validation faces and on the 12 packaged faces (other people),
# the fixed-seed protocol (motion blur as the trainer's validation); bicubic is every run's own
# bicubic column. Writes OUT/ROW/eval-{celeba,packaged}.json, OUT/table2.md and
# OUT/sheet-{celeba,packaged}.png (the same faces from every model).
#
# usage: training/table2-measure.sh OUT [row ...]     (BUILD_DIR picks the build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
out=${1:?usage: table2-measure.sh OUT [row ...]}
shift
rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=(model1 model2 model3 ours ours-n)
dataset=out/data/celeba-aligned-v2.safetensors
packaged=out/data/packaged-model-rule.safetensors
start=model/weights/facesr-default.safetensors
identity=${FACESR_IDENTITY_MODEL:-out/models/face-api}
[[ -d $identity ]] || scripts/fetch-identity-model.sh "$identity"
[[ -f $packaged ]] ||
  echo "table2: $packaged is missing (EVALUATE_ONLY=1 training/train-scales.sh makes it); packaged rows skipped" >&2
meson compile -C "$build_dir" facesr-eval > /dev/null

models=("start:$start")
for row in "${rows[@]}"; do
  [[ -f $out/$row/model-f16.safetensors ]] && models+=("$row:$out/$row/model-f16.safetensors")
done
sets=(celeba)
[[ -f $packaged ]] && sets+=(packaged)
for entry in "${models[@]}"; do
  name=${entry%%:*} model=${entry#*:}
  mkdir -p "$out/$name"
  for set in "${sets[@]}"; do
    data=$dataset
    [[ $set == packaged ]] && data=$packaged
    json=$out/$name/eval-$set.json
    [[ -f $json && $json -nt $model ]] && continue
    echo "table2: $name on $set" >&2
    "$build_dir/training/facesr-eval" --model "$model" --data "$data" --split validation --realism \
      --identity "$identity" --json "$json" > "$out/$name/eval-$set.txt"
  done
done

for set in "${sets[@]}"; do  # one sheet: input | bicubic | start | rows... | truth
  data=$dataset
  [[ $set == packaged ]] && data=$packaged
  with=()
  for entry in "${models[@]:1}"; do with+=(--sheet-with "${entry#*:}"); done
  "$build_dir/training/facesr-eval" --model "$start" --data "$data" --split validation --sheet "$out/sheet-$set.png" \
    --sheet-faces 6 "${with[@]}" > "$out/sheet-$set.txt"
done

python3 - "$out" "${models[@]}" > "$out/table2.md" <<'EOF'
import json, os, sys
out, entries = sys.argv[1], sys.argv[2:]
names = [e.split(":", 1)[0] for e in entries]
cols = ["PSNR dB", "SSIM", "BRISQUE", "desc. Frechet", "identity dist.", "verified", "landmark dist.", "sharpness"]
def row(label, j, bicubic=False):
    r, i, m = j["realism"], j["identity"], j["mean"]
    p = "bicubic_" if bicubic else ""
    return [label, "%.2f" % m[p + "psnr_db"], "%.4f" % m[p + "ssim"], "%.1f" % r[p + "brisque"],
            "%.4f" % i[p + "descriptor_frechet"], "%.3f" % i[p + "distance"], "%.0f %%" % (100 * i[p + "verified"]),
            "%.4f" % r[p + "landmark_distance"], "%.3f" % r[p + "sharpness"]]
for s, title in (("celeba", "430 CelebA validation faces"), ("packaged", "12 packaged faces (other people)")):
    loaded = [(n, os.path.join(out, n, "eval-%s.json" % s)) for n in names]
    loaded = [(n, json.load(open(p))) for n, p in loaded if os.path.exists(p)]
    if not loaded:
        continue
    first = loaded[0][1]
    print("### %s (%s)\n" % (title, first["protocol"]))
    print("| model | " + " | ".join(cols) + " |")
    print("|---|" + "--:|" * len(cols))
    print("| " + " | ".join(row("bicubic", first, True)) + " |")
    for n, j in loaded:
        print("| " + " | ".join(row(n, j)) + " |")
    print("| ground truth | | | %.1f | 0 | 0 | 100 %% | 0 | 1.000 |\n" % first["realism"]["truth_brisque"])
EOF
cat "$out/table2.md"
