#!/usr/bin/env bash
# Runs every test binary of a build under valgrind's memcheck (leak check on, any error or leak
# fails), one after the other, and prints one line per binary and a summary. A binary that exits
# 77 (no /dev/kvm) counts as skipped. Usage: tools/valgrind_suite.sh [build dir, default build]
# (a plain gcc Debug build: sanitizer builds cannot run under valgrind). Logs go to
# <build>/valgrind/<binary>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
[ -d "$build/tests" ] || { echo "no test binaries in $build (build it first)" >&2; exit 2; }
logs="$build/valgrind"
mkdir -p "$logs"

# Guest tests time guest round trips against host deadlines written for native speed: give the
# harness's per-test alarm room (memcheck slows the host side, not the guest).
export GUEST_TEST_TIMEOUT=${GUEST_TEST_TIMEOUT:-300}
# The HvSocket stream test's host side checks every byte: 16 MiB each way under memcheck.
export HVSOCK_STREAM_MIB=${HVSOCK_STREAM_MIB:-16}

mapfile -t bins < <(find "$build/tests" -maxdepth 2 -type f -executable \( -name 'unit_test_*' -o -name 'guest_test_*' \) | sort)
[ ${#bins[@]} -gt 0 ] || { echo "no test binaries found under $build/tests" >&2; exit 2; }

pass=0 fail=0 skip=0
failed=()
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    start=$(date +%s)
    set +e
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --track-fds=no --log-file="$logs/$name.log" \
        "$bin" >"$logs/$name.out" 2>&1
    rc=$?
    set -e
    secs=$(($(date +%s) - start))
    errors=$(grep -m1 -o 'ERROR SUMMARY: [0-9]*' "$logs/$name.log" | grep -o '[0-9]*$' || echo "?")
    if [ $rc -eq 77 ]; then
        skip=$((skip + 1)); verdict=SKIP
    elif [ $rc -eq 0 ] && [ "$errors" = 0 ]; then
        pass=$((pass + 1)); verdict=PASS
    else
        fail=$((fail + 1)); verdict="FAIL (exit $rc)"; failed+=("$name")
    fi
    printf '%-32s %-14s %4ss  memcheck errors: %s\n' "$name" "$verdict" "$secs" "$errors"
done
echo "valgrind: ${#bins[@]} binaries: $pass passed, $fail failed, $skip skipped (logs in $logs)"
if [ $fail -gt 0 ]; then
    printf 'failed: %s\n' "${failed[@]}"
    exit 1
fi
