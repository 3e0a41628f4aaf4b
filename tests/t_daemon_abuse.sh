#!/usr/bin/env bash
# Abuse tests of prsearchd: garbage, oversized request lines and heads,
# bodies on GET, clients that stop or crawl, thousands of idle
# connections, long pipelines, too many connections. After each, /health
# must answer at once and the daemon must still be running.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
IDX=$T_TMP/idx.db
SOCK=$T_TMP/a.sock
PORT=$(free_port)
make_index "$T_TMP/site" "$IDX"
cat >"$T_TMP/a.conf" <<'CONF'
request_timeout_ms = 1000
idle_timeout_ms = 2000
max_connections = 4096
CONF
if ! start_daemon a "$SOCK" -d "$IDX" -s "$SOCK" --tcp "127.0.0.1:$PORT" -c "$T_TMP/a.conf"; then
    not_ok "prsearchd starts"; diag "$(cat "$T_TMP/a.log")"; done_testing; exit 1
fi
alive() { check "$1: the daemon is still running" kill -0 "$DPID"; health_fast "$1"; }

# ---- garbage -------------------------------------------------------------
out=$(head -c 4096 /dev/urandom | raw 127.0.0.1 "$PORT" 2 | head -c 200)
check_match "random bytes get 400 or a closed connection" "$out" '^(HTTP/1.1 400 |$)'
alive "random bytes"
out=$(printf '\x00\x01\x02\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_match "control bytes are 400 JSON" "$out" $'^HTTP/1.1 400 Bad Request\r\n.*\r\n\r\n\\{"error":\\{"code":"bad_request","message":"malformed HTTP request'
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_match "a negative Content-Length is 400" "$out" '^HTTP/1.1 400 '
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_match "two Content-Lengths are 400" "$out" '^HTTP/1.1 400 '
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGARBAGE' | raw 127.0.0.1 "$PORT" 2)
check_match "an Upgrade request is answered, then closed" "$out" $'^HTTP/1.1 200 OK\r\n.*Connection: close'
out=$(printf 'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n\x01' | raw 127.0.0.1 "$PORT" 2)
check_match "garbage after a HEAD request: its 400 has the body its length says" "$out" $'Content-Length: 88\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n\\{"error":\\{"code":"bad_request","message":"malformed HTTP request: invalid HTTP method"\\}\\}$'
out=$(printf 'HEAD /search?q=%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 5000 /dev/zero | tr '\0' a)" | raw 127.0.0.1 "$PORT" 2)
# ($(...) drops the final newline of the blank line that ends the head)
check_match "an error answer to a HEAD request has no body" "$out" $'^HTTP/1.1 414 URI Too Long\r\n.*Connection: close\r\n\r$'
out=$(printf 'HEAD /health\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_match "an invalid target: 400 with its body, even after HEAD" "$out" $'^HTTP/1.1 400 Bad Request\r\n.*\r\n\r\n\\{"error":\\{"code":"bad_request"'
alive "malformed requests"

# ---- oversized request line, head, body ---------------------------------
long=$(head -c 100000 /dev/zero | tr '\0' a)
out=$(printf 'GET /search?q=%s HTTP/1.1\r\nHost: x\r\n\r\n' "$long" | raw 127.0.0.1 "$PORT" 3 | head -c 300)
check_match "a 100 KB request line is 414" "$out" $'^HTTP/1.1 414 URI Too Long\r\n.*"code":"uri_too_long"'
out=$( { printf 'GET /health HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 200); do printf 'X-Header-%d: %d\r\n' "$i" "$i"; done; printf '\r\n'; } | raw 127.0.0.1 "$PORT" 3 | head -c 300)
check_match "200 header fields are 431" "$out" $'^HTTP/1.1 431 Request Header Fields Too Large\r\n'
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n' "$(head -c 9000 /dev/zero | tr '\0' c)" | raw 127.0.0.1 "$PORT" 3 | head -c 300)
check_match "a 9 KB header is 431" "$out" '^HTTP/1.1 431 '
alive "oversized heads"
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /health HTTP/1.1\r\nHost: x\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_eq "a small body on GET is dropped and the next request answered" "$(grep -o 'HTTP/1.1 200' <<<"$out" | wc -l)" 2
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' | raw 127.0.0.1 "$PORT" 2)
check_match "a declared 1 MB body is 413 at once" "$out" $'^HTTP/1.1 413 Payload Too Large\r\n.*Connection: close'
out=$( { printf 'GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'; for i in $(seq 40); do printf '400\r\n%s\r\n' "$(head -c 1024 /dev/zero | tr '\0' z)"; done; printf '0\r\n\r\n'; } | raw 127.0.0.1 "$PORT" 3 | head -c 200)
check_match "a 40 KB chunked body is 413" "$out" '^HTTP/1.1 413 '
alive "bodies on GET"

# ---- clients that stop or crawl -----------------------------------------
printf 'GET /search?q=eig HTTP/1.1\r\nHo' | raw 127.0.0.1 "$PORT" 0.1 >/dev/null
printf 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123' | raw 127.0.0.1 "$PORT" 0.1 >/dev/null
alive "clients stopping mid-request"
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\n' | raw 127.0.0.1 "$PORT" 5)
check_match "an unfinished head gets 408 after request_timeout_ms" "$out" $'^HTTP/1.1 408 Request Timeout\r\n.*"code":"request_timeout"'
slow=$(python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
t0 = time.time(); got = b""
for ch in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"z" * 100:
    try:
        s.send(bytes([ch]))
    except OSError:
        break
    try:
        b = s.recv(4096)
        if not b:
            break
        got += b
    except socket.timeout:
        pass
    except OSError:
        break
    if time.time() - t0 > 6:
        break
print("%.1f %s" % (time.time() - t0, got.split(b"\r\n")[0].decode()))
' "$PORT")
check_match "a client sending a byte every 0.2 s is cut off with 408" "$slow" '^[12]\.[0-9] HTTP/1.1 408'
diag "slow client: $slow"
out=$("$HTTPCLIENT" idle -t "127.0.0.1:$PORT" -c 10 -d 3)
check_contains "idle keep-alive connections are closed after idle_timeout_ms" "$out" "still_open=0"
alive "slow and idle clients"

# ---- many connections, long pipelines ------------------------------------
"$HTTPCLIENT" idle -t "127.0.0.1:$PORT" -c 2000 -d 3 >"$T_TMP/idle.out" &
ipid=$!
for i in $(seq 100); do grep -q opened "$T_TMP/idle.out" && break; sleep 0.05; done
for i in $(seq 40); do # until the daemon has accepted them all
    [[ $(req /metrics) =~ prsearchd_open_connections\ (20[0-9][0-9]) ]] && break
    sleep 0.05
done
health_fast "with 2,000 idle connections open"
check_match "/metrics counts the open connections" "$(req /metrics)" $'prsearchd_open_connections (20[0-9][0-9])'
wait "$ipid"
check_contains "2,000 connections were opened" "$(cat "$T_TMP/idle.out")" "opened=2000"
alive "2,000 idle connections"
out=$("$HTTPCLIENT" pipeline -t "127.0.0.1:$PORT" -n 1000 '/search?q=eig' '/health' '/suggest?q=cl')
check_eq "1,000 pipelined requests on one TCP connection are all answered" "$out" "responses=1000 status200=1000"
out=$("$HTTPCLIENT" pipeline -u "$SOCK" -n 1000 '/search?q=donnees' '/health')
check_eq "1,000 pipelined requests on one Unix connection are all answered" "$out" "responses=1000 status200=1000"
alive "pipelines"

stop_daemon
check_eq "after the abuse, SIGTERM exits 0" "$DSTATUS" 0
check_eq "the daemon logged no internal error" "$(grep -c 'error:' "$T_TMP/a.log")" 0

# ---- too many connections -----------------------------------------------
SOCK=$T_TMP/b.sock
printf 'max_connections = 3\n' >"$T_TMP/b.conf"
start_daemon b "$SOCK" -d "$IDX" -s "$SOCK" -c "$T_TMP/b.conf"
"$HTTPCLIENT" idle -u "$SOCK" -c 3 -d 1.5 >/dev/null &
ipid=$!
sleep 0.5
r=$(req /health)
check_match "over max_connections: 503 JSON" "$r" '^503 \{"error":\{"code":"too_many_connections"'
wait "$ipid"
sleep 0.2
check_match "below max_connections again: 200" "$(req /health)" '^200 '
check_contains "rejected connections are counted" "$(req /metrics)" "prsearchd_connections_rejected_total 1"
stop_daemon
check_eq "SIGTERM exits 0" "$DSTATUS" 0

# ---- query time budget ----------------------------------------------------
if have_corpus; then
    "$PRSEARCH_INDEX" -q -d "$T_TMP/corpus.db" "$PR_CORPUS" >/dev/null 2>&1
    SOCK=$T_TMP/c.sock
    printf 'query_budget_ms = 1\ncache_entries = 0\n' >"$T_TMP/c.conf"
    start_daemon budget "$SOCK" -d "$T_TMP/corpus.db" -s "$SOCK" -c "$T_TMP/c.conf"
    codes=""
    # the last one is costly by design (twelve one-letter prefixes): the
    # others may well fit in 1 ms
    for q in etat accessibilite transformation+num%C3%A9rique numerique+OR+etat \
        'a*+OR+e*+OR+i*+OR+o*+OR+u*+OR+d*+OR+p*+OR+s*+OR+c*+OR+m*+OR+t*+OR+r*'; do
        r=$(req "/search?q=$q&limit=100")
        codes+="${r:0:3} "
        [[ ${r:0:3} == 503 ]] && last503=$r
    done
    check_match "over the time budget: 503" "$codes" '503'
    check_match "... as JSON code timeout" "${last503:-}" '^503 \{"error":\{"code":"timeout"'
    check_match "... counted in /metrics" "$(req /metrics)" $'prsearchd_query_timeouts_total [1-9]'
    health_fast "after queries over budget"
    stop_daemon
else
    skip "query time budget" "no corpus at $PR_CORPUS"
fi
done_testing
