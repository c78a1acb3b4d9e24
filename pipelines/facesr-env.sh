#!/usr/bin/env bash
# Shared set-up for the pipeline scripts in this folder (sourced, not run).
#
# From the build tree: the scripts set GST_PLUGIN_PATH to $FACESR_BUILD_DIR/gst-plugin (default:
# build/gst-plugin of this checkout) when libgstfacesr.so is there; otherwise they use the facesr
# installed by `meson install` (or whatever GST_PLUGIN_PATH already names). By hand:
#   GST_PLUGIN_PATH=$PWD/build/gst-plugin gst-inspect-1.0 facesr
# FACESR_MODEL=<file.safetensors> picks the model (default: the element's, the installed default model).

facesr_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
facesr_build=${FACESR_BUILD_DIR:-$facesr_repo/build}
if [[ -f "$facesr_build/gst-plugin/libgstfacesr.so" ]]; then
  export GST_PLUGIN_PATH="$facesr_build/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi

# LibTorch's OpenMP threads sleep instead of spinning while they wait, so the decoder and encoder
# threads of the same pipeline get the cores (on 2 cores, spinning threads made a LibTorch job 10x
# slower next to other work). Set OMP_WAIT_POLICY yourself to override.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# facesr_require ELEMENT [PACKAGE]...: stops with what to install when an element is missing.
facesr_require() {
  command -v gst-launch-1.0 >/dev/null || die "gst-launch-1.0 not found: install gstreamer1.0-tools"
  if ! gst-inspect-1.0 facesr >/dev/null 2>&1; then
    die "the facesr element was not found. Build it (meson setup build && ninja -C build), set FACESR_BUILD_DIR to your build directory, or meson install it."
  fi
  while [[ $# -gt 0 ]]; do
    gst-inspect-1.0 "$1" >/dev/null 2>&1 || die "GStreamer element '$1' is missing: install $2"
    shift 2
  done
}

# The facesr element with the model (FACESR_MODEL) and the extra properties given as arguments.
facesr_element() {
  local element="facesr"
  if [[ -n "${FACESR_MODEL:-}" ]]; then
    [[ -r "$FACESR_MODEL" ]] || die "FACESR_MODEL=$FACESR_MODEL is not a readable file"
    element+=" model=$FACESR_MODEL"
  fi
  local prop
  for prop in "$@"; do
    [[ "$prop" == *=* ]] || die "'$prop' is not a facesr property setting (name=value; see gst-inspect-1.0 facesr)"
    element+=" $prop"
  done
  echo "$element"
}
