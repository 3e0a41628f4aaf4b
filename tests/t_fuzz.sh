#!/usr/bin/env bash
# Short fuzz runs for CI (issue 7): builds the libFuzzer harnesses of fuzz/
# into the test's temporary folder (fuzz/build.sh: clang, ASan + UBSan),
# replays every seed corpus of fuzz/seeds/ (one check per harness; the
# bug-* seeds are the reproducers of past findings, replayed forever), then
# fuzzes each harness for ${PR_FUZZ_SECONDS:-20} seconds, two at a time
# (one check per harness). A finding prints its report and the first bytes
# of its input, and the input is kept in tests/logs/fuzz-findings/.
# Without clang or its libFuzzer runtime, it tries to install them when run
# as root with apt-get (PR_FUZZ_INSTALL=0 forbids it), else skips visibly.
source "$(dirname "$0")/lib.sh"

fuzz=$PR_SRCDIR/fuzz
secs=${PR_FUZZ_SECONDS:-20}
if [[ ! -f $fuzz/run.sh ]]; then
    skip "fuzzing" "no fuzz/ folder in $PR_SRCDIR"
    done_testing; exit
fi

# diag_lines TEXT: one comment line per line of TEXT.
diag_lines() { local a; mapfile -t a <<<"$1"; diag "${a[@]}"; }

out=$T_TMP/fuzz
mkdir -p "$out"
bash "$fuzz/build.sh" "$out" >"$T_TMP/build.log" 2>&1; st=$?
if [[ $st == 77 && $(id -u) == 0 && ${PR_FUZZ_INSTALL:-1} != 0 ]] && command -v apt-get >/dev/null; then
    diag "clang/libFuzzer missing: apt-get install clang libclang-rt-14-dev"
    timeout 600 apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev \
        >"$T_TMP/apt.log" 2>&1 || diag "apt-get: $(tail -2 "$T_TMP/apt.log")"
    bash "$fuzz/build.sh" "$out" >"$T_TMP/build.log" 2>&1; st=$?
fi
if [[ $st == 77 ]]; then
    skip "fuzzing" "clang with libFuzzer is not available ($(tail -1 "$T_TMP/build.log"))"
    done_testing; exit
fi
if [[ $st != 0 ]]; then
    not_ok "fuzz harnesses build"
    diag_lines "$(tail -15 "$T_TMP/build.log")"
    done_testing; exit
fi
ok "fuzz harnesses build"

# run.sh prints one line per replay and per fuzz run ("replay NAME: ...",
# "fuzz NAME: ..."), details indented below a finding.
FUZZ_OUT=$out FUZZ_PARALLEL=2 bash "$fuzz/run.sh" "$secs" >"$T_TMP/run.log" 2>&1
run_status=$?
report() { # report KIND: one TAP line per "KIND NAME:" line of the run
    local line name rest details
    while IFS= read -r line; do
        name=${line#"$1 "}; name=${name%%:*}
        rest=${line#*: }
        if [[ $rest == *"no finding"* ]]; then
            ok "$1 $name: $rest"
        else
            not_ok "$1 $name: $rest"
            details=$(awk -v l="$line" '$0 == l { on = 1; next } on && /^    / { print; next } { on = 0 }' "$T_TMP/run.log")
            diag_lines "$details"
        fi
    done < <(grep -E "^$1 [a-z]+: " "$T_TMP/run.log")
}
report replay
report fuzz
# its exit status says the same as its lines (what a long run is judged by)
if grep -qE '^(replay|fuzz) [a-z]+: .*FINDING' "$T_TMP/run.log"; then
    check_eq "fuzz/run.sh exits 1 on a finding" "$run_status" 1
else
    check_eq "fuzz/run.sh exits 0 when nothing was found" "$run_status" 0
fi
if ! grep -qE '^(replay|fuzz) ' "$T_TMP/run.log"; then
    not_ok "fuzz/run.sh ran the harnesses"
    diag_lines "$(tail -15 "$T_TMP/run.log")"
fi
if compgen -G "$out/findings/*" >/dev/null; then
    mkdir -p "$PR_BUILDDIR/tests/logs/fuzz-findings"
    cp "$out"/findings/* "$PR_BUILDDIR/tests/logs/fuzz-findings/"
    diag "findings kept in $PR_BUILDDIR/tests/logs/fuzz-findings/"
fi

done_testing
