#!/usr/bin/env bash
# bench/bench_daemon.sh - throughput and latency of prsearchd on the
# corpus index, against nginx serving a static JSON file of the same size
# on loopback (the machine's ceiling for one small HTTP answer).
#
# Starts the real daemon (build tree) on an index of the corpus, drives it
# over TCP with wrk (Debian package) and over its Unix socket with
# tests/tool_httpclient, with a mix of realistic queries at 1, 8 and 64
# connections; then the same wrk load on nginx. Prints requests/s, p50 and
# p99 latency, our/nginx ratios and the daemon's peak resident memory
# (also written to bench/out/bench_daemon.txt).
#
# Usage: bench/bench_daemon.sh        (BENCH_SECONDS=10, PR_CORPUS=...)
# Installs wrk and nginx with apt-get when they are missing (needs root).
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${PR_BUILDDIR:-$SRC}
CORPUS=${PR_CORPUS:-$SRC/../shared/corpus}
SECS=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
OUT=$SRC/bench/out
mkdir -p "$OUT"
exec > >(tee "$OUT/bench_daemon.txt") # the figures are kept in bench/out/

need_pkg() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need_pkg wrk wrk
need_pkg nginx nginx-light
[[ -x /usr/sbin/nginx ]] || { echo "nginx not found" >&2; exit 2; }
for p in "$BUILD/daemon/prsearchd" "$BUILD/indexer/prsearch-index" "$BUILD/tests/tool_httpclient"; do
    [[ -x $p ]] || { echo "$p is not built (make && make check)" >&2; exit 2; }
done
if [[ ! -f $CORPUS/_config.yml ]]; then
    echo "no corpus at $CORPUS (set PR_CORPUS); using the sample site in data/" >&2
    CORPUS=$SRC/data
fi

TMP=$(mktemp -d /tmp/prsearch-bench.XXXXXX)
chmod 755 "$TMP" # nginx workers (www-data) read the static file below it
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the index and the daemon -----------------------------------------------
"$BUILD/indexer/prsearch-index" -q -d "$TMP/idx.db" "$CORPUS" || true
DPORT=$(port)
SOCK=$TMP/d.sock
"$BUILD/daemon/prsearchd" -d "$TMP/idx.db" -s "$SOCK" --tcp "127.0.0.1:$DPORT" \
    --threads "$THREADS" 2>"$TMP/daemon.log" &
DPID=$!
PIDS+=("$DPID")
# The same daemon without its answer cache: every request is a query.
printf 'cache_entries = 0\n' >"$TMP/nocache.conf"
UPORT=$(port)
"$BUILD/daemon/prsearchd" -d "$TMP/idx.db" -s none --tcp "127.0.0.1:$UPORT" \
    --threads "$THREADS" -c "$TMP/nocache.conf" 2>"$TMP/daemon-nocache.log" &
UPID=$!
PIDS+=("$UPID")
for p in "$DPORT" "$UPORT"; do
    for _ in $(seq 100); do curl -s -m 1 "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.05; done
done

# A mix of what visitors type: words, accents or not, phrases, exclusions,
# OR, prefixes as you type, filters, pages of results, suggestions.
cat >"$TMP/targets" <<'T'
/search?q=EIG+recrutement
/search?q=accessibilite
/search?q=accessibilit%C3%A9+num%C3%A9rique
/search?q=cloud+souverain
/search?q=donnees+ouvertes
/search?q=%22talents+du+num%C3%A9rique%22
/search?q=franceconnect+-webinaire
/search?q=cloud+OR+souverainet%C3%A9
/search?q=recru&prefix=1
/search?q=logiciels+libres&collection=communiques
/search?q=transformation+num%C3%A9rique&limit=20
/search?q=etat&offset=10
/search?q=intelligence+artificielle&after=2020-01-01
/search?q=api
/suggest?q=acc
/suggest?q=numer
T
lua_paths=$(sed 's/.*/"&",/' "$TMP/targets" | tr -d '\n')
cat >"$TMP/mix.lua" <<LUA
local paths = { $lua_paths }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA
cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.requests))
end
LUA
cat "$TMP/mix.lua" "$TMP/report.lua" >"$TMP/wrk_mix.lua"

# Warm up (page cache, SQLite caches of each worker).
"$BUILD/tests/tool_httpclient" load -t "127.0.0.1:$DPORT" -c 4 -n 200 -f "$TMP/targets" >/dev/null

