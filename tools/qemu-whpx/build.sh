#!/bin/sh
# Build Debian 12's QEMU 7.2 with only the WHPX accelerator, on openwhp (issue 15).
# usage: build.sh PREFIX SRC OUT
#   PREFIX  an openwhp install prefix (cmake --install build --prefix PREFIX)
#   SRC     the QEMU source tree (apt-get source qemu); the patch next to this script is applied
#           to it once (it touches meson.build files only)
#   OUT     the build directory; OUT/qemu-system-x86_64 is the result, OUT/build-time the time
set -eu

[ $# -eq 3 ] || { echo "usage: $0 PREFIX SRC OUT" >&2; exit 2; }
PREFIX=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
mkdir -p "$3"
OUT=$(cd "$3" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PATCH=$HERE/qemu-7.2-whpx-linux.patch

PC=
for d in "$PREFIX"/lib/pkgconfig "$PREFIX"/lib/*/pkgconfig "$PREFIX"/lib64/pkgconfig; do
    [ -f "$d/winhvplatform-win32.pc" ] && PC=$d
done
[ -n "$PC" ] || { echo "no winhvplatform-win32.pc under $PREFIX" >&2; exit 1; }
export PKG_CONFIG_PATH="$PC${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

if patch -d "$SRC" -p1 -R --dry-run -s -f <"$PATCH" >/dev/null 2>&1; then
    echo "patch already applied"
else
    patch -d "$SRC" -p1 -s -f <"$PATCH"
fi

# The libraries are found at run time through DT_RPATH, which (unlike RUNPATH) also serves
# libopenwhp-win32's own dependency on libwinhvplatform; so the result runs from OUT.
LIBDIR=$(realpath "$(pkg-config --variable=libdir winhvplatform-win32)")
cd "$OUT"
start=$(date +%s)
"$SRC"/configure --target-list=x86_64-softmmu --without-default-features \
    --disable-tcg --disable-kvm --enable-whpx --disable-werror \
    --extra-ldflags="-Wl,--disable-new-dtags,-rpath,$LIBDIR"
ninja qemu-system-x86_64
end=$(date +%s)
echo "$((end - start)) s (configure + ninja qemu-system-x86_64, $(nproc) CPUs)" | tee build-time
