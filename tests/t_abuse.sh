#!/usr/bin/env bash
# tests/t_abuse.sh - prsearchd against hostile clients, and its least
# privilege (issue 7: "Abuse-proof daemon", "Least privilege").
#
# The real daemon serves an index of the corpus while tests/tool_abuse.c
# (compiled here with cc) opens 5,000 connections at once, crawls 500
# connections one byte every 2 s (slowloris), sends random bytes, 1 MB
# request targets, CR/LF/NUL injections, markup to be echoed, queries built
# to be slow, and clients that never read their answers. During each step a
# separate probe asks /health every 20 ms on a keep-alive connection and the
# daemon's VmRSS is sampled; after each step a fresh curl asks /health and
# the daemon must still be running.
#
# "/health within 50 ms" is checked as: no probe failed, at most 1% of
# probes over 50 ms (one always allowed: a single probe can lose its CPU to
# an unrelated process on a shared CI host), none over 200 ms. The abusing clients run under
# `nice` so that they measure the daemon, not their share of our 2 CPUs;
# for the same reason the daemon and the probe run at nice -5 when we may
# (root): unrelated jobs of the host must not count as the daemon's
# latency (without that right they run at normal priority).
# Memory bounds (KiB) are computed from the daemon's buffers, see
# docs/security.md; they are not checked in a sanitizer build (ASan keeps
# freed memory in quarantine), where latency limits are also 4x.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"

for p in "$PRSEARCHD" "$PRSEARCH_INDEX"; do
    [[ -x $p ]] || { skip "abuse tests" "$(basename "$p") is not built"; done_testing; exit 0; }
done
if ! have_corpus; then
    skip "abuse tests" "no corpus at $PR_CORPUS"; done_testing; exit 0
fi
TOOL=$T_TMP/tool_abuse
if ! cc -O2 -o "$TOOL" "$PR_SRCDIR/tests/tool_abuse.c" -lpthread 2>"$T_TMP/cc.err"; then
    skip "abuse tests" "cannot compile tests/tool_abuse.c: $(head -c 200 "$T_TMP/cc.err")"
    done_testing; exit 0
