#!/usr/bin/env bash
# bench/bench_query.sh - query benchmark: latency of the fixed query mix
# (bench/queries.txt) in-process, through prsearchd, and on Sphinx's
# searchd over SphinxQL, on the index bench_index.sh built for N pages.
#
#   bench/bench_query.sh [N]        (default 10000; needs bench_index.sh N
#                                    first, and runs it when its index is missing)
#
# - cold: each query of the mix once, in a seeded shuffled order, one
#   connection; cut at $BENCH_COLD_SECONDS (600) per engine, reporting how
#   many ran (a fair sample, thanks to the shuffle);
# - warm: a Zipf-distributed stream of $BENCH_STREAM (10,000) queries drawn
#   deterministically from the mix (query_driver stream), the same for
#   every engine: in-process one query at a time (all of it, or until
#   $BENCH_WARM_SECONDS x 2); through the daemon and Sphinx, $BENCH_CONNS
#   connections for $BENCH_WARM_SECONDS seconds, connection i walking the
#   stream from line i (tests/tool_httpclient's load mode; sphinxql_bench
#   does the same);
# - the daemon runs with its default settings (answer cache on) and once
#   more with cache_entries = 0, both with query_budget_ms = 0 so no query is
#   cut short; Sphinx 2.2 with its defaults (it has no result cache: qcache
#   came with 2.3), so the no-cache line is the engine-to-engine comparison;
# - the real corpus (../shared/corpus): the mix 100 times in-process, the
#   worst query's p99 (goal: under 1 ms); a p99 needs 100 samples: over 20
#   it is the slowest run, which one scheduler stall on a shared machine
#   decides.
# Knobs: BENCH_STREAM, BENCH_WARM_SECONDS (20), BENCH_CONNS (4), BENCH_COLD_SECONDS,
# BENCH_DAEMON_NOCACHE=0 (skip the no-cache daemon), BENCH_REAL_RUNS (100).
# Prints a table and writes $BENCH_OUT/query-N.json.
set -u
source "$(dirname "$0")/lib.sh"

N=${1:-10000}
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "usage: bench_query.sh [N]"
: "${BENCH_STREAM:=10000}"
: "${BENCH_WARM_SECONDS:=20}"
: "${BENCH_CONNS:=4}"
: "${BENCH_COLD_SECONDS:=600}"
QUERIES="$PR_SRCDIR/bench/queries.txt"
DB="$BENCH_OUT/index-$N.db"
if [[ ! -f "$DB" ]]; then
    bash "$PR_SRCDIR/bench/bench_index.sh" "$N" || die "bench_index.sh $N failed"
fi
need_programs "$PRSEARCHD"
[[ -x "$HTTPCLIENT" ]] || make -C "$PR_BUILDDIR" -j2 tests/tool_httpclient >/dev/null 2>&1 \
    || say "bench: tests/tool_httpclient cannot be built: no daemon figures"
build_tools
W="$BENCH_OUT/work-q$N"
rm -rf "$W"
mkdir -p "$W"
machine=$(machine_json)
nq=$(grep -cv '^#' "$QUERIES")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [[ -n ${SPH:-} ]] && sphinx_stop "$SPH"
}
trap cleanup EXIT

"$BENCH_BIN/query_driver" stream -f "$QUERIES" -n "$BENCH_STREAM" -z "$BENCH_SEED" >"$W/stream.txt"
"$BENCH_BIN/query_driver" stream -f "$QUERIES" -n 0 -z "$BENCH_SEED" >"$W/mix.txt"

# ---- in-process -----------------------------------------------------------
say "bench: in-process, cold mix ($nq queries, at most $BENCH_COLD_SECONDS s)"
"$BENCH_BIN/query_driver" run -d "$DB" -f "$W/mix.txt" -t "$BENCH_COLD_SECONDS" >"$W/inproc_cold.json" \
    || say "bench: query errors (cold)"
