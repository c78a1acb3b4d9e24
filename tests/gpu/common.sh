# Shared by the GPU scripts (run.sh, heads.sh), sourced from the repository root after
# `set -uo pipefail`: $OUT and its logs/, the time budget (GPU_RUN_SECONDS) with say/left/finish,
# the machine's description, the dependencies carried in .gpu-deps, and a build of facesr against
# the machine's PyTorch LibTorch in build-gpu (all targets, or $build_targets). Defines step_table.
root=$PWD
OUT=${OUT:-$root/out/gpu}
mkdir -p "$OUT"
logs=$OUT/logs
mkdir -p "$logs"
budget=${GPU_RUN_SECONDS:-540}
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
torch_dir=${TORCH_DIR:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)/Torch}
torch_root=${TORCH_ROOT:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)}
std=c++17
grep -qs 'C++20 or later' "$torch_root/include/ATen/ATen.h" "$torch_root/include/torch/all.h" && std=c++20

# ---- build -----------------------------------------------------------------------------------------
# GPU_PREBUILT=DIR: use that build instead (a dry run of a script on the Debian machine, CPU only).
build=${GPU_PREBUILT:-$root/build-gpu}
if [[ -n ${GPU_PREBUILT:-} ]]; then
  say "prebuilt: $build (no configure, no build)"
else
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
  timeout $(( $(left) - 120 )) ninja -C "$build" -k 0 ${build_targets:-} > "$logs/build.log" 2>&1
  say "build rc=$? ($(grep -c 'FAILED' "$logs/build.log") failed)"
  grep -B2 -A12 'FAILED' "$logs/build.log" | grep -m 40 -E 'error|FAILED' | tee -a "$OUT/summary.txt"
fi

data=$deps/data/faces.safetensors
default_model=$root/model/weights/facesr-default.safetensors


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

