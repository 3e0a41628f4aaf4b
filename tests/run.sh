#!/usr/bin/env bash
# tests/run.sh - run the whole test suite and count.
#
# Runs every C unit test program (tests/test_*, built by `make check`) and
# every shell test (tests/t_*.sh), each printing TAP lines, and ends with
# the line CI reads: "N passed, N failed[, N skipped]". A program that
# crashes or exits non-zero without reporting a failure counts as one.
#
# Environment: PR_BUILDDIR, PR_SRCDIR (set by `make check`), PR_VALGRIND=1
# to run the C unit tests under valgrind, PR_TESTS="name..." to run some,
# PR_SKIP="name..." to leave some out.
set -u
: "${PR_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PR_BUILDDIR:=$PR_SRCDIR}"
export PR_SRCDIR PR_BUILDDIR
logdir="$PR_BUILDDIR/tests/logs"
mkdir -p "$logdir"

passed=0 failed=0 skipped=0
run_one() {
    local name=$1; shift
    local log="$logdir/$name.log" st p f s start end
    start=$(date +%s.%N)
    timeout 1200 "$@" >"$log" 2>&1 </dev/null; st=$?
    end=$(date +%s.%N)
    s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
    p=$(( $(grep -cE '^ok [0-9]+' "$log") - s ))
    f=$(grep -cE '^not ok [0-9]+' "$log")
    if [[ $st != 0 && $f == 0 ]]; then
        f=1; echo "not ok - $name exited with status $st" >>"$log"
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-28s %4d passed %3d failed %3d skipped  %5.1fs\n' "$name" "$p" "$f" "$s" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')"
    if [[ $f != 0 ]]; then
        grep -E -A6 '^not ok' "$log" | head -60 | sed 's/^/    /'
    fi
    grep -E '# SKIP' "$log" | sed 's/^ok [0-9]* - /    skipped: /' | head -5
}

wanted() {
    [[ " ${PR_SKIP:-} " != *" $1 "* ]] &&
        { [[ -z "${PR_TESTS:-}" ]] || [[ " $PR_TESTS " == *" $1 "* ]]; }
}

for t in "$PR_BUILDDIR"/tests/test_*; do
    [[ -x "$t" && ! -d "$t" && "$t" != *.o ]] || continue
    name=$(basename "$t")
    wanted "$name" || continue
    if [[ "${PR_VALGRIND:-0}" == 1 ]]; then
        run_one "$name" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$t"
    else
        run_one "$name" "$t"
    fi
done
if [[ "${PR_VALGRIND:-0}" != 1 ]]; then
    for t in "$PR_SRCDIR"/tests/t_*.sh; do
        [[ -f "$t" ]] || continue
        name=$(basename "$t" .sh)
        wanted "$name" || continue
        run_one "$name" bash "$t"
    done
fi

echo
if [[ $skipped -gt 0 ]]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[[ $failed == 0 ]]
