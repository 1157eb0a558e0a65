#!/usr/bin/env bash
# CI: builds the examples against an installed openwhp only (its pkg-config files, headers and
# libraries under <prefix>): examples/hello.c, each installed device header on its own, a program
# linked with the static libraries, and examples/vsock_echo; runs hello and vsock_echo when
# /dev/kvm is usable. Run it after `cmake --install build --prefix <prefix>`:
#   tools/ci_examples.sh <prefix>
set -euo pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 <install prefix>" >&2
    exit 2
fi
prefix=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
# The prefix's .pc files and no others (PKG_CONFIG_LIBDIR replaces the system's search path).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
export PKG_CONFIG_LIBDIR="$PKG_CONFIG_PATH"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cflags=(-std=c11 -Wall -Wextra -Werror)
rpath=(-Wl,-rpath,"$prefix/lib" -Wl,-rpath,"$prefix/lib/x86_64-linux-gnu")
read -ra whp_flags <<<"$(pkg-config --cflags --libs winhvplatform)"
read -ra devices_cflags <<<"$(pkg-config --cflags openwhp-devices)"
read -ra devices_libdirs <<<"$(pkg-config --libs-only-L openwhp-devices)"

echo "== examples/hello.c"
cc "${cflags[@]}" examples/hello.c "${whp_flags[@]}" "${rpath[@]}" -o "$out/hello"

echo "== installed device headers, each on its own"
includedir=$(pkg-config --variable=includedir openwhp-devices)
for h in "$includedir"/devices/*.h; do
    echo "#include <devices/${h##*/}>" | cc "${cflags[@]}" "${devices_cflags[@]}" -fsyntax-only -x c -
done

echo "== libopenwhp-devices.a and libwinhvplatform.a"
cc "${cflags[@]}" "${devices_cflags[@]}" -x c - "${devices_libdirs[@]}" -l:libopenwhp-devices.a \
    -l:libwinhvplatform.a -pthread -o "$out/static_check" <<'C'
#include <devices/vsock.h>
int main(void)
{
    uint32_t port;
    return !(vsock_parse_connect("CONNECT 5000", &port) && port == 5000);
}
C
"$out/static_check"
if readelf -d "$out/static_check" | grep -q 'libopenwhp-devices\|libwinhvplatform'; then
    echo "static_check needs a shared openwhp library" >&2
    exit 1
fi

echo "== examples/vsock_echo"
make -s -C "$out" -f "$PWD/examples/vsock_echo/Makefile"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    "$out/hello"
    "$out/vsock_echo"
else
    echo "SKIP: /dev/kvm not available, examples built but not run"
fi