cold_done=$(json_num n <"$W/inproc_cold.json")
say "bench: in-process, warm stream ($BENCH_STREAM queries, at most $((BENCH_WARM_SECONDS * 2)) s)"
"$BENCH_BIN/query_driver" run -d "$DB" -f "$W/stream.txt" -t $((BENCH_WARM_SECONDS * 2)) \
    >"$W/inproc_warm.json" || say "bench: query errors (warm)"

# ---- through the daemon ---------------------------------------------------------
urlencode() { # stdin CLASS<TAB>QUERY lines -> /search?q=...&limit=10 targets
    LC_ALL=C awk -F'\t' 'BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
        { q = $2; out = ""
          for (i = 1; i <= length(q); i++) {
              c = substr(q, i, 1)
              out = out (c ~ /[A-Za-z0-9._~-]/ ? c : sprintf("%%%02X", ord[c]))
          }
          print "/search?q=" out "&limit=10" }'
}
daemon_json=null
if [[ -x "$HTTPCLIENT" ]]; then
    urlencode <"$W/mix.txt" >"$W/mix.targets"
    urlencode <"$W/stream.txt" >"$W/stream.targets"
    daemon_run() { # NAME CONFIG_LINES COLD: start prsearchd, [cold mix,] warm stream, stop
        local name=$1 port pid i cold="" warm rss
        port=$(free_port)
        printf '%b' "$2" >"$W/$name.conf"
        "$PRSEARCHD" -d "$DB" -s none --tcp "127.0.0.1:$port" -c "$W/$name.conf" 2>"$W/$name.log" &
        pid=$!
        PIDS+=("$pid")
        for i in $(seq 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
        # Cold: the mix once, or (when the in-process run hit its deadline)
        # for as long as that deadline, which cannot wrap around the mix.
        if [[ $3 == 1 && ${cold_done:-0} -ge $nq ]]; then
            cold=$("$HTTPCLIENT" load -t "127.0.0.1:$port" -c 1 -n "$nq" -x \
                -f "$W/mix.targets" 2>>"$W/$name.client.err")
        elif [[ $3 == 1 ]]; then
            cold=$("$HTTPCLIENT" load -t "127.0.0.1:$port" -c 1 -d "$BENCH_COLD_SECONDS" -x \
                -f "$W/mix.targets" 2>>"$W/$name.client.err")
        fi
        warm=$("$HTTPCLIENT" load -t "127.0.0.1:$port" -c "$BENCH_CONNS" -d "$BENCH_WARM_SECONDS" -x \
            -f "$W/stream.targets" 2>>"$W/$name.client.err")
        rss=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$pid/status" 2>/dev/null)
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        kv2json() { # key=value ... -> JSON numbers
            [[ -n $1 ]] || { echo null; return; }
            echo "$1" | tr ' ' '\n' | awk -F= 'NF==2 && $2 ~ /^[-0-9.]+$/ {printf "%s\"%s\":%s", (n++ ? "," : "{"), $1, $2} END {if (!n) printf "{"; printf "}"}'
        }
        printf '{"cold":%s,"warm":%s,"peak_rss_mb":%s}' "$(kv2json "$cold")" "$(kv2json "$warm")" "${rss:-null}"
    }
    say "bench: daemon (default settings, answer cache on)"
    daemon_cache=$(daemon_run daemon_cache 'query_budget_ms = 0\n' 1)
    daemon_nocache=null
    if [[ ${BENCH_DAEMON_NOCACHE:-1} == 1 ]]; then
        say "bench: daemon (cache_entries = 0)"
        daemon_nocache=$(daemon_run daemon_nocache 'query_budget_ms = 0\ncache_entries = 0\n' 0)
    fi
    daemon_json=$(printf '{"cache":%s,"nocache":%s,"conns":%s,"warm_seconds":%s}' \
        "$daemon_cache" "$daemon_nocache" "$BENCH_CONNS" "$BENCH_WARM_SECONDS")
fi

# ---- Sphinx ------------------------------------------------------------------------
sphinx_json=null
SPH="$BENCH_OUT/sphinx-$N"
if [[ -f "$SPH/sphinx.conf" && -f "$SPH/data/docs.spi" ]] && have_sphinx && build_sphinx_client; then
    port=$(free_port)
    sed -i "s|listen = 127.0.0.1:[0-9]*:mysql41|listen = 127.0.0.1:$port:mysql41|" "$SPH/sphinx.conf"
    sphinx_stop "$SPH"
    if sphinx_start "$SPH" "$port"; then
        awk -f "$PR_SRCDIR/bench/sphinx_query.awk" "$W/mix.txt" >"$W/mix.sql"
        awk -f "$PR_SRCDIR/bench/sphinx_query.awk" "$W/stream.txt" >"$W/stream.sql"
        say "bench: Sphinx searchd, cold mix"
        s_cold=$("$BENCH_BIN/sphinxql_bench" -P "$port" -f "$W/mix.sql" -c 1 2>"$W/sphinx.client.err")
        say "bench: Sphinx searchd, warm stream"
        s_warm=$("$BENCH_BIN/sphinxql_bench" -P "$port" -f "$W/stream.sql" -c "$BENCH_CONNS" \
            -n 1000000000 -t "$BENCH_WARM_SECONDS" 2>>"$W/sphinx.client.err")
        s_rss=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$(cat "$SPH/searchd.pid")/status" 2>/dev/null)
        sphinx_stop "$SPH"
        sphinx_json=$(printf '{"cold":%s,"warm":%s,"peak_rss_mb":%s}' "${s_cold:-null}" \
            "${s_warm:-null}" "${s_rss:-null}")
    else
        say "bench: searchd did not start: $(tail -3 "$SPH/searchd.out")"
    fi
else
    say "bench: Sphinx skipped (no Sphinx index from bench_index.sh $N, or not installable)"
fi
SPH=""

# ---- the real corpus ---------------------------------------------------------------
real_json=null
if [[ -f "$PR_CORPUS/_config.yml" ]]; then
    say "bench: real corpus, the mix ${BENCH_REAL_RUNS:-100} times"
    RDB="$W/real.db"
    "$PRSEARCH_INDEX" -q -d "$RDB" "$PR_CORPUS" >/dev/null 2>&1
    real_json=$("$BENCH_BIN/query_driver" run -d "$RDB" -f "$W/mix.txt" -w -r "${BENCH_REAL_RUNS:-100}" 2>/dev/null) || real_json=null
    [[ -n $real_json ]] || real_json=null
fi

# ---- report ----------------------------------------------------------------------------
ic=$(cat "$W/inproc_cold.json"); iw=$(cat "$W/inproc_warm.json")
get() { echo "$1" | jq -r "$2 // \"-\"" 2>/dev/null || echo -; }
JSON="$BENCH_OUT/query-$N.json"
cat >"$JSON" <<EOF
{"bench":"query","n":$N,"seed":$BENCH_SEED,"machine":$machine,"queries":$nq,"stream":$BENCH_STREAM,
 "inprocess":{"cold":${ic:-null},"warm":${iw:-null}},
 "daemon":$daemon_json,
 "sphinx":$sphinx_json,
 "real_corpus":$real_json,
 "load_avg_end":"$(cut -d' ' -f1-3 /proc/loadavg)"}
EOF
if ! jq . "$JSON" >/dev/null 2>&1; then
    say "bench: warning: $JSON is not valid JSON"
else
    jq '. + {ratios: {
        cold_p99_inprocess_vs_sphinx: (try (.inprocess.cold.p99_ms / .sphinx.cold.p99_ms) catch null),
        cold_p50_inprocess_vs_sphinx: (try (.inprocess.cold.p50_ms / .sphinx.cold.p50_ms) catch null),
        cold_p99_daemon_vs_sphinx: (try (.daemon.cache.cold.p99_ms / .sphinx.cold.p99_ms) catch null),
        warm_rps_daemon_vs_sphinx: (try (.daemon.cache.warm.rps / .sphinx.warm.qps) catch null),
        warm_rps_daemon_nocache_vs_sphinx: (try (.daemon.nocache.warm.rps / .sphinx.warm.qps) catch null)}}' \
        "$JSON" >"$JSON.tmp" && mv "$JSON.tmp" "$JSON"
