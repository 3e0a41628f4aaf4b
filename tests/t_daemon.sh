#!/usr/bin/env bash
# Tests of prsearchd through the real binary and real sockets: every route
# and error status over the Unix socket and TCP, headers, HEAD, HTTP/1.0,
# 64 concurrent keep-alive connections, a reindex under load, an index
# replaced by mv, and the same answers as the client's direct mode.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

SITE=$T_TMP/site
IDX=$T_TMP/idx.db
SOCK=$T_TMP/d.sock
PORT=$(free_port)
TCP=http://127.0.0.1:$PORT
make_index "$SITE" "$IDX"
check "the test index is built" test -s "$IDX"
ndocs=$(sqlite3 "$IDX" 'select count(*) from documents')

cat >"$T_TMP/d.conf" <<CONF
# test settings
cors_origin = https://example.org
threads = 2
CONF
if ! start_daemon d "$SOCK" -d "$IDX" -s "$SOCK" --tcp "127.0.0.1:$PORT" -c "$T_TMP/d.conf" --access-log; then
    not_ok "prsearchd starts"; diag "$(cat "$T_TMP/d.log")"; done_testing; exit 1
fi
ok "prsearchd starts on a Unix socket and TCP"
check_match "start is logged with the document count" "$(cat "$T_TMP/d.log")" "started: index .* \\($ndocs documents\\)"
check_eq "the Unix socket has mode 0660" "$(stat -c %a "$SOCK")" 660

# ---- every route and status, over both transports ----------------------
for base in "" "$TCP"; do
    via=${base:+TCP}; via=${via:-Unix socket}
    r=$(req "$base/health")
    check_match "$via: /health" "$r" "^200 \\{\"status\":\"ok\",\"documents\":$ndocs,\"index_mtime\":[0-9]+\\}$"
    # index_mtime is the newer of the file and its WAL (which readers create)
    mt=$(sed 's/.*"index_mtime":\([0-9]*\).*/\1/' <<<"$r")
    check "$via: /health index_mtime is the index's" test "$mt" -ge "$(stat -c %Y "$IDX")" -a "$mt" -le "$(date +%s)"
    r=$(req "$base/search?q=EIG+recrutement")
    check_match "$via: /search answers hits" "$r" '^200 \{"query":"EIG recrutement","total":[1-9][0-9]*,.*"hits":\[\{"path":'
    check_contains "$via: /search finds the EIG press release" "$r" '"url":"/espace-presse/'
    r=$(req "$base/search?q=%C3%A9tat&limit=1&offset=0&collection=communiques&prefix=0")
    check_match "$via: /search with UTF-8 escapes and filters" "$r" '^200 \{"query":"état".*"limit":1,'
    r=$(req "$base/search?q=donn%C3%A9es+ouvertes&tag=&category=&after=2020-01-01&before=2030-12-31")
    check_match "$via: /search with empty filters and dates" "$r" '^200 \{"query":"données ouvertes"'
    r=$(req "$base/suggest?q=recru")
    check_match "$via: /suggest" "$r" '^200 \{"query":"recru","suggestions":\[\{"text":'
    r=$(req "$base/metrics")
    check_match "$via: /metrics is Prometheus text" "$r" '^200 # HELP prsearchd_requests_total'
    check_contains "$via: /metrics counts /search" "$r" 'prsearchd_requests_total{route="search",code="200"}'
    r=$(req "$base/nowhere")
    check_match "$via: unknown path is 404 JSON" "$r" '^404 \{"error":\{"code":"not_found","message":"[^"]+"\}\}$'
    r=$(req "$base/search?q=x" -X POST -d 'a=b')
    check_match "$via: POST is 405" "$r" '^405 \{"error":\{"code":"method_not_allowed"'
    check_contains "$via: 405 says Allow" "$(headers "$base/health" -X DELETE)" "Allow: GET, HEAD"
    r=$(req "$base/search?q=x&limit=101")
    check_match "$via: limit over 100 is 400 naming it" "$r" '^400 \{"error":\{"code":"bad_request","message":"parameter limit: '
    r=$(req "$base/search?q=x&offset=-3")
    check_match "$via: bad offset is 400" "$r" '^400 .*parameter offset'
    r=$(req "$base/search?q=%E9t%")
    check_match "$via: invalid escape is 400" "$r" '^400 .*parameter q: invalid percent-escape'
    r=$(req "$base/search?q=%E9t")
    check_match "$via: invalid UTF-8 is 400" "$r" '^400 .*parameter q: not valid UTF-8'
    r=$(req "$base/search?q=eig&after=2021-02-30x")
    check_match "$via: bad date is 400" "$r" '^400 .*parameter after'
    r=$(req "$base/search?q=eig&prefix=peut-etre")
    check_match "$via: bad prefix flag is 400" "$r" '^400 .*parameter prefix'
    long=$(printf 'a%.0s' $(seq 1100))
    r=$(req "$base/search?q=$long")
    check_match "$via: a query over 1 KiB is 400" "$r" '^400 .*parameter q: query longer than 1024 bytes'
    r=$(req "$base/search?q=\"unbalanced+NEAR(+col:x+^")
    check_match "$via: FTS5 syntax in a query is not an error" "$r" '^200 \{"query":'
    r=$(req "$base/search?q=$(printf 'a%.0s' $(seq 5000))")
    check_match "$via: a URI over 4 KiB is 414" "$r" '^414 \{"error":\{"code":"uri_too_long"'
    hdrs=(); for i in $(seq 120); do hdrs+=(-H "X-H$i: v"); done
    r=$(req "$base/health" "${hdrs[@]}")
    check_match "$via: 120 header fields is 431" "$r" '^431 \{"error":\{"code":"header_too_large"'
    r=$(req "$base/health" -H "X-Big: $(printf 'b%.0s' $(seq 9000))")
    check_match "$via: a head over 8 KiB is 431" "$r" '^431 '
    head -c 1000 /dev/zero >"$T_TMP/small"
    r=$(req "$base/health" -X GET --data-binary @"$T_TMP/small")
    check_match "$via: a small body on GET is read and dropped" "$r" '^200 \{"status":"ok"'
    head -c 100000 /dev/zero >"$T_TMP/big"
    r=$(req "$base/health" -X GET --data-binary @"$T_TMP/big" -H 'Expect:')
    check_match "$via: a large body on GET is 413" "$r" '^413 \{"error":\{"code":"payload_too_large"'
    h=$(headers "$base/search?q=eig")
    check_contains "$via: JSON content type" "$h" "Content-Type: application/json; charset=utf-8"
    check_match "$via: Content-Length" "$h" $'Content-Length: [0-9]+'
    check_contains "$via: CORS header from the config" "$h" "Access-Control-Allow-Origin: https://example.org"
    h=$(curl -s -m 5 ${base:+} $([[ -z $base ]] && echo --unix-socket "$SOCK") -I "${base:-http://d}/health" | tr -d '\r')
    check_match "$via: HEAD has the length and no body" "$h" $'^HTTP/1.1 200 OK\n.*Content-Length: [1-9]'
