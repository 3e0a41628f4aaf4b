#!/usr/bin/env bash
# fuzz/run.sh - build the harnesses, replay their seeds, then fuzz each one.
#
#   fuzz/run.sh [SECONDS]        (default 60 seconds per harness)
#
# For each harness (fuzz/fuzz_NAME.c): replay every file of fuzz/seeds/NAME/
# once, then run libFuzzer for SECONDS on a working corpus that starts from
# those seeds (OUT/corpus/NAME: new inputs never land in the repository),
# with -rss_limit_mb=2048 -timeout=10 and the dictionary fuzz/dict/NAME.dict
# when there is one (the bug-* reproducers are only replayed). Any crash,
# sanitizer report, timeout, out-of-memory or failed property is a finding:
# its input is saved under OUT/findings/ and printed, and the script exits 1
# once every harness has run.
#
# Environment:
#   FUZZ_OUT        build and work folder (default fuzz/out)
#   FUZZ_HARNESSES  names to run, e.g. "query http" (default: all)
#   FUZZ_PARALLEL   harnesses fuzzed at once (default 1)
#   FUZZ_NICE       nice level for the fuzzers (default 10)
#   FUZZ_ARGS       extra libFuzzer options
# Exit: 0 no finding, 1 findings, 77 clang/libFuzzer missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
out=${FUZZ_OUT:-$here/out}
parallel=${FUZZ_PARALLEL:-1}
nicelvl=${FUZZ_NICE:-10}

bash "$here/build.sh" "$out"
st=$?
[[ $st == 0 ]] || exit "$st"
out=$(cd "$out" && pwd)

if [[ -n ${FUZZ_HARNESSES:-} ]]; then
    read -r -a names <<<"$FUZZ_HARNESSES"
else
    names=()
    for h in "$here"/fuzz_*.c; do n=$(basename "$h" .c); names+=("${n#fuzz_}"); done
fi

# Options per harness: inputs long enough to reach the daemon's limits.
max_len() {
    case $1 in
        http) echo 8192 ;;
        query) echo 2048 ;;
        *) echo 16384 ;;
    esac
}

mkdir -p "$out/findings" "$out/logs"
found=0

# replay NAME: every seed once; prints the failing seed and the report.
replay() {
    local n=$1 log=$out/logs/replay-$1.log seeds=("$here/seeds/$1"/*)
    [[ -e ${seeds[0]} ]] || { echo "replay $n: no seeds"; return 0; }
    if nice -n "$nicelvl" "$out/fuzz_$n" -rss_limit_mb=2048 -timeout=10 "${seeds[@]}" >"$log" 2>&1; then
        echo "replay $n: ${#seeds[@]} seeds, no finding"
        return 0
    fi
    echo "replay $n: FINDING on $(grep '^Running: ' "$log" | tail -1 | cut -d' ' -f2-)"
    grep -E 'prsearch fuzz finding|runtime error|ERROR: (Address|Leak|libFuzzer)|SUMMARY' "$log" | head -8 | sed 's/^/    /'
    echo "    full log: $log"
    return 1
}

# fuzz NAME: SECONDS of libFuzzer; prints the crash file on a finding.
fuzz_one() {
    local n=$1 log=$out/logs/fuzz-$1.log corpus=$out/corpus/$1 dict=() st
    mkdir -p "$corpus"
    # The bug-* reproducers are replayed above; leaving them out of the
    # working corpus lets the fuzzer look for something new.
    find "$here/seeds/$n" -maxdepth 1 -type f ! -name 'bug-*' -exec cp -n {} "$corpus"/ \;
    [[ -f $here/dict/$n.dict ]] && dict=(-dict="$here/dict/$n.dict")
    # shellcheck disable=SC2086
    nice -n "$nicelvl" "$out/fuzz_$n" "$corpus" "${dict[@]}" -max_total_time="$secs" \
        -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$n")" -print_final_stats=1 \
        -artifact_prefix="$out/findings/$n-" ${FUZZ_ARGS:-} >"$log" 2>&1
    st=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ $st == 0 ]]; then
        echo "fuzz $n: ${secs}s, ${execs:-?} runs, no finding"
        return 0
    fi
    echo "fuzz $n: FINDING (exit $st) after ${execs:-?} runs"
    grep -E 'prsearch fuzz finding|runtime error|ERROR: (Address|Leak|libFuzzer)|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
    local f
    f=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [[ -n $f && -f $f ]]; then
        echo "    crash file: $f ($(stat -c %s "$f") bytes); first bytes:"
        head -c 300 "$f" | od -An -c | head -8 | sed 's/^/      /'
    fi
    echo "    full log: $log"
    return 1
}

for n in "${names[@]}"; do
    replay "$n" || found=1
done

results=()
for n in "${names[@]}"; do
    fuzz_one "$n" >"$out/logs/result-$n.txt" &
    results+=("$out/logs/result-$n.txt")
    while (( $(jobs -rp | wc -l) >= parallel )); do wait -n; done
done
wait
for r in "${results[@]}"; do
    cat "$r"
    grep -q '^fuzz .*, no finding$' "$r" || found=1
done
exit "$found"
