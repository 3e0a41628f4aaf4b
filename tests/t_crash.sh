#!/usr/bin/env bash
# Crash safety of prsearch-index (issue 7), with the real binaries on a
# ~2,000-file tree made of copies of the corpus:
#  - 20 full runs killed with SIGKILL at moments spread over a run's
#    measured duration; after each, the index opens read-only (prsearch -d),
#    PRAGMA integrity_check and FTS5 'integrity-check' are ok, and it holds
#    exactly a complete state: the previous one, or the new one when the
#    kill came after the commit. The next run then completes;
#  - disk full (a 3 MB tmpfs): exit 2, a message naming the problem, the
#    previous index intact; with room again, the next run completes;
#  - a read-only index directory (run as nobody, since root ignores
#    permissions): exit 2, a clear message, the index intact;
#  - two runs at once: one waits or exits 2 with the lock message; the index
#    is consistent afterwards.
# Skips visibly without the corpus, the sqlite3 shell, or root for mount.
source "$(dirname "$0")/lib.sh"

if ! have_corpus; then
    skip "crash safety" "no corpus at $PR_CORPUS"
    done_testing; exit
fi
for p in "$PRSEARCH_INDEX" "$PRSEARCH" "$PR_EXTENSION"; do
    if [[ ! -e $p ]]; then skip "crash safety" "$p is not built"; done_testing; exit; fi
done
if ! command -v sqlite3 >/dev/null; then
    skip "crash safety" "no sqlite3 shell"; done_testing; exit
fi

# ---- helpers -------------------------------------------------------------
sql() { sqlite3 -batch -noheader "$1" "$2" 2>&1; }
# FTS5's own consistency check, through the extension (it needs 'french').
fts_check() { sqlite3 -batch -cmd ".load $PR_EXTENSION" "$1" \
    "insert into fts(fts) values('integrity-check')" 2>&1; }
# "DOCUMENTS ETAT": the state of an index, two numbers that differ between
# the states this test builds (documents, and FTS5 matches of 'etat').
state() { sqlite3 -batch -noheader -cmd ".load $PR_EXTENSION" "$1" \
    "select (select count(*) from documents) || ' ' || (select count(*) from fts where fts match 'etat')" 2>&1; }
