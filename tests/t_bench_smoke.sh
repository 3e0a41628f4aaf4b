# t_bench_smoke.sh - the benchmark suite's smoke mode (bench/run.sh --smoke:
# 1,000 generated pages, short warm runs, Sphinx only when already
# installed) runs, stays under a minute, and writes JSON with the fields
# the full run reports. The full run is a documented command, not a test.
source "$(dirname "$0")/lib.sh"

if ! have_corpus; then
    skip "bench smoke" "no corpus at $PR_CORPUS"
    done_testing; exit
fi
for p in "$PRSEARCH_INDEX" "$PRSEARCHD"; do
    if [[ ! -x $p ]]; then skip "bench smoke" "$(basename "$p") is not built"; done_testing; exit; fi
done
if ! command -v jq >/dev/null || ! command -v sqlite3 >/dev/null || [[ ! -x /usr/bin/time ]]; then
    skip "bench smoke" "needs jq, sqlite3 and /usr/bin/time (apt-get install jq sqlite3 time)"
    done_testing; exit
fi

out="$T_TMP/bench"
start=$(date +%s)
BENCH_OUT="$out" timeout 300 bash "$PR_SRCDIR/bench/run.sh" --smoke >"$T_TMP/smoke.out" 2>"$T_TMP/smoke.err"
st=$?
secs=$(( $(date +%s) - start ))
check_eq "bench/run.sh --smoke exits 0" "$st" 0
[[ $st == 0 ]] || diag "$(tail -15 "$T_TMP/smoke.err")"
load=$(cut -d' ' -f1 /proc/loadavg)
if (( secs < 60 )); then ok "smoke run under a minute (${secs}s)"
elif awk -v l="$load" -v c="$(nproc)" 'BEGIN{exit !(l > 2 * c)}'; then
    skip "smoke run under a minute" "took ${secs}s on a loaded machine (load average $load)"
else
    not_ok "smoke run under a minute"; diag "took ${secs}s, load average $load"
fi
json="$out/bench-1000.json"
valid_json() { jq -e . "$1" >/dev/null 2>&1; }
check "bench-1000.json is valid JSON" valid_json "$json"
# Fields the full run reports: each must be a number (Sphinx ones may be
# null when Sphinx is not installed).
for f in .index.prsearch.seconds .index.prsearch.docs_per_s .index.prsearch.mb_per_s \
         .index.prsearch.peak_rss_mb .index.prsearch.index_mb .index.rerun_nochange.seconds \
         .index.rerun_one_changed.seconds .index.fts5_floor.seconds .index.ratios.time_vs_fts5_floor \
         .query.inprocess.cold.p50_ms .query.inprocess.cold.p99_ms .query.inprocess.cold.max_ms \
         .query.inprocess.warm.p50_ms .query.inprocess.warm.p99_ms \
         .query.daemon.cache.cold.p99_ms .query.daemon.cache.warm.rps .query.real_corpus.worst_query.p99_ms; do
    v=$(jq -r "$f | numbers" "$json" 2>/dev/null)
    check_match "$f is a number" "$v" '^[0-9.e+-]+$'
done
check_eq "all 1000 pages indexed" "$(jq -r .index.prsearch.documents "$json")" 1000
check_eq "no-change rerun reads nothing" "$(jq -r .index.rerun_nochange.unchanged "$json")" 1000
check_eq "one changed file is updated" "$(jq -r .index.rerun_one_changed.updated "$json")" 1
check_eq "cold mix: no query errors" "$(jq -r .query.inprocess.cold.errors "$json")" 0
check_eq "daemon: no failed request" "$(jq -r '.query.daemon.cache.cold.failed' "$json")" 0
for f in .index.sphinx .query.sphinx; do
    t=$(jq -r "$f | type" "$json")
    if [[ $t == null ]]; then skip "$f" "Sphinx not installed"; else check_eq "$f is an object" "$t" object; fi
done
check_contains "the table is printed" "$(cat "$T_TMP/smoke.out")" "prsearch-index (new index)"

# Matches found by walking each phrase's pages (lib/search_walk.c) against
# the same queries row by row through SQL, on these 1,000 pages: every
# answer of the mix the same, byte for byte (took_ms aside). These pages
# hold what the unit fixture does not: long forms typed as words that
# other pages name only by their acronym.
qd="$out/bin/query_driver" db="$out/index-1000.db" mix="$T_TMP/mix.txt"
if [[ -x $qd && -f $db ]]; then
    "$qd" stream -f "$PR_SRCDIR/bench/queries.txt" -n 0 -z 42 >"$mix"
    QUERY_DRIVER_ANSWERS=1 "$qd" run -d "$db" -f "$mix" 2>"$T_TMP/walk.txt" >/dev/null
    QUERY_DRIVER_NO_WALK=1 QUERY_DRIVER_ANSWERS=1 "$qd" run -d "$db" -f "$mix" \
        2>"$T_TMP/sql.txt" >/dev/null
    check_eq "an answer for every query of the mix" "$(grep -c . "$T_TMP/walk.txt")" \
        "$(grep -c . "$mix")"
    check_eq "walked and row by row: the same answers" \
        "$(diff "$T_TMP/walk.txt" "$T_TMP/sql.txt" | grep -c '^<')" 0
else
    not_ok "the smoke run left its index and query_driver"
fi
done_testing
