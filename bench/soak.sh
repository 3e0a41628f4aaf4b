#!/usr/bin/env bash
# bench/soak.sh - soak test of prsearchd (not CI): N minutes of mixed
# search traffic through the real daemon while prsearch-index reruns every
# 30 s on a copy of the corpus that keeps changing (a page appended to,
# one touched, one deleted, one restored). Checks what a long unattended
# run must show: no failed request, memory that does not grow beyond its
# caches, latency that stays flat.
#
# Prints one line a minute (requests, errors, p50/p99/max latency, the
# daemon's RSS), then the totals: requests, errors (must be 0), RSS at
# start, end and max, indexer runs. The figures are also kept in
# bench/out/soak.txt. Exit 0 when there was no error, 1 otherwise.
#
# Usage: bench/soak.sh [MINUTES]      (default 10)
# Environment: SOAK_CONNS (8 keep-alive connections), SOAK_RPS (400
# requests/s in all; 0 = as fast as answered), SOAK_REINDEX_S (30),
# SOAK_TRANSPORT (tcp or unix), PR_CORPUS, PR_BUILDDIR. The load client
# and the indexer run under `nice` and the load is paced (a shared
# machine); the daemon runs at normal priority, as in production, so that
# a query's 250 ms time budget measures the daemon and not our niceness.
# tests/tool_abuse.c is compiled with cc.
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${PR_BUILDDIR:-$SRC}
CORPUS=${PR_CORPUS:-$SRC/../shared/corpus}
MINUTES=${1:-10}
CONNS=${SOAK_CONNS:-8}
RPS=${SOAK_RPS:-400}
EVERY=${SOAK_REINDEX_S:-30}
TRANSPORT=${SOAK_TRANSPORT:-tcp}
OUT=$SRC/bench/out
mkdir -p "$OUT"
exec > >(tee "$OUT/soak.txt") 2>&1

[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -gt 0 ]] || { echo "usage: bench/soak.sh [MINUTES]"; exit 2; }
for p in "$BUILD/daemon/prsearchd" "$BUILD/indexer/prsearch-index"; do
    [[ -x $p ]] || { echo "$p is not built (make)"; exit 2; }
done
[[ -f $CORPUS/_config.yml ]] || { echo "no corpus at $CORPUS (set PR_CORPUS)"; exit 2; }

