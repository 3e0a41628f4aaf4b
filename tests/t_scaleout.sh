#!/usr/bin/env bash
# The scale-out recipe of docs/scaling.md, on one machine: two prsearchd on
# two copies of the index behind a real nginx (upstream with passive health
# checks, proxy_next_upstream), a load of searches through nginx while one
# copy is replaced by cp to a temporary name + mv with new content, then
# one daemon stopped. Zero failed requests, and the new content served.
# Installs nginx when it can (apt-get install nginx-light); skips visibly
# when it cannot.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x $NGINX ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q nginx-light \
        >"$T_TMP/apt.log" 2>&1 ||
        DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q nginx >>"$T_TMP/apt.log" 2>&1
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
if [[ ! -x $NGINX ]]; then
    skip "two daemons behind nginx" "nginx is not installed and cannot be (apt-get install nginx-light)"
    done_testing; exit 0
fi

# ---- the indexer's side: one index, copied to each "host" ---------------
make_index "$T_TMP/site" "$T_TMP/build.db"
check "the indexer builds the index" test -s "$T_TMP/build.db"
mkdir -p "$T_TMP/host1" "$T_TMP/host2"
for h in 1 2; do cp "$T_TMP/build.db" "$T_TMP/host$h/prsearch.db.tmp"; mv "$T_TMP/host$h/prsearch.db.tmp" "$T_TMP/host$h/prsearch.db"; done
# The next version of the site: one more page with a word of its own.
cp -r "$T_TMP/site" "$T_TMP/site2"
mkdir -p "$T_TMP/site2/_actualites"
cat >"$T_TMP/site2/_actualites/2024-05-01-zorglub.md" <<'MD'
---
title: Le zorglubophone arrive dans les administrations
date: 2024-05-01
---
Le zorglubophone, nouvel outil numérique de l'État.
MD
"$PRSEARCH_INDEX" -q -d "$T_TMP/build.db" "$T_TMP/site2" >/dev/null 2>&1
check "the indexer builds the next version" test "$(sqlite3 "$T_TMP/build.db" "select count(*) from documents where title like '%zorglub%'")" = 1

# ---- two search hosts ---------------------------------------------------
P1=$(free_port); P2=$(free_port); NP=$(free_port)
while [[ $P2 == "$P1" ]]; do P2=$(free_port); done
while [[ $NP == "$P1" || $NP == "$P2" ]]; do NP=$(free_port); done
for h in 1 2; do
    port=P$h
    if ! start_daemon "d$h" "$T_TMP/d$h.sock" -d "$T_TMP/host$h/prsearch.db" -s "$T_TMP/d$h.sock" \
        --tcp "127.0.0.1:${!port}" --threads 2; then
        not_ok "prsearchd $h starts"; diag "$(cat "$T_TMP/d$h.log")"; done_testing; exit 1
    fi
    eval "DPID$h=\$DPID"
done
ok "two prsearchd serve two copies of the index"

# ---- nginx in front, as in docs/scaling.md -----------------------------
NG=$T_TMP/nginx
mkdir -p "$NG/logs" "$NG/tmp"
{
    [[ $(id -u) == 0 ]] && echo "user root;"
    cat <<CONF
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 512; }
http {
    access_log $NG/logs/access.log;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    upstream prsearch {
        server 127.0.0.1:$P1 max_fails=2 fail_timeout=5s;
        server 127.0.0.1:$P2 max_fails=2 fail_timeout=5s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$NP;
        location / {
            proxy_pass http://prsearch;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 5s;
            proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;
            proxy_next_upstream_tries 2;
        }
    }
}
CONF
} >"$NG/nginx.conf"
if ! "$NGINX" -t -p "$NG" -c "$NG/nginx.conf" >"$T_TMP/nginx-t.log" 2>&1; then
    not_ok "the nginx configuration is valid"; diag "$(cat "$T_TMP/nginx-t.log")"; done_testing; exit 1