done

# ---- HTTP versions and keep-alive --------------------------------------
out=$(printf 'GET /health HTTP/1.0\r\n\r\n' | raw 127.0.0.1 "$PORT" 3)
check_match "HTTP/1.0 is answered and closed" "$out" $'^HTTP/1.1 200 OK\r\n.*Connection: close'
out=$(printf 'GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n' | raw 127.0.0.1 "$PORT" 3)
check_eq "HTTP/1.0 keep-alive keeps the connection" "$(grep -o 'HTTP/1.1 200' <<<"$out" | wc -l)" 2
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /search?q=eig HTTP/1.1\r\nHost: x\r\n\r\nHEAD /suggest?q=a HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | raw 127.0.0.1 "$PORT" 3)
check_eq "pipelined requests are answered in order" "$(grep -o 'HTTP/1.1 [0-9]*' <<<"$out" | tr '\n' ' ')" "HTTP/1.1 200 HTTP/1.1 200 HTTP/1.1 200 HTTP/1.1 404 "
check_contains "the access log has method, path, status, bytes, time" "$(cat "$T_TMP/d.log")" "access GET /search?q=eig 200 "

# ---- 64 concurrent keep-alive connections -------------------------------
cat >"$T_TMP/targets" <<'T'
/search?q=EIG+recrutement
/search?q=accessibilite
/search?q=cloud&limit=5
/search?q=donnees+ouvertes&collection=actualites
/search?q=recru&prefix=1
/search?q=franceconnect+-webinaire
/search?q=%22logiciels+libres%22
/suggest?q=acc
/suggest?q=franc&limit=3
/health
T
mkdir -p "$T_TMP/dump"
out=$("$HTTPCLIENT" load -u "$SOCK" -c 64 -n 200 -f "$T_TMP/targets" -o "$T_TMP/dump")
check_match "64 connections x 200 mixed requests over the Unix socket: all 200, equal bodies" "$out" '^requests=12800 ok=12800 failed=0 mismatched=0 '
diag "$out"
out=$("$HTTPCLIENT" load -t "127.0.0.1:$PORT" -c 64 -n 200 -f "$T_TMP/targets")
check_match "64 connections x 200 mixed requests over TCP" "$out" '^requests=12800 ok=12800 failed=0 mismatched=0 '
diag "$out"
if [[ -x $PRSEARCH ]]; then
    want=$("$PRSEARCH" -d "$IDX" --json "EIG recrutement" | sed 's/"took_ms":[0-9.e+-]*/"took_ms":/')
    check_eq "/search gives the same JSON as prsearch -d --json" "$(cat "$T_TMP/dump/0.json")" "$want"
    got=$("$PRSEARCH" -s "$SOCK" --json "EIG recrutement" | sed 's/"took_ms":[0-9.e+-]*/"took_ms":/')
    check_eq "prsearch -s gives the same JSON as prsearch -d" "$got" "$want"