TMP=$(mktemp -d /tmp/prsearch-soak.XXXXXX)
DPID='' LPID='' RPID=''
cleanup() {
    for p in $LPID $RPID; do kill "$p" 2>/dev/null; done
    # (waits for these only: a bare `wait` would also wait for the tee
    # below, which waits for us)
    for p in $LPID $RPID; do wait "$p" 2>/dev/null; done
    if [[ -n $DPID ]]; then kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/tool_abuse" "$SRC/tests/tool_abuse.c" -lpthread || exit 2
NICE="nice -n 10"

# ---- the corpus copy, its index, the daemon --------------------------------
cp -r "$CORPUS" "$TMP/site"
mkdir -p "$TMP/trash"
$NICE "$BUILD/indexer/prsearch-index" -q -d "$TMP/idx.db" "$TMP/site" 2>"$TMP/index0.err"
[[ $? -le 1 ]] || { echo "the first index run failed:"; cat "$TMP/index0.err"; exit 2; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCK=$TMP/d.sock
"$BUILD/daemon/prsearchd" -d "$TMP/idx.db" -s "$SOCK" --tcp "127.0.0.1:$PORT" \
    2>"$TMP/daemon.log" &
DPID=$!
for _ in $(seq 100); do
    curl -s -m 1 --unix-socket "$SOCK" http://d/health 2>/dev/null | grep -q '"ok"' && break
    sleep 0.05
done
kill -0 "$DPID" 2>/dev/null || { echo "prsearchd did not start:"; cat "$TMP/daemon.log"; exit 2; }
if [[ $TRANSPORT == unix ]]; then TARGET=(-u "$SOCK"); else TARGET=(-t "127.0.0.1:$PORT"); fi

# ---- the traffic: what visitors of the site send -----------------------------
# bench/queries.txt (272 queries in 8 classes), as settled searches (one in
# ten with log=1, as the search page sends them), pages 2 and 3, bigger
# pages, as-you-type prefixes and suggestions: about 1,300 distinct targets,
# so the answer cache serves some and the workers the rest, and every
# reindex empties it.
python3 - "$SRC/bench/queries.txt" >"$TMP/targets" <<'PY'
import random, sys, urllib.parse
random.seed(7)
qs = [l.rstrip("\n").split("\t", 1)[1] for l in open(sys.argv[1], encoding="utf-8")
      if l.strip() and not l.startswith("#") and "\t" in l]
out = []
for i, q in enumerate(qs):
    e = urllib.parse.quote_plus(q)
    out.append("/search?q=" + e)
    out.append("/search?q=%s&log=1" % e if i % 10 == 0 else "/search?q=%s&limit=20" % e)
    out.append("/search?q=%s&offset=10" % e)
    words = q.replace('"', "").split()
    if words and len(words[-1]) >= 3:
        last = words[-1]
        for n in (3, 5):
            if len(last) > n:
                part = urllib.parse.quote_plus(" ".join(words[:-1] + [last[:n]]))
                out.append("/search?q=%s&prefix=1" % part)
                out.append("/suggest?q=%s" % part)
random.shuffle(out)
print("\n".join(out))
PY
echo "soak: $MINUTES min, $CONNS connections over $TRANSPORT, at most $RPS requests/s," \
     "$(wc -l <"$TMP/targets") distinct targets; reindex every $EVERY s; daemon pid $DPID"
echo "soak: $(date -u +%FT%TZ) on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the indexer: a changing site, reindexed every EVERY seconds -------------
reindexer() {
    local n=0 st t0 files deleted=''
    while :; do
        sleep "$EVERY"
        n=$((n + 1))
        mapfile -t files < <(find "$TMP/site" -name '*.md' -o -name '*.markdown' |
                             shuf -n 3 --random-source=<(yes "$n"))
        # A page edited, a page touched (same bytes), the page deleted the
        # time before restored, a page deleted.
        printf '\n\nMise à jour %d du soak : recrutement, données ouvertes, numérique.\n' "$n" \
            >>"${files[0]}"
        touch "${files[1]}"
        [[ -n $deleted ]] && mv "$TMP/trash/page" "$TMP/site/$deleted"
        deleted=${files[2]#"$TMP/site/"}
        mv "${files[2]}" "$TMP/trash/page"
        t0=$(date +%s.%N)
        $NICE "$BUILD/indexer/prsearch-index" -q --json -d "$TMP/idx.db" "$TMP/site" \
            >"$TMP/index.json" 2>>"$TMP/index.err"
        st=$?
        printf 'reindex %d: exit %d in %.2f s %s\n' "$n" "$st" \
            "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$(cat "$TMP/index.json")" \
            >>"$TMP/reindex.log"
    done
}
reindexer &
RPID=$!

# ---- run ---------------------------------------------------------------------
$NICE "$TMP/tool_abuse" soak "${TARGET[@]}" -c "$CONNS" -R "$RPS" -d $((MINUTES * 60)) -i 60 \
    -f "$TMP/targets" -p "$DPID" -r 200 >"$TMP/load.out" 2>"$TMP/load.err" &
LPID=$!
tail -f "$TMP/load.out" --pid "$LPID" 2>/dev/null | sed -u 's/^/  /' &
wait "$LPID"
LPID=''
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
RPID=''
sleep 0.2

# ---- report ------------------------------------------------------------------
total=$(grep '^total ' "$TMP/load.out")
get() { grep -o "$1=[0-9.]*" <<<"$total" | cut -d= -f2; }
metrics=$(curl -s -m 5 --unix-socket "$SOCK" http://d/metrics)
metric() { awk -v m="$1" '$1 == m {print $2}' <<<"$metrics"; }
runs=$(wc -l <"$TMP/reindex.log" 2>/dev/null || echo 0)
bad_runs=$(grep -vc 'exit [01] ' "$TMP/reindex.log" 2>/dev/null)
errors_logged=$(grep -c 'error' "$TMP/daemon.log")
echo
echo "requests      $(get requests) in $(get seconds) s ($(awk -v r="$(get requests)" -v s="$(get seconds)" 'BEGIN{printf "%.0f", r/s}') /s)"
echo "errors        $(get errors) (non-200 answers or broken connections; must be 0)"
echo "RSS (KiB)     start $(get rss_start_kb), end $(get rss_end_kb), max $(get rss_max_kb)"
echo "reindex runs  $runs ($bad_runs failed); index reopens seen by the daemon: $(metric prsearchd_index_reopens_total)"
echo "answer cache  hits $(metric prsearchd_cache_hits_total), misses $(metric prsearchd_cache_misses_total), entries $(metric prsearchd_cache_entries)"
echo "daemon log    $errors_logged lines with 'error'; still running: $(kill -0 "$DPID" 2>/dev/null && echo yes || echo NO)"
echo "last reindex  $(tail -n 1 "$TMP/reindex.log" 2>/dev/null)"
if [[ -s $TMP/load.err ]]; then echo "client errors:"; head -5 "$TMP/load.err" | sed 's/^/  /'; fi
if [[ $errors_logged != 0 ]]; then grep error "$TMP/daemon.log" | head -5 | sed 's/^/  /'; fi
[[ $(get errors) == 0 && $bad_runs == 0 ]] && kill -0 "$DPID" 2>/dev/null
