#!/usr/bin/env bash
# Search analytics through the real daemon and client: settled searches
# (log=1) are recorded normalised with their hit count, beside the index by
# default; keystrokes (no log=1) and /suggest are not; `prsearch --stats`
# shows top queries, queries with no results and the trend, --since and
# --json work; `analytics = off` records nothing; an unwritable file only
# turns analytics off; PRSEARCH_ANALYTICS (the service's) names the file
# for both programs. Runs on the sample site (no corpus needed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

SITE=$T_TMP/site
IDX=$T_TMP/idx.db
ADB=$T_TMP/idx.analytics.db
SOCK=$T_TMP/d.sock
make_index "$SITE" "$IDX"
check "the test index is built" test -s "$IDX"

if ! start_daemon d "$SOCK" -d "$IDX" -s "$SOCK" --threads 2; then
    not_ok "prsearchd starts"; diag "$(cat "$T_TMP/d.log")"; done_testing; exit 1
fi
ok "prsearchd starts with analytics on by default"
check_contains "the log says where searches are recorded" "$(cat "$T_TMP/d.log")" \
    "analytics: recording settled searches (log=1) in $ADB"

total=$(req "/search?q=%C3%A9tat+num%C3%A9rique" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
check_match "the query has hits" "$total" '^[1-9][0-9]*$'
# Three spellings of one query, one with a filter, one with no results.
req "/search?q=%C3%A9tat+num%C3%A9rique&log=1" >/dev/null
req "/search?q=%C3%89TAT++Num%C3%A9rique&log=1" >/dev/null
req "/search?q=etat%20numerique&limit=5&log=1" >/dev/null       # answered from the cache or not
req "/search?q=etat+numerique&collection=communiques&after=2021-01-01&before=2021-12-31&log=1" >/dev/null
req "/search?q=xyzzyplugh&log=1" >/dev/null
req "/search?q=xyzzyplugh&log=1" >/dev/null
# Not counted: keystrokes, completions, errors.
req "/search?q=keystroke&prefix=1" >/dev/null
req "/search?q=keystroke&log=0" >/dev/null
req "/suggest?q=keystroke&log=1" >/dev/null
req "/search?q=badlimit&limit=0&log=1" >/dev/null
want=6
for _ in $(seq 50); do
    written=$(req /metrics | sed -n 's/^prsearchd_analytics_written_total \([0-9]*\)$/\1/p')
    [[ $written == "$want" ]] && break
    sleep 0.1
done
check_eq "the writer thread wrote the 6 settled searches" "$written" "$want"
m=$(req /metrics)
check_contains "/metrics: analytics enabled" "$m" "prsearchd_analytics_enabled 1"
check_contains "/metrics: nothing dropped" "$m" "prsearchd_analytics_dropped_total 0"
check "the analytics file is beside the index" test -s "$ADB"

rows=$(sqlite3 "$ADB" "select query || '|' || count || '|' || hits from searches order by query")
check_contains "spellings are folded into one query with its hit count" "$rows" "etat numerique|3|$total"
check_contains "filters are kept in a stable form" "$rows" "etat numerique collection:communiques year:2021|1|"
check_contains "a query without results has 0 hits" "$rows" "xyzzyplugh|2|0"
check_eq "keystrokes, completions and errors are not recorded" "$(grep -c keystroke <<<"$rows")$(grep -c badlimit <<<"$rows")" "00"
cols=$(sqlite3 "$ADB" "select group_concat(name) from pragma_table_info('searches')")
check_eq "nothing personal is stored: day, query, count, hits" "$cols" "day,query,count,hits"

out=$("$PRSEARCH" --stats -d "$IDX"); st=$?
check_eq "prsearch --stats exits 0" "$st" 0
check_match "--stats: top queries with counts and hits" "$out" $'Top queries\n +searches +hits +query\n +3 +'"$total"$'  etat numerique\n'
check_match "--stats: queries with no results" "$out" $'Queries with no results\n +searches +query\n +2  xyzzyplugh\n'
check_match "--stats: searches per day" "$out" $'Searches per day\n  '"$(date -u +%F)"' +6  #'
check_contains "--stats: totals" "$out" "6 searches, 3 distinct queries"

# An older day, written as the daemon would, for --since and the trend.
sqlite3 "$ADB" "insert into searches values('2020-01-15','ancienne recherche',4,0)"
out=$("$PRSEARCH" --stats -d "$IDX")
check_contains "--stats: the older day counts" "$out" "10 searches, 4 distinct queries"
check_match "--stats: over more than 31 days the trend is per week" "$out" $'Searches per week\n  2020-W02 +4 '
out=$("$PRSEARCH" --stats --since "$(date -u +%F)" -d "$IDX")
check_contains "--since leaves older days out" "$out" "6 searches, 3 distinct queries"
check_eq "--since: no older query in the lists" "$(grep -c 'ancienne recherche' <<<"$out")" 0
out=$("$PRSEARCH" --stats --since 2999-01-01 --analytics "$ADB")
check_contains "--analytics FILE and a --since in the future" "$out" "0 searches, 0 distinct queries"
check_exit "--since with a bad date exits 2" 2 "$PRSEARCH" --stats --since 2024-13-01 -d "$IDX"
check_exit "--stats without an analytics file exits 2" 2 "$PRSEARCH" --stats --analytics "$T_TMP/none.db"
check_contains "... saying where it looked" "$(cat "$T_TMP/last.err")" "no search analytics in $T_TMP/none.db"
json=$("$PRSEARCH" --stats --json -n 2 -d "$IDX")
check "--json is one JSON object with the lists" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["since"] is None and d["per"] == "week", d
assert [q["query"] for q in d["top"]] == ["ancienne recherche", "etat numerique"], d["top"]
assert d["no_results"][0] == {"query": "ancienne recherche", "count": 4, "last": "2020-01-15"}
assert d["totals"]["searches"] == 10
' "$json"

stop_daemon
check_eq "prsearchd stops cleanly" "$DSTATUS" 0

# ---- analytics = off ----------------------------------------------------
IDX2=$T_TMP/off.db
cp "$IDX" "$IDX2"
printf 'analytics = off\n' >"$T_TMP/off.conf"
if start_daemon off "$SOCK" -d "$IDX2" -s "$SOCK" -c "$T_TMP/off.conf"; then
    req "/search?q=etat&log=1" >/dev/null
    req "/search?q=etat&log=1" >/dev/null
    check_contains "analytics = off: /metrics says so" "$(req /metrics)" "prsearchd_analytics_enabled 0"
    stop_daemon
    check "analytics = off: no file is created" test ! -e "$T_TMP/off.analytics.db"
    check_contains "analytics = off: logged" "$(cat "$T_TMP/off.log")" "analytics: off"
else
    not_ok "prsearchd starts with analytics = off"; diag "$(cat "$T_TMP/off.log")"
fi

# ---- a file that cannot be written: searches still answered -------------
printf 'analytics_db = %s/no/such/dir/a.db\n' "$T_TMP" >"$T_TMP/bad.conf"
if start_daemon bad "$SOCK" -d "$IDX2" -s "$SOCK" -c "$T_TMP/bad.conf"; then
    check_match "unwritable analytics_db: searches are answered" "$(req "/search?q=etat&log=1")" '^200 '
    check_contains "unwritable analytics_db: one log line, analytics off" "$(cat "$T_TMP/bad.log")" \
        "analytics: off, cannot write $T_TMP/no/such/dir/a.db"
    stop_daemon
else
    not_ok "prsearchd starts with an unwritable analytics_db"; diag "$(cat "$T_TMP/bad.log")"
fi

# ---- analytics_db names the file -----------------------------------------
printf 'analytics_db = %s/custom.db\n' "$T_TMP" >"$T_TMP/custom.conf"
if start_daemon custom "$SOCK" -d "$IDX2" -s "$SOCK" -c "$T_TMP/custom.conf"; then
    req "/search?q=etat&log=1" >/dev/null
    stop_daemon # the queue is written before exit
    check_contains "analytics_db: recorded there, flushed at exit" \
        "$("$PRSEARCH" --stats --analytics "$T_TMP/custom.db")" "1 searches, 1 distinct queries"
else
    not_ok "prsearchd starts with analytics_db"; diag "$(cat "$T_TMP/custom.log")"
fi

# ---- PRSEARCH_ANALYTICS (set by prsearchd.service) ------------------------
# The daemon records there unless the configuration names a file, and
# `prsearch --stats` reads it unless -d or --analytics says otherwise.
if PRSEARCH_ANALYTICS=$T_TMP/env.db start_daemon env "$SOCK" -d "$IDX2" -s "$SOCK"; then
    req "/search?q=etat&log=1" >/dev/null
    req "/search?q=eig&log=1" >/dev/null
    stop_daemon
    check_contains "PRSEARCH_ANALYTICS: the daemon records there" "$(cat "$T_TMP/env.log")" \
        "analytics: recording settled searches (log=1) in $T_TMP/env.db"
    check_contains "PRSEARCH_ANALYTICS: prsearch --stats reads it" \
        "$(PRSEARCH_ANALYTICS=$T_TMP/env.db "$PRSEARCH" --stats)" "2 searches, 2 distinct queries"
    check_contains "... but -d names the index whose file to read" \
        "$(PRSEARCH_ANALYTICS=$T_TMP/env.db "$PRSEARCH" --stats -d "$T_TMP/custom.db" 2>&1)" \
        "no search analytics in $T_TMP/custom.analytics.db"
else
    not_ok "prsearchd starts with PRSEARCH_ANALYTICS"; diag "$(cat "$T_TMP/env.log")"
fi
if PRSEARCH_ANALYTICS=$T_TMP/env.db start_daemon env2 "$SOCK" -d "$IDX2" -s "$SOCK" -c "$T_TMP/custom.conf"; then
    stop_daemon
    check_contains "... and analytics_db in the configuration wins over it" "$(cat "$T_TMP/env2.log")" \
        "analytics: recording settled searches (log=1) in $T_TMP/custom.db"
else
    not_ok "prsearchd starts with PRSEARCH_ANALYTICS and analytics_db"; diag "$(cat "$T_TMP/env2.log")"
fi
done_testing