else
    skip "/search gives the same JSON as prsearch -d --json" "client/prsearch is not built"
fi

check_match "answers are cached per index version" "$(req /metrics)" $'prsearchd_cache_hits_total [1-9]'

# ---- reindex under load --------------------------------------------------
# Ask first, so stale cached answers would show after the reindex.
check_match "before the reindex: no xylophage" "$(req "/search?q=xylophage")" '"total":0,'
check_match "before the reindex: the form tutorial is there" "$(req "/search?q=formulaires+accessibles+tutoriel")" '"total":[1-9]'
"$HTTPCLIENT" load -x -t "127.0.0.1:$PORT" -c 16 -d 4 -f "$T_TMP/targets" >"$T_TMP/load.out" &
lpid=$!
sleep 0.5
cat >"$SITE/_actualites/zygomorphe.md" <<'MD'
---
title: "Le zygomorphe arrive"
date: 2024-03-01
---
Un mot rare : zygomorphe.
MD
sed -i 's/^title: .*/title: "Doctrine cloud au centre, version xylophage"/' "$SITE/_communiques/doctrine-cloud-au-centre.md"
rm "$SITE/_actualites/formulaires-accessibles-tutoriel.md"
"$PRSEARCH_INDEX" -q -d "$IDX" "$SITE"
t_end=$(date +%s.%N)
sleep 0.2
r1=$(req "/search?q=zygomorphe"); r2=$(req "/search?q=xylophage"); r3=$(req "/search?q=formulaires+accessibles+tutoriel")
check_match "after a reindex under load, an added document is found" "$r1" '"total":1,'
check_match "after a reindex under load, a changed title is found" "$r2" '"total":1,'
check_contains "after a reindex under load, a deleted document is gone" "$r3" '"total":0,'
wait "$lpid"; lst=$?
check_eq "no request failed during the reindex" "$lst $(sed 's/ rps.*//' "$T_TMP/load.out" | grep -o 'failed=[0-9]*')" "0 failed=0"
diag "$(cat "$T_TMP/load.out")"
r=$(req "/health")
check_contains "/health counts the reindexed documents within a second" "$r" "\"documents\":$ndocs,"

# ---- index replaced by mv ------------------------------------------------
# The WAL left by the reindex under load (its final PASSIVE checkpoint
# cannot finish while queries read) must be emptied before a new file
# takes the name, or SQLite would read the old pages from it into the new
# file. prsearch-index should end its runs with a TRUNCATE checkpoint;
# until it does, the test does it as an operator would.
sqlite3 "$IDX" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
mkdir -p "$T_TMP/site2/_communiques"
cat >"$T_TMP/site2/_communiques/nouveau.md" <<'MD'
---
title: "Un index tout neuf : quokka"
date: 2024-05-01
---
Le quokka est un petit marsupial.
MD
"$PRSEARCH_INDEX" -q -d "$T_TMP/new.db" "$T_TMP/site2"
mv "$T_TMP/new.db" "$IDX"
sleep 0.1
r=$(req "/search?q=quokka"); r2=$(req "$TCP/search?q=quokka")
check_match "an index replaced by mv is served (Unix socket)" "$r" '^200 .*"total":1,'
check_match "an index replaced by mv is served (TCP)" "$r2" '^200 .*"total":1,'
sleep 1.2
check_match "/health reports the new index" "$(req /health)" '"documents":1,'
check_match "reopens are counted in /metrics" "$(req /metrics)" $'prsearchd_index_reopens_total [1-9]'
check_contains "reopens are logged" "$(cat "$T_TMP/d.log")" "reopened the index"

stop_daemon
check_eq "SIGTERM: exit 0" "$DSTATUS" 0
check "SIGTERM: the socket file is removed" test ! -e "$SOCK"
check_contains "SIGTERM is logged" "$(cat "$T_TMP/d.log")" "finishing in-flight requests"
done_testing