# The total of a search through the read path the daemon uses (read-only).
search_total() {
    local out
    out=$("$PRSEARCH" -d "$1" --json -n 1 etat 2>&1)
    if [[ $out =~ ^\{\"query\":\"etat\",\"total\":([0-9]+), ]]; then
        echo "${BASH_REMATCH[1]}"
    else
        echo "error: ${out:0:200}"
    fi
}
now() { date +%s.%N; }

# ---- the tree: copies of the corpus --------------------------------------
tree=$T_TMP/tree
per_copy=$(find "$PR_CORPUS" -name '*.md' -o -name '*.markdown' | wc -l)
copies=$(( (2000 + per_copy - 1) / per_copy ))
for i in $(seq "$copies"); do
    mkdir -p "$tree/c$i"
    cp -r "$PR_CORPUS"/_* "$tree/c$i"/
done
nfiles=$(find "$tree" -name '*.md' -o -name '*.markdown' | wc -l)
diag "tree: $copies copies of the corpus, $nfiles Markdown files"
# Two target states: with and without the last copy (parked aside), so a
# run changes the index and a half-done run would show.
park=$T_TMP/parked
mkdir -p "$park"

IDX=$T_TMP/idx/index.db
mkdir -p "$T_TMP/idx"
mv "$tree/c$copies" "$park/"
t0=$(now)
"$PRSEARCH_INDEX" -q -d "$IDX" "$tree" 2>/dev/null; st=$?
first_dur=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
check_match "first index of the tree less one copy (exit 0, or 1 for the corpus' broken page)" "$st" '^[01]$'
check_eq "... in WAL mode once its first run is over" "$(sql "$IDX" "pragma journal_mode")" wal
S_LESS=$(state "$IDX")
P_LESS=$(search_total "$IDX")
mv "$park/c$copies" "$tree/"
t0=$(now)
"$PRSEARCH_INDEX" -q --full -d "$IDX" "$tree" 2>/dev/null; st=$?
t1=$(now)
check_match "a --full run of all $nfiles files" "$st" '^[01]$'
S_FULL=$(state "$IDX")
P_FULL=$(search_total "$IDX")
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
diag "states: full tree '$S_FULL' (search total $P_FULL), one copy less '$S_LESS' (total $P_LESS)" \
     "a --full run of the whole tree takes ${dur}s"
check "the two states differ" test "$S_FULL" != "$S_LESS"
check_match "state is 'documents etat-matches'" "$S_FULL $S_LESS" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$'

# ---- 20 SIGKILLs ---------------------------------------------------------
prev=$S_FULL      # the last complete state
prev_p=$P_FULL
old=0 new=0
for i in $(seq 0 19); do
    # The target of this run alternates: one copy less, then the full tree.
    if (( i % 2 == 1 )); then target=$S_FULL; target_p=$P_FULL
    else mv "$tree/c$copies" "$park/"; target=$S_LESS; target_p=$P_LESS; fi
    delay=$(awk -v d="$dur" -v i="$i" 'BEGIN { printf "%.3f", d * (0.02 + 0.96 * i / 19) }')
    "$PRSEARCH_INDEX" -q --full -d "$IDX" "$tree" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null; st=$?
    (( i % 2 == 0 )) && mv "$park/c$copies" "$tree/"
    what="kill $((i + 1))/20 at ${delay}s"
    [[ $st == 137 ]] || what="$what (the run had ended, exit $st)"
    # Readers first: the daemon's read-only path must cope with the hot WAL.
    p=$(search_total "$IDX")
    ic=$(sql "$IDX" "pragma integrity_check")
    fc=$(fts_check "$IDX")
    s=$(state "$IDX")
    check_eq "$what: PRAGMA integrity_check" "$ic" ok
    check_eq "$what: FTS5 integrity-check" "$fc" ""
    if [[ $s == "$prev" && $p == "$prev_p" && $st == 137 ]]; then
        ok "$what: the previous complete state ($s, search total $p)"; old=$((old + 1))
    elif [[ $s == "$target" && $p == "$target_p" ]]; then
        ok "$what: the new complete state ($s, search total $p)"; new=$((new + 1))
        prev=$target; prev_p=$target_p
    else
        not_ok "$what: a complete state"
        diag "got '$s' (search total '$p'), previous '$prev' ($prev_p), new '$target' ($target_p)"
    fi
done
diag "after the kills: $old saw the previous state, $new the new one (killed after the commit)"

out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$tree" 2>"$T_TMP/err"); st=$?
check_match "the next run completes (exit 0 or 1)" "$st" '^[01]$'
check_match "... with its summary" "$(tail -1 "$T_TMP/err")" '^indexed [0-9]+ files: '
check_eq "... to the full state" "$(state "$IDX")" "$S_FULL"
check_eq "... and an intact index" "$(sql "$IDX" "pragma integrity_check") $(fts_check "$IDX")" "ok "
rm -f "$IDX" "$IDX"-wal "$IDX"-shm

# ---- first runs killed ----------------------------------------------------
# A new index is written through a rollback journal until its first run
# commits (lib/index_db.c choose_journal). Killed before that, it holds no
# page: a reader gets 0 hits (nothing written yet) or a message saying the
# first run was interrupted (a hot journal only a writer can roll back);
# the next run builds it, in WAL mode.
FIDX1=$T_TMP/first/index.db
mv "$tree/c$copies" "$park/"
for frac in 0.1 0.4 0.7; do
    rm -rf "$T_TMP/first"; mkdir -p "$T_TMP/first"
    delay=$(awk -v d="$first_dur" -v f="$frac" 'BEGIN { printf "%.3f", d * f }')
    "$PRSEARCH_INDEX" -q -d "$FIDX1" "$tree" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null; st=$?
    what="first run killed at ${delay}s"
    out=$("$PRSEARCH" -d "$FIDX1" --json -n 1 etat 2>&1); rst=$?
    if [[ $st != 137 ]]; then
        check_eq "$what (it had ended, exit $st): the whole index" "$(search_total "$FIDX1")" "$P_LESS"
    elif [[ $rst == 2 ]]; then
        check_contains "$what: the reader says the first run was interrupted" "$out" \
            "first indexing run of this index was interrupted: run prsearch-index again"
    else # nothing written yet, or killed right after the commit
        check_match "$what: the reader finds no page, or all of them" "$out" \
            "^\\{\"query\":\"etat\",\"total\":(0|$P_LESS),"
    fi
    "$PRSEARCH_INDEX" -q -d "$FIDX1" "$tree" >/dev/null 2>&1; st=$?
    check_match "$what: the next run completes" "$st" '^[01]$'
    check_eq "$what: ... to the whole index, intact, in WAL mode" \
        "$(state "$FIDX1") $(sql "$FIDX1" "pragma integrity_check") $(fts_check "$FIDX1") $(sql "$FIDX1" "pragma journal_mode")" \
        "$S_LESS ok  wal"
done
mv "$park/c$copies" "$tree/"

# ---- disk full -----------------------------------------------------------
# A small set inside the tree, so indexing the tree later gives S_FULL.
small=$tree/c1/_evenements
full=$T_TMP/full
mkdir -p "$full"
if [[ $(id -u) != 0 ]] || ! mount -t tmpfs -o size=3m tmpfs "$full" 2>"$T_TMP/mount.err"; then
    skip "disk full" "cannot mount a tmpfs ($(id -u) != 0 or: $(head -c 200 "$T_TMP/mount.err"))"
else
    on_exit "umount '$full'"
    FIDX=$full/index.db
    "$PRSEARCH_INDEX" -q -d "$FIDX" "$small" 2>"$T_TMP/err"; st=$?
    check_match "disk full: a small index fits in 3 MB" "$st" '^[01]$'
    before=$(state "$FIDX")
    "$PRSEARCH_INDEX" -d "$FIDX" "$tree" >/dev/null 2>"$T_TMP/err"; st=$?
    check_eq "disk full: exit 2" "$st" 2
    check_match "disk full: the message names the problem" "$(cat "$T_TMP/err")" \
        '([Dd]isk|database or disk) is full|[Nn]o space left'
    diag "message: $(grep -v ': front matter: ' "$T_TMP/err" | head -c 300)"
    check_eq "disk full: integrity_check ok" "$(sql "$FIDX" "pragma integrity_check")" ok
    check_eq "disk full: FTS5 integrity-check ok" "$(fts_check "$FIDX")" ""
    check_eq "disk full: the previous index is intact" "$(state "$FIDX")" "$before"
    if mount -o remount,size=256m "$full" 2>/dev/null; then
        "$PRSEARCH_INDEX" -q -d "$FIDX" "$tree" 2>/dev/null; st=$?
        check_match "disk full: with room again the next run completes" "$st" '^[01]$'
        check_eq "disk full: ... to the full state" "$(state "$FIDX")" "$S_FULL"
    else
        skip "disk full: next run with room again" "cannot remount the tmpfs larger"
    fi
fi

# ---- read-only index directory -------------------------------------------
ro=$T_TMP/ro
mkdir -p "$ro"
RIDX=$ro/index.db
"$PRSEARCH_INDEX" -q -d "$RIDX" "$small" 2>/dev/null
before=$(state "$RIDX")
if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
    skip "read-only index directory" "needs root, setpriv and the user nobody"
else
    # nobody may write the index file and read the tree, but not create
    # anything beside the index (WAL, shared memory, lock).
    chmod 711 "$T_TMP"
    chown nobody "$RIDX" "$RIDX".lock 2>/dev/null
    chmod 555 "$ro"
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$PRSEARCH_INDEX" -d "$RIDX" "$small" "$tree/c1" >/dev/null 2>"$T_TMP/err"; st=$?
    check_eq "read-only directory: exit 2" "$st" 2
    check_match "read-only directory: a clear message" "$(cat "$T_TMP/err")" \
        '(read-only|readonly|[Pp]ermission denied|cannot (open|create|write))'
    diag "message: $(head -c 300 "$T_TMP/err")"
    chmod 755 "$ro"
    check_eq "read-only directory: integrity_check ok" "$(sql "$RIDX" "pragma integrity_check")" ok
    check_eq "read-only directory: the index is intact" "$(state "$RIDX")" "$before"
    chmod 700 "$T_TMP"
fi

# ---- two runs at once ----------------------------------------------------
CIDX=$T_TMP/conc/index.db
mkdir -p "$T_TMP/conc"
"$PRSEARCH_INDEX" -q -d "$CIDX" "$tree/c1" 2>/dev/null
"$PRSEARCH_INDEX" -q --full -d "$CIDX" "$tree" 2>"$T_TMP/err1" &
p1=$!
sleep 0.3
"$PRSEARCH_INDEX" -q --full -d "$CIDX" "$tree" 2>"$T_TMP/err2"; st2=$?
wait "$p1"; st1=$?
if [[ $st2 == 2 ]]; then
    check_match "two runs at once: the first completes" "$st1" '^[01]$'
    check_match "two runs at once: the second exits 2 with the lock message" \
        "$(cat "$T_TMP/err2")" 'another prsearch-index run'
else
    check_match "two runs at once: the second waited and completed" "$st2" '^[01]$'
    check_match "two runs at once: the first completes" "$st1" '^[01]$'
fi
check_eq "two runs at once: integrity_check ok" "$(sql "$CIDX" "pragma integrity_check")" ok
check_eq "two runs at once: FTS5 integrity-check ok" "$(fts_check "$CIDX")" ""
check_eq "two runs at once: the index holds the tree" "$(state "$CIDX")" "$S_FULL"

done_testing
