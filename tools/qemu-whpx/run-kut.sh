#!/bin/sh
# Run one kvm-unit-tests x86 kernel under QEMU's WHPX accelerator on openwhp, with the devices
# and options of kvm-unit-tests' own x86/run (pc-testdev, isa-debug-exit at 0xf4, COM1 on stdio).
# usage: run-kut.sh QEMU TEST.flat SMP [TIMEOUT [-append ARGS | other QEMU options...]]
# Exit status: the test's (1 = every check passed, 77 = skipped; see the kvm-unit-tests README),
# 124 on timeout, else QEMU's.
set -u

[ $# -ge 3 ] || { echo "usage: $0 QEMU TEST.flat SMP [TIMEOUT [QEMU options...]]" >&2; exit 2; }
QEMU=$1 FLAT=$2 SMP=$3
TIMEOUT=${4:-30}
shift 3
[ $# -gt 0 ] && shift
# SeaBIOS and the multiboot option ROM: Debian's seabios and qemu-system-data packages (the
# +dfsg source carries no firmware binaries).
exec timeout --foreground -k 5 "$TIMEOUT" "$QEMU" -accel whpx -M pc -nodefaults -nographic \
    -L /usr/share/qemu -L /usr/share/seabios \
    -serial stdio -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
    -m 256 -smp "$SMP" -kernel "$FLAT" "$@"
