#!/usr/bin/env bash
# Run HERE (Debian 12, after scripts/install-deps.sh), before tests/gpu/run.sh goes to a GPU machine
# that has PyTorch but none of Debian's -dev packages and no network: copies what the model, the
# trainer and the model tests need besides LibTorch into .gpu-deps/ (ignored by git, carried by the
# device tool): nlohmann-json, CLI11, stb and gtest (headers and static libraries), pkgconf, and the
# packed training faces. pkg-config files are written with a @PREFIX@ that run.sh fills in there.
#
# usage: tests/gpu/collect-deps.sh [DATASET]   (default out/data/faces-default.safetensors; "-": none,
#        for tests/gpu/celeba.sh, whose data travels in .gpu-data)
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=${1:-out/data/faces-default.safetensors}
[[ $dataset == - || -f "$dataset" ]] || { echo "collect-deps: no dataset at $dataset (pipelines/demo.sh or facesr-prepare makes one)" >&2; exit 1; }
grep -qx '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >> .git/info/exclude

d=.gpu-deps
rm -rf "$d"
mkdir -p "$d/include" "$d/lib/pkgconfig" "$d/bin" "$d/data"
cp -r /usr/include/nlohmann /usr/include/CLI /usr/include/stb /usr/include/gtest "$d/include/"
cp /usr/lib/x86_64-linux-gnu/libgtest.a /usr/lib/x86_64-linux-gnu/libgtest_main.a \
   /usr/lib/x86_64-linux-gnu/libstb.a "$d/lib/"
cp "$(readlink -f /usr/bin/pkgconf)" "$d/bin/pkgconf"
cp "$(readlink -f /lib/x86_64-linux-gnu/libpkgconf.so.3)" "$d/lib/libpkgconf.so.3"
cat > "$d/bin/pkg-config" <<'SH'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH="$here/../lib" exec "$here/pkgconf" "$@"
SH
chmod +x "$d/bin/pkg-config"

pc() {  # name version cflags libs
  printf 'prefix=@PREFIX@\nName: %s\nDescription: %s (copied from Debian 12)\nVersion: %s\nCflags: %s\nLibs: %s\n' \
    "$1" "$1" "$2" "$3" "$4" > "$d/lib/pkgconfig/$1.pc"
}
pc nlohmann_json "$(pkg-config --modversion nlohmann_json)" '-I${prefix}/include' ''
pc CLI11 "$(pkg-config --modversion CLI11)" '-I${prefix}/include' ''
pc stb "$(pkg-config --modversion stb)" '-I${prefix}/include/stb' '-L${prefix}/lib -l:libstb.a'
pc gtest "$(pkg-config --modversion gtest)" '-I${prefix}/include -DGTEST_HAS_PTHREAD=1' '-L${prefix}/lib -l:libgtest.a -lpthread'
pc gtest_main "$(pkg-config --modversion gtest_main)" '-I${prefix}/include -DGTEST_HAS_PTHREAD=1' '-L${prefix}/lib -l:libgtest_main.a -l:libgtest.a -lpthread'
[[ $dataset == - ]] || cp "$dataset" "$d/data/faces.safetensors"
du -sh "$d"
