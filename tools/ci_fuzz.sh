#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, -DOPENWHP_FUZZ=ON) in a build directory ($1, default
# build-fuzz), replays the seed corpora and crash reproducers (ctest -L fuzz), then fuzzes each
# harness (every fuzz/fuzz_*.c) for FUZZ_SECONDS (default 15) from a scratch copy of its
# corpus. Exits non-zero on any build failure, failed replay or finding (crash, leak, sanitizer
# report, timeout); the inputs that failed are left in <build>/fuzz-findings.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-15}
fuzzers=$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')

CC=clang cmake -S . -B "$build" -DOPENWHP_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086 # one target per harness
cmake --build "$build" -j2 --target $fuzzers
ctest --test-dir "$build" -L fuzz --output-on-failure

findings="$build/fuzz-findings"
mkdir -p "$findings"
status=0
for fuzzer in $fuzzers; do
    work=$(mktemp -d)
    cp fuzz/corpus/"$fuzzer"/* "$work"/ 2>/dev/null || true
    echo "== $fuzzer: ${seconds}s"
    if ! nice -n 10 "$build/fuzz/$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$findings/$fuzzer-" "$work" 2>"$work.log"; then
        status=1
        tail -n 60 "$work.log"
        echo "FAIL: $fuzzer found something: $(ls "$findings" | grep "^$fuzzer-" | tr '\n' ' ')"
    else
        grep -E "^#[0-9]+[[:space:]]+DONE|^SKIP|stat::average_exec_per_sec" "$work.log" || true
    fi
    rm -rf "$work" "$work.log"
done
exit $status
