#!/bin/sh
# CI job for issue 15: QEMU's WHPX accelerator on openwhp. Gets Debian 12's QEMU 7.2 source with
# apt-get (a deb-src entry for the same archive is added if none exists), installs its build
# dependencies, builds qemu-system-x86_64 with only WHPX against the openwhp installed in PREFIX
# (build.sh: the meson-only patch, no QEMU .c file changed), and runs the kvm-unit-tests the
# project carries (tests/kvm-unit-tests). Any test that does not pass fails the job.
# usage: ci.sh PREFIX WORKDIR
set -eu
[ $# -eq 2 ] || { echo "usage: $0 PREFIX WORKDIR" >&2; exit 2; }
PREFIX=$(cd "$1" && pwd)
mkdir -p "$2"
WORK=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
KUT=$HERE/../../tests/kvm-unit-tests/x86

export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        > /etc/apt/sources.list.d/openwhp-deb-src.sources
fi
apt-get update -qq
apt-get install -y -qq dpkg-dev patch xz-utils ninja-build meson pkg-config libglib2.0-dev \
    libpixman-1-dev libfdt-dev python3-venv flex bison seabios qemu-system-data >/dev/null

cd "$WORK"
apt-get source -qq qemu >/dev/null 2>&1 || apt-get source qemu
SRC=$(ls -d "$WORK"/qemu-7.2* | head -n 1)
"$HERE"/build.sh "$PREFIX" "$SRC" "$WORK/qemu-out" >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log"
    exit 1
}
cat "$WORK/qemu-out/build-time"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "SKIP: /dev/kvm not available, QEMU built but not run"
    exit 0
fi
status=0
for t in "smptest 2" "smptest 3" "realmode 1" "dummy 1"; do
    set -- $t
    if "$HERE"/run-kut.sh "$WORK/qemu-out/qemu-system-x86_64" "$KUT/$1.flat" "$2" 120 \
            >"$WORK/$1-$2.log" 2>&1; then
        echo "PASS: $1 -smp $2 under QEMU-WHPX on openwhp"
    else
        echo "FAIL: $1 -smp $2 under QEMU-WHPX on openwhp"
        tail -n 20 "$WORK/$1-$2.log"
        status=1
    fi
done
exit $status
