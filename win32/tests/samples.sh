#!/bin/sh
# Installs the build to a scratch prefix and builds the samples the way a user of the installed
# library does: nothing but $(pkg-config --cflags --libs winhvplatform-win32), in C and in C++.
# Runs them: each exits 77 (SKIP) when /dev/kvm cannot be used.
# Usage: samples.sh <build dir> <samples dir> <scratch dir> <C compiler> [extra flags]
build=$1 samples=$2 out=$3 cc=$4 extra=$5
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }
rm -rf "$out" && mkdir -p "$out" || exit 1
cmake --install "$build" --prefix "$out/prefix" >"$out/install.log" || { cat "$out/install.log"; exit 1; }
pc=$(find "$out/prefix" -name winhvplatform-win32.pc | head -n 1)
[ -n "$pc" ] || { echo "winhvplatform-win32.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs winhvplatform-win32) || exit 1
echo "pkg-config --cflags --libs winhvplatform-win32: $flags"
export LD_LIBRARY_PATH="$(pkg-config --variable=libdir winhvplatform-win32)"
case "$cc" in *clang*) cxx=clang++ ;; *) cxx=g++ ;; esac
status=0
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $extra "$samples/whp_sample.c" $flags -o "$out/whp_sample" || exit 1
"$out/whp_sample"
r=$?
[ $r = 0 ] || status=$r
if command -v "$cxx" >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    "$cxx" -std=c++17 -Wall -Wextra -Werror $extra "$samples/whp_sample.cpp" $flags -o "$out/whp_sample_cxx" || exit 1
    "$out/whp_sample_cxx"
    r=$?
    [ $r = 0 ] || [ $status != 0 ] || status=$r
else
    echo "(no $cxx: the C++ sample is not built)"
fi
exit $status
