#!/usr/bin/env bash
# Life of prsearchd: start-up errors (missing index, bad config, socket
# problems) with exit 2, defaults from the environment, socket modes,
# SIGHUP reload, SIGTERM with requests in flight, systemd socket activation.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

IDX=$T_TMP/idx.db
make_index "$T_TMP/site" "$IDX"

# ---- start-up errors ------------------------------------------------------
check_exit "a missing index exits 2" 2 "$PRSEARCHD" -d "$T_TMP/none.db" -s "$T_TMP/x.sock"
err=$(cat "$T_TMP/last.err")
want="prsearchd: cannot open the index $T_TMP/none.db"
check_eq "... with one clear line" "$(wc -l <<<"$err") ${err:0:${#want}}" "1 $want"
check "... and no socket left" test ! -e "$T_TMP/x.sock"
echo "not a database" >"$T_TMP/junk.db"
check_exit "a file that is not an index exits 2" 2 "$PRSEARCHD" -d "$T_TMP/junk.db" -s "$T_TMP/x.sock"
printf 'threads = 2\nmax_limit = beaucoup\n' >"$T_TMP/bad.conf"
check_exit "a bad config line exits 2" 2 "$PRSEARCHD" -d "$IDX" -s "$T_TMP/x.sock" -c "$T_TMP/bad.conf"
check_contains "... naming file:line" "$(cat "$T_TMP/last.err")" "$T_TMP/bad.conf:2: max_limit must be an integer"
check_exit "a missing config file exits 2" 2 "$PRSEARCHD" -d "$IDX" -s "$T_TMP/x.sock" -c "$T_TMP/none.conf"
check_exit "an unknown option exits 2" 2 "$PRSEARCHD" --bogus
check_exit "--help exits 0" 0 "$PRSEARCHD" --help
check_contains "--help shows the usage" "$(cat "$T_TMP/last.out")" "Usage: prsearchd [-d DB] [-s SOCKET] [--tcp HOST:PORT]"
check_exit "--version exits 0" 0 "$PRSEARCHD" --version
check_match "--version prints the version" "$(cat "$T_TMP/last.out")" '^prsearchd [0-9]'
check_exit "a socket directory that cannot be made exits 2" 2 "$PRSEARCHD" -d "$IDX" -s /proc/prsearch-nope/x.sock
check_contains "... saying so" "$(cat "$T_TMP/last.err")" "cannot create the socket directory /proc/prsearch-nope"
check_exit "a bad --tcp exits 2" 2 "$PRSEARCHD" -d "$IDX" -s "$T_TMP/x.sock" --tcp 127.0.0.1:notaport
check "... and removes the socket it made" test ! -e "$T_TMP/x.sock"
check_exit "--threads 0 and nothing to listen on exits 2" 2 "$PRSEARCHD" -d "$IDX" -s none

# ---- defaults from the environment, socket directory and modes -------------
SOCK=$T_TMP/newdir/env.sock
printf 'socket_mode = 0600\n' >"$T_TMP/m.conf"
if PRSEARCH_DB=$IDX PRSEARCH_SOCKET=$SOCK start_daemon env "$SOCK" -c "$T_TMP/m.conf"; then
    ok "PRSEARCH_DB and PRSEARCH_SOCKET are the defaults; a missing socket directory is made"
else
    not_ok "PRSEARCH_DB and PRSEARCH_SOCKET are the defaults"; diag "$(cat "$T_TMP/env.log")"
fi
check_eq "socket_mode sets the socket's mode" "$(stat -c %a "$SOCK")" 600
check_exit "a second daemon on the same socket exits 2" 2 "$PRSEARCHD" -d "$IDX" -s "$SOCK"
check_contains "... saying another daemon listens there" "$(cat "$T_TMP/last.err")" "already listening on $SOCK"
check_match "... and the first one still answers" "$(req /health)" '^200 '
kill -INT "$DPID"; wait "$DPID"; st=$?
check_eq "SIGINT exits 0" "$st" 0
check "SIGINT removes the socket" test ! -e "$SOCK"

python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T_TMP/stale.sock"
SOCK=$T_TMP/stale.sock
if start_daemon stale "$SOCK" -d "$IDX" -s "$SOCK"; then ok "a stale socket file is replaced"; else not_ok "a stale socket file is replaced"; diag "$(cat "$T_TMP/stale.log")"; fi
stop_daemon