# ---- nginx with a static answer of the same size -----------------------------
mkdir -p "$TMP/www" "$TMP/nginx"
curl -s "http://127.0.0.1:$DPORT/search?q=EIG+recrutement" >"$TMP/www/search.json"
NPORT=$(port)
cat >"$TMP/nginx/nginx.conf" <<NGX
daemon off;
worker_processes $THREADS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx;
  fastcgi_temp_path $TMP/nginx; uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT;
    root $TMP/www;
    # Every target of the mix gets the static file, so wrk runs the same
    # Lua request() for both servers and only the server differs.
    location / { try_files /search.json =404; }
  }
}
NGX
/usr/sbin/nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
PIDS+=("$!")
for _ in $(seq 100); do curl -s -m 1 "http://127.0.0.1:$NPORT/search.json" >/dev/null && break; sleep 0.05; done
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NPORT/search.json") == 200 ]] ||
    { echo "nginx does not serve the static file" >&2; exit 2; }

run_wrk() { # URL SCRIPT CONNS -> "rps p50 p99 errors requests"
    local t=$THREADS
    (( $3 < t )) && t=$3
    wrk -t "$t" -c "$3" -d "${SECS}s" --latency -s "$2" "$1" 2>&1 | sed -n 's/^RESULT //p'
}
run_unix() { # CONNS -> "rps p50 p99 failed requests"
    "$BUILD/tests/tool_httpclient" load -x -u "$SOCK" -c "$1" -d "$SECS" -f "$TMP/targets" |
        sed -n 's/requests=\([0-9]*\) ok=[0-9]* failed=\([0-9]*\) mismatched=[0-9]* rps=\([0-9]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\3 \4 \5 \2 \1/p'
}

printf 'prsearchd %s, %d workers, %d documents, %s s per run, %d CPUs (load generator on the same machine)\n' \
    "$("$BUILD/daemon/prsearchd" --version | cut -d' ' -f2)" "$THREADS" \
    "$(curl -s "http://127.0.0.1:$DPORT/health" | sed 's/.*"documents":\([0-9]*\).*/\1/')" "$SECS" "$(nproc)"
printf 'static JSON for nginx: %d bytes\n\n' "$(stat -c %s "$TMP/www/search.json")"
printf '%-34s %5s %10s %9s %9s %7s\n' "load" "conns" "req/s" "p50 ms" "p99 ms" "errors"
declare -A RPS P99
for c in 1 8 64; do
    read -r rps p50 p99 errs n <<<"$(run_wrk "http://127.0.0.1:$DPORT" "$TMP/wrk_mix.lua" "$c")"
    printf '%-34s %5d %10s %9s %9s %7s\n' "prsearchd TCP, query mix (wrk)" "$c" "$rps" "$p50" "$p99" "$errs"
    RPS[d$c]=$rps; P99[d$c]=$p99
done
for c in 1 8 64; do
    read -r rps p50 p99 errs n <<<"$(run_wrk "http://127.0.0.1:$UPORT" "$TMP/wrk_mix.lua" "$c")"
    printf '%-34s %5d %10s %9s %9s %7s\n' "prsearchd TCP, mix, no cache (wrk)" "$c" "$rps" "$p50" "$p99" "$errs"
done
for c in 1 8 64; do
    read -r rps p50 p99 errs n <<<"$(run_unix "$c")"
    printf '%-34s %5d %10s %9s %9s %7s\n' "prsearchd Unix socket, query mix" "$c" "$rps" "$p50" "$p99" "$errs"
done
for c in 1 8 64; do
    read -r rps p50 p99 errs n <<<"$(run_wrk "http://127.0.0.1:$NPORT" "$TMP/wrk_mix.lua" "$c")"
    printf '%-34s %5d %10s %9s %9s %7s\n' "nginx TCP, static JSON (wrk)" "$c" "$rps" "$p50" "$p99" "$errs"
    RPS[n$c]=$rps; P99[n$c]=$p99
done
echo
for c in 1 8 64; do
    awk -v c="$c" -v a="${RPS[d$c]}" -v b="${RPS[n$c]}" -v p="${P99[d$c]}" -v q="${P99[n$c]}" \
        'BEGIN { printf "ratio prsearchd/nginx at %2d connections: req/s %.2f, p99 %.2fx\n", c, (b ? a / b : 0), (q ? p / q : 0) }'
done
for p in "$DPID" "$UPID"; do
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$p/status")
    printf 'prsearchd%s peak resident memory: %.1f MB\n' "$([[ $p == "$UPID" ]] && echo ' (no cache)')" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
done
curl -s "http://127.0.0.1:$DPORT/metrics" | grep -E '^prsearchd_(cache_hits|cache_misses|cache_bytes|query_timeouts)'
grep -h 'error' "$TMP"/daemon*.log | head -5 || true
