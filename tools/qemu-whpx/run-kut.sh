#!/bin/sh
# Run one kvm-unit-tests x86 kernel under QEMU's WHPX accelerator on openwhp, with the devices
# and options of kvm-unit-tests' own x86/run (pc-testdev, isa-debug-exit at 0xf4, COM1 on stdio).
# usage: run-kut.sh QEMU TEST.flat SMP [TIMEOUT [QEMU options, e.g. -append ARGS]]
# QEMU's status is the test's (1 = every check passed, 77 = skipped) but is also 1 when QEMU
# itself fails, e.g. when the accelerator does not start. So the last line, "RESULT: pass|fail|
# skip|timeout (status N)", counts a 1 as a pass only after the accelerator said it was
# operational and no check failed. Exit status: 0 pass, 77 skip, 1 otherwise.
set -u

[ $# -ge 3 ] || { echo "usage: $0 QEMU TEST.flat SMP [TIMEOUT [QEMU options...]]" >&2; exit 2; }
QEMU=$1 FLAT=$2 SMP=$3
TIMEOUT=${4:-30}
shift 3
[ $# -gt 0 ] && shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# SeaBIOS and the multiboot option ROM come from Debian's seabios and qemu-system-data packages
# (the +dfsg source carries no firmware binaries).
timeout --foreground -k 5 "$TIMEOUT" "$QEMU" -accel whpx -M pc -nodefaults -nographic \
    -L /usr/share/qemu -L /usr/share/seabios \
    -serial stdio -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
    -m 256 -smp "$SMP" -kernel "$FLAT" "$@" >"$log" 2>&1
status=$?
cat "$log"

if [ $status -eq 124 ]; then
    result=timeout
elif [ $status -eq 77 ]; then
    result=skip
elif [ $status -eq 1 ] && grep -q 'accelerator is operational' "$log" &&
    ! grep -q '^FAIL' "$log"; then
    result=pass
else
    result=fail
fi
echo "RESULT: $result (status $status)"
case $result in
pass) exit 0 ;;
skip) exit 77 ;;
*) exit 1 ;;
esac
