#!/usr/bin/env bash
# The concurrency stress, teardown and fuzz-guest tests under ThreadSanitizer: configures a clang
# TSan build (OPENWHP_TSAN=ON) in $1 (default build-tsan), builds those tests and runs them with
# halt_on_error=1, so any report fails the run, together with the HvSocket tests (the vsock
# device's worker against VP threads and host programs). Budgets: STRESS_SECONDS, FUZZ_SECONDS
# (3 each), TEARDOWN_CYCLES (20), HVSOCK_STREAM_MIB (32 here); set them to run longer.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
command -v clang >/dev/null || { echo "clang is needed for the TSan build" >&2; exit 2; }

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENWHP_TSAN=ON >/dev/null
tests=(test_stress test_teardown test_fuzz_guest test_hvsocket)
export HVSOCK_STREAM_MIB=${HVSOCK_STREAM_MIB:-32}
cmake --build "$build" -j2 --target "${tests[@]/#/guest_}"

export TSAN_OPTIONS="halt_on_error=1 abort_on_error=0 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
status=0
for t in "${tests[@]}"; do
    echo "== $t under ThreadSanitizer"
    set +e
    "$build/tests/guest/guest_$t"
    rc=$?
    set -e
    case $rc in
    0) ;;
    77) echo "SKIP: $t (no /dev/kvm)" ;;
    66) echo "FAIL: $t: ThreadSanitizer report"; status=1 ;;
    *) echo "FAIL: $t: exit $rc"; status=1 ;;
    esac
done
exit $status