fi

J=$(cat "$JSON")
row() { printf '  %-40s %9s %9s %9s %10s\n' "$@"; }
r2() { [[ $1 =~ ^[-0-9.e+]+$ ]] && printf '%.2f' "$1" || printf '%s' "${1:--}"; }
g() { r2 "$(get "$J" "$1")"; }
printf '\nQueries on %s pages: mix of %s (cold), Zipf stream of %s (warm), %s\n' "$N" "$nq" "$BENCH_STREAM" "$(date -u +%FT%TZ)"
row "" "p50 ms" "p99 ms" "max ms" "queries/s"
row "in-process, cold ($(get "$J" .inprocess.cold.n) run)" "$(g .inprocess.cold.p50_ms)" "$(g .inprocess.cold.p99_ms)" "$(g .inprocess.cold.max_ms)" "$(g .inprocess.cold.qps)"
row "in-process, warm ($(get "$J" .inprocess.warm.n) run)" "$(g .inprocess.warm.p50_ms)" "$(g .inprocess.warm.p99_ms)" "$(g .inprocess.warm.max_ms)" "$(g .inprocess.warm.qps)"
if [[ $daemon_json != null ]]; then
    row "daemon, cold (1 conn, $(get "$J" .daemon.cache.cold.requests) run)" "$(g .daemon.cache.cold.p50_ms)" "$(g .daemon.cache.cold.p99_ms)" "$(g .daemon.cache.cold.max_ms)" "$(g .daemon.cache.cold.rps)"
    row "daemon, warm ($BENCH_CONNS conns, cache)" "$(g .daemon.cache.warm.p50_ms)" "$(g .daemon.cache.warm.p99_ms)" "$(g .daemon.cache.warm.max_ms)" "$(g .daemon.cache.warm.rps)"
    [[ $daemon_nocache != null ]] && row "daemon, warm ($BENCH_CONNS conns, no cache)" "$(g .daemon.nocache.warm.p50_ms)" "$(g .daemon.nocache.warm.p99_ms)" "$(g .daemon.nocache.warm.max_ms)" "$(g .daemon.nocache.warm.rps)"
