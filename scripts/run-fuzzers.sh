#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/Sources/fuzz-*) with -sanitize=fuzzer,address and runs each
# for SECONDS (default 60) over a scratch copy of its seed corpus (fuzz/corpus/<name>/), so the
# repository's corpus never grows. Exits non-zero on any crash, leak, timeout or out-of-memory;
# prints the executions per target. FUZZERS="image pickle" picks a subset (default: all);
# FUZZ_SEED=N fixes libFuzzer's seed (CI uses 1, so a run replays the mutations checked here).
# Crash inputs are kept under .build-fuzz/artifacts/<name>/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
fuzzers="${FUZZERS:-safetensors pickle workflow ui-workflow image}"
scratch=.build-fuzz
flags=(-c debug --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)

start=$(date +%s)
for name in $fuzzers; do
    # (ld.gold warns once per ASan helper symbol; those lines are dropped.)
    swift build "${flags[@]}" --product "fuzz-$name" 2>&1 | grep -v 'Cannot export local symbol'
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz-$name: build failed"; exit 1; }
done
bin="$(swift build "${flags[@]}" --show-bin-path)"
echo "fuzzers built in $(($(date +%s) - start)) s"

# One-time allocations of Swift static initializers are not leaks (see fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
failed=()
summary=()
for name in $fuzzers; do
    work="$scratch/runs/$name"
    artifacts="$scratch/artifacts/$name"
    rm -rf "$work" && mkdir -p "$work/corpus" "$artifacts"
    cp fuzz/corpus/"$name"/* "$work/corpus/"
    log="$work/log.txt"
    echo "== fuzz-$name: $seconds s"
    "$bin/fuzz-$name" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -seed="${FUZZ_SEED:-0}" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ] || grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|SUMMARY: ' "$log"; then
        failed+=("$name")
        tail -n 60 "$log"
        summary+=("fuzz-$name: FAILED (exit $status) after ${runs:-?} executions; inputs in $artifacts/")
    else
        summary+=("fuzz-$name: ${runs:-?} executions, corpus $(ls "$work/corpus" | wc -l) inputs, no crash")
    fi
done
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzzers that failed: ${failed[*]}"
    exit 1
fi