fi
ABUSE="nice -n 10 $TOOL"
BOOST=()
[[ $(id -u) == 0 ]] && BOOST=(nice -n -5)
# boost PID: every thread of PID to nice -5 (root only; else nothing).
boost() {
    [[ ${#BOOST[@]} -gt 0 ]] || return 0
    local t
    for t in /proc/"$1"/task/*; do renice -n -5 -p "${t##*/}" >/dev/null 2>&1; done
}

# A sanitizer build: memory is ASan's, time is slower.
SANITIZED=0
if ldd "$PRSEARCHD" 2>/dev/null | grep -Eq 'libasan|libubsan' ||
   grep -aq '__asan_init' "$PRSEARCHD" 2>/dev/null; then
    SANITIZED=1
fi
LAT_MS=50 LAT_MAX_MS=200 BURST_MS=100
[[ $SANITIZED == 1 ]] && LAT_MS=200 LAT_MAX_MS=800 BURST_MS=400
LAT_S=$(awk -v m="$LAT_MS" 'BEGIN{print m/1000}')

# The daemon inherits our descriptor limit: room for 5,000 connections.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
(( $(ulimit -n) >= 12000 )) || ulimit -n 12000 2>/dev/null
diag "descriptors: $(ulimit -n); sanitizer build: $SANITIZED; /health limit ${LAT_MS} ms;" \
     "daemon and probe at nice ${BOOST[2]:-0}"

DB=$T_TMP/corpus.db
"$PRSEARCH_INDEX" -q -d "$DB" "$PR_CORPUS" >/dev/null 2>&1
[[ -s $DB ]] || { not_ok "the corpus is indexed"; done_testing; exit 1; }

# ---- memory bounds, KiB (docs/security.md) ---------------------------------
# At rest and caches: 64 MiB (the daemon ~9 MiB, answer cache 8 MiB, SQLite
# page caches 2 MiB a worker, the analytics queue). Per connection reading
# a request: its input buffer (16 KiB), request target (up to 8 KiB) and
# state (1 KiB). Per connection refused over max_connections, while it
# lingers (2 s at most): 18 KiB. Per connection that does not read: at most
# 64 KiB queued and one answer (limit=100: under 128 KiB on the corpus).
MAXCONN=1024 BASE_KB=65536 IN_KB=25 REJ_KB=18 OUT_KB=192
bound_reading() { # CONNECTIONS
    local c=$1 kept=$(( $1 < MAXCONN ? $1 : MAXCONN ))
    echo $(( BASE_KB + kept * IN_KB + (c - kept) * REJ_KB ))
}
bound_not_reading() { echo $(( BASE_KB + $1 * (IN_KB + OUT_KB) )); }

# ---- the daemon under test -------------------------------------------------
SOCK=$T_TMP/a.sock
PORT=$(free_port)
cat >"$T_TMP/a.conf" <<'CONF'
# What the abuse test changes from the defaults: a request that has not
# arrived in 3 s is cut (default 10 s), so slowloris shows in a short run.
request_timeout_ms = 3000
CONF
if ! start_daemon a "$SOCK" -d "$DB" -s "$SOCK" --tcp "127.0.0.1:$PORT" -c "$T_TMP/a.conf" --access-log; then
    not_ok "prsearchd starts"; diag "$(cat "$T_TMP/a.log")"; done_testing; exit 1
fi
ok "prsearchd serves the corpus index (pid $DPID, max_connections $MAXCONN)"
boost "$DPID"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status" 2>/dev/null; }

# health_fast WHAT: a new connection's /health is 200 within LAT_MS.
health_fast() {
    local t
    t=$(curl -s -m 2 -o /dev/null -w '%{http_code} %{time_total}' --unix-socket "$SOCK" http://d/health)
    if [[ ${t%% *} == 200 ]] && awk -v s="${t#* }" -v l="$LAT_S" 'BEGIN{exit !(s < l)}'; then
        ok "$1: /health answers within ${LAT_MS} ms"
    else
        not_ok "$1: /health answers within ${LAT_MS} ms"; diag "got: status and seconds $t"
    fi
}
alive() {
    check "$1: the daemon is still running" kill -0 "$DPID"
    health_fast "$1"
}

# The probe: started before a step, stopped after it; MON holds its line.
probe_start() {
    "${BOOST[@]}" "$TOOL" monitor -d 600 -m "$SOCK" -r 20 -L "$LAT_MS" -p "$DPID" >"$T_TMP/probe.out" 2>"$T_TMP/probe.err" &
    PROBE=$!
    sleep 0.2
}
probe_stop() {
    kill -TERM "$PROBE" 2>/dev/null
    wait "$PROBE" 2>/dev/null
    MON=$(cat "$T_TMP/probe.out")
}
val() { grep -o "\\b$1=[0-9.:,]*" <<<"$2" | head -n 1 | cut -d= -f2; }

# probe_checks WHAT BOUND_KB [P99_MS MAX_MS]: /health throughout (within
# LAT_MS / LAT_MAX_MS unless given), and the RSS peak.
probe_checks() {
    local what=$1 bound=$2 lat=${3:-$LAT_MS} latmax=${4:-$LAT_MAX_MS} n bad over max p99
    n=$(val health_n "$MON") bad=$(val health_bad "$MON") over=$(val health_over_limit "$MON")
    max=$(val health_max_ms "$MON") p99=$(val health_p99_ms "$MON")
    diag "$what: /health probes $n, failed $bad, over ${LAT_MS} ms $over, p99 $p99 ms, max $max ms;" \
         "RSS start $(val rss_start_kb "$MON") KiB, peak $(val rss_max_kb "$MON") KiB, end $(val rss_end_kb "$MON") KiB (bound $bound KiB)"
    # At LAT_MS: at most 1% of the probes over it, one always allowed (the
    # probe counts them); with a limit of the step's own: the p99 within it.
    if [[ -n $n && $n -gt 0 && $bad == 0 ]] &&
       awk -v p="$p99" -v m="$max" -v l="$lat" -v x="$latmax" -v o="$over" -v n="$n" -v L="$LAT_MS" \
           'BEGIN{ok99 = (l == L) ? (o <= (n >= 200 ? int(n / 100) : 1)) : (p <= l); exit !(ok99 && m <= x)}'; then
        ok "$what: /health answered throughout, 99% within $lat ms, none over $latmax ms"
    else
        not_ok "$what: /health answered throughout, 99% within $lat ms, none over $latmax ms"
        diag "probe: $MON $(head -c 300 "$T_TMP/probe.err")"
    fi
    if [[ $SANITIZED == 1 ]]; then
        skip "$what: memory stays under $bound KiB" "sanitizer build"
    else
        check_bound "$what: memory stays under $bound KiB (peak $(val rss_max_kb "$MON") KiB)" "$(val rss_max_kb "$MON")" "$bound"
    fi
}
check_bound() { # WHAT VALUE BOUND
    if [[ -n $2 && $2 -le $3 ]]; then ok "$1"; else not_ok "$1"; diag "got: ${2:-nothing}, bound: $3"; fi
}
metric() { curl -s -m 2 --unix-socket "$SOCK" http://d/metrics | awk -v m="$1" '$1 == m {print $2}'; }
# wait_open N: until at most N connections are open (lingering ones close).
wait_open() {
    for _ in $(seq 60); do (( $(metric prsearchd_open_connections) <= $1 )) && return 0; sleep 0.1; done
    return 1
}

# Warm the workers' SQLite caches, so the first step measures abuse, not
# the first queries.
for q in eig numerique donnees+ouvertes recrutement 'cloud+OR+souverainete'; do
    curl -s -m 5 --unix-socket "$SOCK" "http://d/search?q=$q" >/dev/null
done
RSS0=$(rss)
diag "RSS at rest: $RSS0 KiB"
health_fast "at rest"

# ---- 5,000 connections at once ---------------------------------------------
for transport in unix tcp; do
    if [[ $transport == unix ]]; then target=(-u "$SOCK"); else target=(-t "127.0.0.1:$PORT"); fi
    rejected0=$(metric prsearchd_connections_rejected_total)
    probe_start
    out=$($ABUSE flood "${target[@]}" -c 5000 -d 4)
    probe_stop
    diag "flood over $transport: $out"
    check_eq "5,000 connections at once over $transport: all opened" "$(val opened "$out")" 5000
    s200=$(val status200 "$out") s503=$(val status503 "$out")
    check_eq "... every one answered: 200 while under max_connections, else 503" \
        "$(( s200 + s503 )) other=$(val other "$out") hanging=$(val hanging "$out")" "5000 other=0 hanging=0"
    check_bound "... at most max_connections served (200: $s200)" "$s200" "$MAXCONN"
    check_eq "... each 503 closes its connection" "$(val closed_by_server "$out")" "$s503"
    check_eq "... /metrics counts the refused connections" \
        "$(( $(metric prsearchd_connections_rejected_total) - rejected0 ))" "$s503"
    probe_checks "5,000 connections over $transport" "$(bound_reading 5000)"
    # The burst itself must not stall the loop: libuv accepts until the
    # listen queue is empty, so without a per-turn cap thousands of
    # accepts (and their 503s) run before the next /health is read
    # (stalls of 100-300 ms before the cap; 20-35 ms with it).
    check_bound "... the burst never stalls the loop: no /health probe over $BURST_MS ms (slowest $(val health_max_ms "$MON") ms)" \
        "$(awk -v m="$(val health_max_ms "$MON")" 'BEGIN{printf "%d", m}')" "$BURST_MS"
    check "... once the clients leave, their connections are closed" wait_open 2
    alive "after 5,000 connections over $transport"
done

# The same with fewer descriptors than connections: the daemon's accept
# must survive EMFILE (libuv closes what it cannot take).
SOCK_A=$SOCK DPID_A=$DPID
SOCK=$T_TMP/e.sock
if (ulimit -n 1200; exec "$PRSEARCHD" -d "$DB" -s "$SOCK" -c "$T_TMP/a.conf" 2>"$T_TMP/e.log") &
   DPID=$!; on_exit "kill -9 $DPID"
   for _ in $(seq 100); do curl -s -m 1 --unix-socket "$SOCK" http://d/health 2>/dev/null | grep -q ok && break; sleep 0.05; done
   kill -0 "$DPID" 2>/dev/null; then
    boost "$DPID"
    probe_start
    out=$($ABUSE flood -u "$SOCK" -c 5000 -d 4)
    probe_stop
    diag "flood with 1,200 descriptors: $out"
    check_eq "5,000 connections against 1,200 descriptors: each answered or closed, none left hanging" \
        "opened=$(val opened "$out") hanging=$(val hanging "$out") other=$(val other "$out")" "opened=5000 hanging=0 other=0"
    probe_checks "5,000 connections against 1,200 descriptors" "$(bound_reading 5000)"
    check_bound "... the burst never stalls the loop: no /health probe over $BURST_MS ms (slowest $(val health_max_ms "$MON") ms)" \
        "$(awk -v m="$(val health_max_ms "$MON")" 'BEGIN{printf "%d", m}')" "$BURST_MS"
    alive "after running out of descriptors"
    check_bound "... without flooding its log ($(wc -l <"$T_TMP/e.log") lines)" "$(wc -l <"$T_TMP/e.log")" 50
    stop_daemon
    check_eq "... and SIGTERM still exits 0" "$DSTATUS" 0
else
    not_ok "a daemon with 1,200 descriptors starts"; diag "$(cat "$T_TMP/e.log")"
fi
SOCK=$SOCK_A DPID=$DPID_A

# ---- slowloris ---------------------------------------------------------------
probe_start
out=$($ABUSE slowloris -t "127.0.0.1:$PORT" -c 500 -i 2 -d 20)
probe_stop
diag "slowloris: $out"
check_match "slowloris, 500 connections x 20 s: every connection is cut with 408" \
    "cut_408=$(val cut_408 "$out") cut_other=$(val cut_other "$out") status200=$(val status200 "$out")" \
    '^cut_408=([5-9][0-9][0-9]|[0-9]{4,}) cut_other=0 status200=0$'
check "... after request_timeout_ms (3 s) from its first byte, not later (longest: $(val max_life_s "$out") s)" \
    awk -v l="$(val max_life_s "$out")" -v s="$SANITIZED" 'BEGIN{exit !(l >= 2.9 && l <= (s ? 5 : 3.8))}'
probe_checks "slowloris" "$(bound_reading 500)"
alive "after slowloris"

# ---- random bytes --------------------------------------------------------------
for transport in tcp unix; do
    if [[ $transport == unix ]]; then target=(-u "$SOCK"); n=1500; else target=(-t "127.0.0.1:$PORT"); n=3000; fi
    probe_start
    out=$($ABUSE random "${target[@]}" -c $n -b 65536 -d 5)
    probe_stop
    diag "random bytes over $transport: $out"
    check_eq "$n connections of random bytes over $transport: none hangs, none gets a broken answer" \
        "hung=$(val hung "$out") malformed=$(val malformed "$out") 5xx=$(val status5xx "$out") failed=$(val connect_failed "$out")" \
        "hung=0 malformed=0 5xx=0 failed=0"
    check_match "... answers are 400 (or 200 for the valid request in front of the junk)" \
        "$(val codes "$out")" '^(200:[0-9]+,)?400:[0-9]+(,40[89]:[0-9]+|,41[34]:[0-9]+|,431:[0-9]+)*$'
    probe_checks "random bytes over $transport" "$(bound_reading 64)"
    alive "after random bytes over $transport"
done

# ---- NUL and CR/LF injection ---------------------------------------------------
# Each request goes alone on its connection; the answer must be one HTTP
# response, 200/400/404, with a correct Content-Length, a JSON body, and no
# header the request tried to inject.
cat >"$T_TMP/one_response.py" <<'PY'
import json, re, sys
data = open(sys.argv[1], "rb").read()
allowed = {int(c) for c in sys.argv[2].split(",")}
def fail(why):
    print(why + ": " + repr(data[:300])); sys.exit(1)
if data.count(b"HTTP/1.1 ") != 1 or not data.startswith(b"HTTP/1.1 "):
    fail("not exactly one response")
head, sep, body = data.partition(b"\r\n\r\n")
if not sep: fail("no end of head")
lines = head.split(b"\r\n")
status = int(lines[0].split(b" ")[1])
if status not in allowed: fail("status %d" % status)
names = []
for l in lines[1:]:
    if b"\n" in l or b"\r" in l or b"\0" in l: fail("control byte in a header")
    m = re.match(rb"^([A-Za-z-]+): ", l)
    if not m: fail("not a header line: %r" % l)
    names.append(m.group(1).lower())
for bad in (b"x-injected", b"set-cookie", b"location"):
    if bad in names: fail("injected header " + bad.decode())
cl = [l for l in lines if l.lower().startswith(b"content-length: ")]
if len(cl) != 1 or int(cl[0].split(b" ")[1]) != len(body): fail("Content-Length does not match the body")
try:
    json.loads(body)
except ValueError:
    fail("body is not JSON")
print("ok %d" % status)
PY
inject() { # WHAT STATUSES RAW_REQUEST
    local out
    "$TOOL" raw -t "127.0.0.1:$PORT" -d 2 "$3" >"$T_TMP/resp" 2>/dev/null
    out=$(python3 "$T_TMP/one_response.py" "$T_TMP/resp" "$2")
    check_match "$1 ($out)" "$out" '^ok '
}
H='HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
inject "%00 in q: 400" 400 "GET /search?q=eig%00b $H"
inject "%00 in a parameter name" 200,400 "GET /search?q=eig&x%00y=1 $H"
inject "%0d%0a in q: no header injected" 200,400 "GET /search?q=eig%0d%0aSet-Cookie:%20x=1 $H"
check_contains "... and the 400 says why: control characters (not \"invalid UTF-8\")" \
    "$(curl -s -m 2 --unix-socket "$SOCK" 'http://d/search?q=eig%0d%0aSet-Cookie:%20x=1')" \
    '"message":"parameter q: control characters (such as %00, %0A, %0D) are not allowed"'
inject "%0d%0a%0d%0a in q: no second response" 200,400 "GET /search?q=eig%0d%0a%0d%0aHTTP/1.1%20200%20OK $H"
inject "%0d%0a in an unknown parameter's name" 200,400 "GET /search?q=eig&x%0d%0aSet-Cookie:%20a=1=1 $H"
inject "%0d%0a in a filter" 200,400 "GET /search?q=eig&tag=%0d%0aX-Injected:%201 $H"
inject "%0d%0a in /suggest" 200,400 "GET /suggest?q=ei%0d%0aX-Injected:%201 $H"
inject "%0d%0a in the path: 404" 404 "GET /nope%0d%0aLocation:%20http://evil/ $H"
inject "raw CR LF in the target" 200,400 "GET /search?q=eig\r\nX-Injected: 1 $H"
inject "raw LF in the target" 200,400 "GET /search?q=eig\nX-Injected: 1 $H"
inject "raw CR in the target: 400" 400 "GET /search?q=eig\rX-Injected: 1 $H"
inject "raw NUL in the target: 400" 400 "GET /search?q=eig\0X $H"
inject "raw CR in a header value: 400" 400 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: 1\r\n\r\n'
inject "raw NUL in a header value: 400" 400 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'
inject "invalid UTF-8 in q: 400" 400 "GET /search?q=%C0%AF%FF $H"
# Two pipelined requests: two answers, each well formed.
"$TOOL" raw -t "127.0.0.1:$PORT" -d 2 "GET /search?q=a%0d%0ab HTTP/1.1\r\nHost: x\r\n\r\nGET /health $H" >"$T_TMP/resp2"
check_eq "a CR/LF request then a pipelined one: exactly two answers" "$(grep -ao 'HTTP/1.1 [0-9][0-9][0-9] ' "$T_TMP/resp2" | wc -l)" 2
alive "after injections"

# ---- nothing echoed unescaped ------------------------------------------------
# Markup and quotes in q, filters, unknown parameters and paths. JSON
# answers must parse, say what they are, and carry no raw "<script" (a JSON
# string may hold it, but a page that inserts the echoed query without
# escaping would run it; \u003c costs nothing).
XSS='%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E'
echo_targets=(
    "/search?q=$XSS"
    "/search?q=eig+$XSS&limit=1"
    "/search?q=%22$XSS"
    "/search?q=eig&$XSS=$XSS&limit=1"
    "/search?q=eig&tag=$XSS&collection=%22$XSS"
    "/search?q=eig&limit=$XSS"
    "/search?q=eig&after=$XSS"
    "/suggest?q=$XSS"
    "/$XSS"
)
cat >"$T_TMP/json_safe.py" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
head, _, body = raw.partition(b"\r\n\r\n")
h = head.decode("latin-1").lower()
problems = []
try:
    json.loads(body)
except ValueError:
    problems.append("body is not JSON")
if "content-type: application/json" not in h:
    problems.append("not served as application/json")
if b"<script" in body.lower():
    problems.append("raw <script in the body")
if "x-content-type-options: nosniff" not in h:
    problems.append("no X-Content-Type-Options: nosniff")
print("; ".join(problems) if problems else "ok")
PY
safe_all=1 nosniff_all=1
for t in "${echo_targets[@]}"; do
    curl -s -m 5 -i --unix-socket "$SOCK" "http://d$t" | tr -d '\0' >"$T_TMP/echo" 2>/dev/null
    r=$(python3 "$T_TMP/json_safe.py" "$T_TMP/echo")
    st=$(head -c 12 "$T_TMP/echo")
    r_core=${r//; no X-Content-Type-Options: nosniff/}
    r_core=${r_core//no X-Content-Type-Options: nosniff/}
    if [[ -z $r_core || $r_core == ok ]]; then :; else
        safe_all=0; diag "$t -> ${st#HTTP/1.1 }: $r_core; body: $(tail -c 160 "$T_TMP/echo")"
    fi
    [[ $r == *nosniff* ]] && nosniff_all=0
done
check_eq "markup in q, filters, parameters and paths: JSON answers parse and hold no raw <script" "$safe_all" 1
check_eq "JSON answers carry X-Content-Type-Options: nosniff" "$nosniff_all" 1
page=$(curl -s -m 5 --unix-socket "$SOCK" "http://d/?q=$XSS")
if [[ -n $page ]]; then
    check "the search page does not echo q into its HTML" bash -c '! grep -qi "<script>alert" <<<"$1"' _ "$page"
fi
check "the access log has one line per event: no injected line" \
    bash -c '! grep -av "^prsearchd: " "$1" | grep -q .' _ "$T_TMP/a.log"

# ---- 1 MB request targets ------------------------------------------------------
rss_before=$(rss)
for transport in tcp unix; do
    if [[ $transport == unix ]]; then target=(-u "$SOCK"); else target=(-t "127.0.0.1:$PORT"); fi
    probe_start
    out=$($ABUSE biguri "${target[@]}" -c 50 -b 1048576 -d 5)
    probe_stop
    diag "1 MB targets over $transport: $out"
    check_eq "50 request lines of 1 MB over $transport: 414 and the connection closed" \
        "codes=$(val codes "$out") hung=$(val hung "$out") failed=$(val connect_failed "$out")" "codes=414:50 hung=0 failed=0"
    probe_checks "1 MB targets over $transport" "$(bound_reading 50)"
done
wait_open 2
rss_after=$(rss)
if [[ $SANITIZED == 1 ]]; then
    skip "1 MB targets: no memory kept afterwards" "sanitizer build"
else
    check_bound "1 MB targets: no memory kept afterwards ($rss_before -> $rss_after KiB)" "$rss_after" $(( rss_before + 2048 ))
fi
alive "after 1 MB targets"

# ---- queries built to be slow ------------------------------------------------------
# 32 OR'd one-letter prefixes (the term limit), phrases of prefixes, a
# prefix of one letter as you type, exclusions of prefixes, a far page.
slow_q=(
    "q=$(printf '%s*+OR+' {a..z} 0 1 2 3 4)5*&limit=100"
    "q=$(printf '%s*+OR+' {a..z})&limit=100"
    "q=%22a*+b*+c*+d*%22+OR+%22e*+f*+g*%22+OR+%22h*+i*+j*+k*%22+OR+%22l*+m*%22&limit=100"
    "q=e*+$(printf -- '-%s*+' {a..d} {f..o})&limit=100"
    "q=a&prefix=1&limit=100"
    "q=d+e+l+a+p+r&prefix=1&limit=100"
    "q=e*&offset=1000000&limit=100"
)
budget_ms=250
one_ms=$(( SANITIZED ? 2000 : budget_ms + 250 ))
worst=0 codes=""
for q in "${slow_q[@]}"; do
    # (a parameter of our own: the answer cache keys on the whole query string)
    r=$(curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' --unix-socket "$SOCK" "http://d/search?$q&n=$RANDOM")
    codes+="${r%% *} "
    ms=$(awk -v s="${r#* }" 'BEGIN{printf "%d", s*1000}')
    (( ms > worst )) && worst=$ms
done
diag "slow queries alone: statuses $codes, slowest $worst ms"
check_match "slow queries alone: 200 or 503 (timeout), never anything else" "$codes" '^((200|503) )+$'
check_bound "... each answered within the 250 ms budget + 250 ms (slowest $worst ms)" "$worst" "$one_ms"
# All of them at once, three times over, against 2 workers: queued jobs
# past request_timeout_ms get 503 overloaded; none hangs.
probe_start
curls=()
for i in 1 2 3; do
    for q in "${slow_q[@]}"; do
        curl -s -m 15 -o /dev/null -w '%{http_code} %{time_total}\n' --unix-socket "$SOCK" "http://d/search?$q&round=$i" &
        curls+=($!)
    done
    for q in 'q=a&limit=100' 'q=e'; do
        curl -s -m 15 -o /dev/null -w '%{http_code} %{time_total}\n' --unix-socket "$SOCK" "http://d/suggest?$q&round=$i" &
        curls+=($!)
    done
done >"$T_TMP/slow_all"
wait "${curls[@]}"
probe_stop
statuses=$(awk '{print $1}' "$T_TMP/slow_all" | sort | uniq -c | tr -s ' \n' ' ')
slowest=$(awk 'BEGIN{m=0} {if ($2 > m) m = $2} END{printf "%d", m*1000}' "$T_TMP/slow_all")
diag "27 slow queries at once: statuses $statuses; slowest $slowest ms"
check "27 slow queries at once: each answered 200 or 503" awk '$1 != 200 && $1 != 503 {exit 1}' "$T_TMP/slow_all"
check_eq "... all 27 answered" "$(wc -l <"$T_TMP/slow_all")" 27
check_bound "... none after request_timeout_ms + the budget + 1 s (slowest $slowest ms)" "$slowest" $(( 3000 + 250 + 1000 + SANITIZED * 4000 ))
probe_checks "slow queries" "$(bound_reading 30)"
alive "after slow queries"

# ---- clients that do not read their answers --------------------------------------
# 1,000 connections each pipelining 10 searches of 100 hits (~90 KB each)
# and reading nothing. The daemon stops parsing a connection whose unsent
# output passes 64 KiB, so each should cost at most that plus one answer.
nr=1000; [[ $SANITIZED == 1 ]] && nr=200
# What the kernel holds for the daemon's side of PORT's connections (the
# bytes of /proc/net/tcp's tx_queue, sent but not acknowledged), in KiB.
kernel_send_kb() {
    awk -v p="$(printf ':%04X' "$PORT")" '
        function hex(s,  i, n) { for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return n }
        $2 ~ p "$" { split($5, q, ":"); b += hex(q[1]) }
        END { printf "%d", b / 1024 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
probe_start
$ABUSE slowread -t "127.0.0.1:$PORT" -c $nr -b 10 -d 3 '/search?q=a*+OR+e*&limit=100' >"$T_TMP/slowread.out" &
sr=$!
sleep 2
held_kb=$(kernel_send_kb)
wait "$sr"
out=$(cat "$T_TMP/slowread.out")
probe_stop
diag "clients not reading: $out; the kernel held ${held_kb} KiB for them"
check_eq "$nr connections pipelining 10 big searches each and never reading: all opened" "$(val opened "$out")" $nr
# Each 60-byte request asks for a ~110 KB answer. The kernel's send buffer
# of a connection is fixed at 128 KiB (http_conn.c TCP_SEND_BUFFER): left to
# grow, it took all ten answers of every connection, 1.1 GB in all, and
# the loop stalled for seconds copying them. Now /health keeps its usual
# limits and the kernel's share is bounded like the daemon's own.
check_bound "... the kernel holds at most 128 KiB a connection for them (${held_kb} KiB)" "$held_kb" $(( nr * 128 ))
probe_checks "$nr clients not reading" "$(bound_not_reading $nr)"
wait_open 2
alive "after clients not reading"

# ---- analytics: a flood of unique settled searches ------------------------------------
# Every search with log=1 answered 200 is recorded in <index>.analytics.db.
# 1,000 distinct 1 KiB queries: what they cost on disk.
ADB=${DB%.db}.analytics.db
if [[ $(metric prsearchd_analytics_enabled) == 1 ]] && command -v sqlite3 >/dev/null; then
    python3 -c '
import random, string
random.seed(11)
for i in range(1000):  # 1 KiB within the 32-term limit
    words = " ".join("".join(random.choice(string.ascii_lowercase) for _ in range(33)) for _ in range(30))
    print("/search?log=1&limit=1&q=" + words.replace(" ", "+"))' >"$T_TMP/unique"
    written0=$(metric prsearchd_analytics_written_total)
    size0=$(cat "$ADB" "$ADB-wal" 2>/dev/null | wc -c)
    $ABUSE soak -u "$SOCK" -c 4 -d 60 -i 60 -R 0 -f "$T_TMP/unique" >/dev/null 2>&1 &
    lpid=$!
    for _ in $(seq 600); do
        (( $(metric prsearchd_analytics_written_total) - written0 >= 1000 )) && break
        sleep 0.1
    done
    kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
    sleep 0.5
    size1=$(cat "$ADB" "$ADB-wal" 2>/dev/null | wc -c)
    longest=$(sqlite3 "file:$ADB?mode=ro" 'SELECT max(length(query)) FROM searches' 2>/dev/null)
    written=$(( $(metric prsearchd_analytics_written_total) - written0 ))
    diag "analytics: $written searches written, file grew $(( (size1 - size0) / 1024 )) KiB, longest stored query $longest bytes"
    check_bound "analytics: the 1,000 unique settled searches were recorded ($written)" 1000 "$written"
    check_bound "analytics: a stored query is cut to at most 256 bytes (longest: $longest)" "${longest:-0}" 256
    check_bound "analytics: 1,000 unique 1 KiB searches add under 1 MiB to the file ($(( (size1 - size0) / 1024 )) KiB)" \
        $(( (size1 - size0) / 1024 )) 1024
else
    skip "analytics flood" "analytics off or no sqlite3"
fi

# ---- afterwards ---------------------------------------------------------------------
wait_open 2
rss_end=$(rss)
diag "RSS at rest $RSS0 KiB, after all the abuse $rss_end KiB"
if [[ $SANITIZED == 1 ]]; then
    skip "after all the abuse, memory is back under the base bound" "sanitizer build"
else
    check_bound "after all the abuse, memory is back under the base bound ($rss_end KiB)" "$rss_end" "$BASE_KB"
fi
alive "after all the abuse"
check_eq "the daemon logged no internal error" "$(grep -c 'error:' "$T_TMP/a.log")" 0
stop_daemon
check_eq "after the abuse, SIGTERM exits 0" "$DSTATUS" 0

# ==== least privilege ===============================================================
SOCK=$T_TMP/p.sock
start_daemon p "$SOCK" -d "$DB" -s "$SOCK" || { not_ok "prsearchd starts"; diag "$(cat "$T_TMP/p.log")"; }
curl -s -m 5 --unix-socket "$SOCK" 'http://d/search?q=eig' >/dev/null
# Every descriptor the daemon holds on the index file is read-only; what it
# may write: SQLite's -wal and -shm beside it (WAL readers keep their read
# marks in -shm) and its analytics file. (Descriptors 0-2 are the test's.)
fds=$(for f in /proc/"$DPID"/fd/*; do
    n=${f##*/}; t=$(readlink "$f")
    (( n > 2 )) || continue # stdin, stdout, stderr: ours
    printf '%s %s\n' "$(awk '/^flags:/ {print $2}' "/proc/$DPID/fdinfo/$n")" "$t"
done)
db_fds=$(awk -v db="$DB" '$2 == db' <<<"$fds")
check_match "the index file is open (descriptors: $(wc -l <<<"$db_fds"))" "$db_fds" '.'
# (fdinfo flags are octal: the access mode is the last digit's low bits)
check "... and only read-only (O_RDONLY)" awk '{ if (substr($1, length($1)) % 4 != 0) exit 1 }' <<<"$db_fds"
writable=$(awk '{ if (substr($1, length($1)) % 4 != 0 && $2 ~ /^\//) print $2 }' <<<"$fds" |
           grep -v -e '\.db-wal$' -e '\.db-shm$' -e '\.analytics\.db' -e '^/dev/null$')
check_eq "no file is open for writing but -wal, -shm and analytics" "$writable" ""
diag "descriptors on files: $(awk '$2 ~ /^\// {print $1, $2}' <<<"$fds" | sed "s|$T_TMP/||" | tr '\n' ';')"
stop_daemon

# Socket mode and group.
mkdir -p "$T_TMP/pub" && chmod 711 "$T_TMP" && chmod 755 "$T_TMP/pub"
SOCK=$T_TMP/pub/default.sock
start_daemon m1 "$SOCK" -d "$DB" -s "$SOCK"
check_eq "the Unix socket is mode 0660 by default" "$(stat -c '%a' "$SOCK")" 660
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && getent group nogroup >/dev/null; then
    st=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -m 2 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://d/health)
    check_eq "... a user outside its owner and group cannot connect" "$st" "000"
fi
stop_daemon
SOCK=$T_TMP/pub/group.sock
printf 'socket_mode = 0600\nsocket_group = nogroup\n' >"$T_TMP/m2.conf"
if getent group nogroup >/dev/null && start_daemon m2 "$SOCK" -d "$DB" -s "$SOCK" -c "$T_TMP/m2.conf"; then
    check_eq "socket_mode = 0600, socket_group = nogroup: the socket is 600, group nogroup" \
        "$(stat -c '%a %G' "$SOCK")" "600 nogroup"
    stop_daemon
else
    skip "socket_group" "no group nogroup, or the daemon did not start: $(cat "$T_TMP/m2.log" 2>/dev/null | head -c 200)"
fi
SOCK=$T_TMP/pub/open.sock
printf 'socket_mode = 0666\n' >"$T_TMP/m3.conf"
start_daemon m3 "$SOCK" -d "$DB" -s "$SOCK" -c "$T_TMP/m3.conf"
check_eq "socket_mode = 0666: the socket is 666" "$(stat -c '%a' "$SOCK")" 666
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
    st=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -m 2 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://d/health)
    check_eq "... then any user can connect" "$st" 200
fi
stop_daemon

# TCP: loopback unless told otherwise.
listeners() { ss -ltnH "sport = :$1" | awk '{print $4}' | sort | tr '\n' ' '; }
if command -v ss >/dev/null; then
    P1=$(free_port)
    SOCK=$T_TMP/t1.sock
    start_daemon t1 "$SOCK" -d "$DB" -s "$SOCK" --tcp "$P1"
    check_eq "--tcp $P1 listens on 127.0.0.1 only" "$(listeners "$P1")" "127.0.0.1:$P1 "
    stop_daemon
    P2=$(free_port)
    SOCK=$T_TMP/t2.sock
    printf 'tcp = %s\n' "$P2" >"$T_TMP/t2.conf"
    start_daemon t2 "$SOCK" -d "$DB" -s "$SOCK" -c "$T_TMP/t2.conf"
    check_eq "tcp = $P2 in the configuration: 127.0.0.1 only" "$(listeners "$P2")" "127.0.0.1:$P2 "
    stop_daemon
    P3=$(free_port)
    SOCK=$T_TMP/t3.sock
    start_daemon t3 "$SOCK" -d "$DB" -s "$SOCK" --tcp "0.0.0.0:$P3"
    check_eq "--tcp 0.0.0.0:$P3 (told otherwise): all addresses" "$(listeners "$P3")" "0.0.0.0:$P3 "
    stop_daemon
else
    skip "TCP listeners" "no ss (iproute2)"
fi

# An index in a folder the daemon cannot write, as a user of its own: the
# daemon needs no write access there (issue 7). A WAL index has no -wal and
# -shm once its writer closed; SQLite readers can do without write access
# only when those files exist (SQLite >= 3.22 then reads with a private
# copy of the -shm).
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
    ro=$T_TMP/pub/ro
    mkdir -p "$ro"
    "$PRSEARCH_INDEX" -q -d "$ro/index.db" "$PR_CORPUS" >/dev/null 2>&1
    chmod 755 "$ro" && chmod go-w "$ro"/*
    files_before=$(cd "$ro" && ls | tr '\n' ' ')
    mkdir -p "$T_TMP/pub/run" && chown nobody "$T_TMP/pub/run"
    SOCK=$T_TMP/pub/run/ro.sock
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRSEARCHD" -d "$ro/index.db" -s "$SOCK" 2>"$T_TMP/ro.log" &
    DPID=$!; on_exit "kill -9 $DPID"
    for _ in $(seq 60); do [[ -S $SOCK ]] && break; kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
    r=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" 'http://d/search?q=eig')
    check_eq "the daemon, as nobody, serves an index in a folder it cannot write" "$r" 200
    [[ $r == 200 ]] || diag "$(head -c 300 "$T_TMP/ro.log")"
    kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
    check_eq "... and wrote nothing there" "$(cd "$ro" && ls | tr '\n' ' ')" "$files_before"
else
    skip "read-only index folder" "needs root and setpriv"
fi

# The systemd unit's hardening (systemd-analyze security, offline).
UNIT=$PR_SRCDIR/dist/systemd/prsearchd.service
if command -v systemd-analyze >/dev/null && systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
    sa=$(cd "$T_TMP" && systemd-analyze security --offline=yes "$UNIT" 2>&1)
    score=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' <<<"$sa" | awk '{print $NF}')
    diag "systemd-analyze security: exposure $score; not set: $(grep '✗' <<<"$sa" | awk '{print $2}' | tr '\n' ' ')"
    check "the unit's exposure level is 2.0 or lower (systemd-analyze security: ${score:-none})" \
        awk -v s="${score:-99}" 'BEGIN{exit !(s <= 2.0)}'
    for opt in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter= MemoryMax=; do
        check "the unit sets ${opt%%=*}" grep -q "^${opt}" "$UNIT"
    done
else
    skip "systemd-analyze security" "systemd-analyze without --offline"
fi
done_testing