# ---- SIGHUP ------------------------------------------------------------------
SOCK=$T_TMP/h.sock
printf 'cors_origin = https://a.example\n' >"$T_TMP/h.conf"
start_daemon hup "$SOCK" -d "$IDX" -s "$SOCK" -c "$T_TMP/h.conf"
check_contains "CORS origin from the config" "$(headers /health)" "Access-Control-Allow-Origin: https://a.example"
printf 'cors_origin = https://b.example\nmax_limit = 5\n' >"$T_TMP/h.conf"
kill -HUP "$DPID"; sleep 0.3
check_contains "SIGHUP reloads the config" "$(headers /health)" "Access-Control-Allow-Origin: https://b.example"
check_match "... including limits" "$(req '/search?q=eig&limit=6')" '^400 .*from 1 to 5'
req '/search?q=eig' >/dev/null
sleep 0.1
check_contains "SIGHUP reopens the index (logged)" "$(cat "$T_TMP/hup.log")" "reopened the index"
printf 'cors_origin = https://c.example\nbogus line\n' >"$T_TMP/h.conf"
kill -HUP "$DPID"; sleep 0.3
check_contains "a bad config on SIGHUP is logged" "$(cat "$T_TMP/hup.log")" "h.conf:2: expected 'key = value'; keeping the current configuration"
check_contains "... and the old one kept" "$(headers /health)" "Access-Control-Allow-Origin: https://b.example"
stop_daemon
check_eq "exit 0 after reloads" "$DSTATUS" 0

# ---- a broken file in place of the index ---------------------------------------
SOCK=$T_TMP/j.sock
cp "$IDX" "$T_TMP/j.db"
start_daemon junk "$SOCK" -d "$T_TMP/j.db" -s "$SOCK"
echo "not an index" >"$T_TMP/j.new"
mv "$T_TMP/j.new" "$T_TMP/j.db"
sleep 0.2
codes=""
for q in eig cloud donnees etat api recrutement numerique; do
    codes+="$(req "/search?q=$q" | cut -c1-3) "
done
check_eq "a broken file in place of the index: the old index keeps answering" "$codes" "200 200 200 200 200 200 200 "
check_eq "... and it is logged once, not per query" "$(grep -c 'cannot reopen the index' "$T_TMP/junk.log")" 1
check_match "... and counted" "$(req /metrics)" $'prsearchd_index_reopen_errors_total [1-9]'
cp "$IDX" "$T_TMP/j.new"
mv "$T_TMP/j.new" "$T_TMP/j.db"
sleep 0.2
check_match "a good index put back is served" "$(req '/search?q=eig')" '^200 '
stop_daemon

# ---- SIGTERM with requests in flight ----------------------------------------
SOCK=$T_TMP/t.sock
start_daemon term "$SOCK" -d "$IDX" -s "$SOCK"
out=$(python3 -c '
import os, socket, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
conns = []
for target in ("/search?q=eig", "/health", "/suggest?q=cl"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n" % target).encode())
    conns.append(s)
time.sleep(0.2)
os.kill(pid, 15)
time.sleep(0.3)
print("socket_gone" if not os.path.exists(path) else "socket_still_there")
for s in conns:
    s.sendall(b"\r\n")
for s in conns:
    s.settimeout(3)
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except OSError:
            break
        if not b:
            break
        data += b
    head = data.split(b"\r\n\r\n")[0].decode()
    print(head.split("\r\n")[0], "close" if "Connection: close" in head else "keep")
' "$SOCK" "$DPID")
wait "$DPID"; st=$?
check_eq "SIGTERM: new connections are refused at once" "$(head -1 <<<"$out")" socket_gone
check_eq "SIGTERM: requests in flight complete, then close" "$(tail -n +2 <<<"$out" | tr '\n' ' ')" "HTTP/1.1 200 OK close HTTP/1.1 200 OK close HTTP/1.1 200 OK close "
check_eq "SIGTERM with requests in flight: exit 0" "$st" 0

# ---- systemd socket activation ------------------------------------------------
SOCK=$T_TMP/sd.sock
PRSEARCH_SOCKET=$T_TMP/not-this.sock python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(16)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid()); os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], [sys.argv[2], "-d", sys.argv[3]])
' "$SOCK" "$PRSEARCHD" "$IDX" 2>"$T_TMP/sd.log" &
DPID=$!
on_exit "kill -9 $DPID"
for i in $(seq 60); do [[ $(req /health) == 200* ]] && break; sleep 0.05; done
check_match "socket activation: answers on the fd systemd passed" "$(req /health)" '^200 \{"status":"ok"'
check_contains "socket activation is logged" "$(cat "$T_TMP/sd.log")" "listening on unix fd 3 (systemd)"
check "socket activation: the default socket is not made" test ! -e "$T_TMP/not-this.sock"
stop_daemon
check_eq "socket activation: SIGTERM exits 0" "$DSTATUS" 0
done_testing
