# tests/lib.sh - helpers for the shell tests (sourced, not run).
#
# Each check prints one TAP line so tests/run.sh can count it. The programs
# under test are the real binaries of the build tree; the corpus is
# ../shared/corpus beside the source tree (tests needing it skip visibly
# when it is absent, as in a user's clone).

: "${PR_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${PR_BUILDDIR:=$PR_SRCDIR}"
: "${PR_CORPUS:=$PR_SRCDIR/../shared/corpus}"
PRSEARCH_INDEX="$PR_BUILDDIR/indexer/prsearch-index"
PRSEARCH="$PR_BUILDDIR/client/prsearch"
PRSEARCHD="$PR_BUILDDIR/daemon/prsearchd"
PR_EXTENSION="$PR_BUILDDIR/lib/.libs/prsearch_french.so"
export PR_SRCDIR PR_BUILDDIR PR_CORPUS

TAP_N=0
TAP_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/prsearch-test.XXXXXX")
trap 't_cleanup' EXIT
T_CLEANUP_CMDS=()

t_cleanup() {
    local c
    for c in "${T_CLEANUP_CMDS[@]}"; do eval "$c" >/dev/null 2>&1; done
    rm -rf "$T_TMP"
}

# on_exit CMD: run CMD when the test script ends (daemons to stop...).
on_exit() { T_CLEANUP_CMDS+=("$1"); }

ok()   { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
diag() { printf '#   %s\n' "$@"; }

# check WHAT CMD...: passes when CMD exits 0.
check() {
    local what=$1; shift
    if "$@"; then ok "$what"; else not_ok "$what"; diag "command: $*"; fi
}

# check_eq WHAT GOT WANT
check_eq() {
    if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi
}

# check_match WHAT STRING REGEX (bash ERE)
check_match() {
    if [[ "$2" =~ $3 ]]; then ok "$1"; else not_ok "$1"; diag "got:  ${2:0:600}" "want match: $3"; fi
}

# check_contains WHAT HAYSTACK NEEDLE
check_contains() {
    if [[ "$2" == *"$3"* ]]; then ok "$1"; else not_ok "$1"; diag "got:  ${2:0:600}" "want to contain: $3"; fi
}

# check_exit WHAT WANT_STATUS CMD...: runs CMD, compares its exit status.
check_exit() {
    local what=$1 want=$2 st; shift 2
    "$@" >"$T_TMP/last.out" 2>"$T_TMP/last.err"; st=$?
    if [[ $st == "$want" ]]; then ok "$what"; else
        not_ok "$what"; diag "exit $st, want $want: $*" "stderr: $(head -c 600 "$T_TMP/last.err")"; fi
}

have_corpus() { [[ -f "$PR_CORPUS/_config.yml" ]]; }

# A free TCP port on loopback.
free_port() {
    local p
    for _ in $(seq 50); do
        # Below Linux's ephemeral range (32768-60999): a port there can be
        # held by any client socket between our check and the bind.
        p=$(( (RANDOM % 12000) + 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

done_testing() { echo "1..$TAP_N"; [[ $TAP_FAILED == 0 ]]; }
