#!/bin/sh
# Compiles tests/cxx_headers.cpp (headers and flag operators only: CXX_HEADERS_ONLY) with each
# of g++ and clang++ that is installed, as C++17 and C++20 with -Wall -Wextra -Werror, and runs
# it. The CMake tests win32.cxx17/cxx20 build the whole file, linked with the layer.
# Usage: cxx_compilers.sh <source dir> <cxx_headers.cpp> <scratch dir>
src=$1 test=$2 out=$3
mkdir -p "$out" || exit 1
found=0
for cxx in g++ clang++; do
    command -v "$cxx" >/dev/null 2>&1 || continue
    found=1
    for std in c++17 c++20; do
        echo "== $cxx -std=$std"
        "$cxx" -std=$std -Wall -Wextra -Werror -DCXX_HEADERS_ONLY -I"$src/include/compat" \
            -I"$src/include" "$test" -o "$out/cxx-$cxx-$std" || exit 1
        "$out/cxx-$cxx-$std" || exit 1
    done
done
if [ $found = 0 ]; then
    echo "SKIP: neither g++ nor clang++ is installed"
    exit 77
fi
