#!/usr/bin/env bash
# The packaged "train" face photos of shared/data/SOURCES.md into DIR: face-api's sample1-4.jpg
# (npm package @vladmandic/face-api@1.7.15, MIT; sample5/6 are the demo's and stay out), fetched once
# with `npm pack` into DIR/../cache. dlib's example faces come with libdlib-dev (install-deps.sh).
# usage: scripts/fetch-train-photos.sh DIR
set -euo pipefail
dir=${1:?usage: scripts/fetch-train-photos.sh DIR}
cache=$(dirname "$dir")/cache
die() { echo "fetch-train-photos: $*" >&2; exit 1; }
mkdir -p "$dir" "$cache"
tarball=$cache/vladmandic-face-api-1.7.15.tgz
if [[ ! -s "$tarball" ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch @vladmandic/face-api@1.7.15 (Node.js with npm)"
  (cd "$cache" && npm pack --loglevel=error @vladmandic/face-api@1.7.15 >/dev/null) ||
    die "npm pack @vladmandic/face-api@1.7.15 failed (offline?)"
fi
tar -xzf "$tarball" -C "$dir" --strip-components=2 \
  package/demo/sample1.jpg package/demo/sample2.jpg package/demo/sample3.jpg package/demo/sample4.jpg
[[ -d /usr/share/doc/libdlib19.1/examples/faces ]] ||
  die "/usr/share/doc/libdlib19.1/examples/faces is missing: install libdlib-dev (scripts/install-deps.sh)"