fi
"$NGINX" -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' 2>"$NG/logs/stderr.log" &
NGPID=$!
on_exit "kill $NGPID"
for _ in $(seq 50); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$NP/health" && break; sleep 0.1; done
check_match "nginx answers /health from a daemon" "$(curl -s "http://127.0.0.1:$NP/health")" '^\{"status":"ok"'

# ---- load, and one copy replaced mid-load --------------------------------
# Four clients, each with its own keep-alive connection, each request a
# different query string (no answer cache), for LOAD_SECONDS.
LOAD_SECONDS=${LOAD_SECONDS:-6}
load() {
    local end=$((SECONDS + LOAD_SECONDS)) i=0 urls
    while ((SECONDS < end)); do
        urls=()
        for _ in $(seq 20); do i=$((i + 1)); urls+=(-o /dev/null "http://127.0.0.1:$NP/search?q=etat+numerique&c=$1-$i"); done
        curl -s -m 10 -w "%{http_code}\n" "${urls[@]}"
    done >"$T_TMP/load$1.codes"
}
for c in 1 2 3 4; do load "$c" & done
sleep 2
cp "$T_TMP/build.db" "$T_TMP/host1/prsearch.db.tmp"
mv "$T_TMP/host1/prsearch.db.tmp" "$T_TMP/host1/prsearch.db"
ok "host 1's index replaced mid-load (cp to a temporary name, mv)"
wait_load() { for j in $(jobs -p); do [[ $j == "$NGPID" || $j == "$DPID1" || $j == "$DPID2" ]] || wait "$j"; done; }
wait_load
codes=$(cat "$T_TMP"/load*.codes)
n=$(grep -c . <<<"$codes"); bad=$(grep -vc '^200$' <<<"$codes")
check "the load made at least 200 requests ($n)" test "$n" -ge 200
check_eq "zero failed requests during the replacement ($n requests)" "$bad" 0
[[ $bad != 0 ]] && diag "$(sort <<<"$codes" | uniq -c)"
check_contains "host 1 reopened the replaced index" "$(cat "$T_TMP/d1.log")" "reopened the index"

r=$(curl -s "http://127.0.0.1:$P1/search?q=zorglubophone")
check_match "host 1 serves the new content" "$r" '"total":1,'
r=$(curl -s "http://127.0.0.1:$P2/search?q=zorglubophone")
check_match "host 2 still serves the old copy" "$r" '"total":0,'
# The second copy follows; through nginx every answer is then the new one.
cp "$T_TMP/build.db" "$T_TMP/host2/prsearch.db.tmp"
mv "$T_TMP/host2/prsearch.db.tmp" "$T_TMP/host2/prsearch.db"
sleep 0.5
new=0
for i in $(seq 20); do
    curl -s "http://127.0.0.1:$NP/search?q=zorglubophone&i=$i" | grep -q '"total":1,' && new=$((new + 1))
done
check_eq "after both copies are replaced, nginx serves the new content (20/20)" "$new" 20

# ---- a host goes away: nginx sends its requests to the other ------------
for c in 1 2; do load "$c" & done
sleep 1
kill -TERM "$DPID2"
wait_load
wait "$DPID2"; st=$?
check_eq "host 2 stopped cleanly (SIGTERM)" "$st" 0
codes=$(cat "$T_TMP"/load1.codes "$T_TMP"/load2.codes)
n=$(grep -c . <<<"$codes"); bad=$(grep -vc '^200$' <<<"$codes")
check_eq "zero failed requests while a host stops ($n requests)" "$bad" 0
[[ $bad != 0 ]] && diag "$(sort <<<"$codes" | uniq -c)"
check_match "nginx /health still answers" "$(curl -s "http://127.0.0.1:$NP/health")" '^\{"status":"ok"'

kill -TERM "$NGPID"; wait "$NGPID" 2>/dev/null
DPID=$DPID1; stop_daemon
check_eq "host 1 stops cleanly" "$DSTATUS" 0
done_testing