fi
if [[ $sphinx_json != null ]]; then
    row "Sphinx searchd, cold (1 conn)" "$(g .sphinx.cold.p50_ms)" "$(g .sphinx.cold.p99_ms)" "$(g .sphinx.cold.max_ms)" "$(g .sphinx.cold.qps)"
    row "Sphinx searchd, warm ($BENCH_CONNS conns)" "$(g .sphinx.warm.p50_ms)" "$(g .sphinx.warm.p99_ms)" "$(g .sphinx.warm.max_ms)" "$(g .sphinx.warm.qps)"
fi
[[ $real_json != null ]] && printf "  real corpus, mix x${BENCH_REAL_RUNS:-100} in-process:"' p50 %s ms, p99 %s ms, worst query %s at p99 %s ms (goal < 1 ms)\n' \
    "$(g .real_corpus.p50_ms)" "$(g .real_corpus.p99_ms)" \
    "$(g .real_corpus.worst_query.q)" "$(g .real_corpus.worst_query.p99_ms)"
printf '  ratios: cold p99 in-process/Sphinx %s (goal < 2); warm queries/s daemon/Sphinx %s with our answer cache, %s without (goal >= 1)\n' \
    "$(g .ratios.cold_p99_inprocess_vs_sphinx)" "$(g .ratios.warm_rps_daemon_vs_sphinx)" \
    "$(g .ratios.warm_rps_daemon_nocache_vs_sphinx)"
printf '  slowest in-process (cold): %s\n' "$(echo "$J" | jq -r '[.inprocess.cold.slowest[] | "\(.q) \(.ms|floor) ms/\(.total) hits"] | join("; ")' 2>/dev/null)"
printf '  JSON: %s\n' "$JSON"
