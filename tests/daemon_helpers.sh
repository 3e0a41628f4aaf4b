# tests/daemon_helpers.sh - helpers for the prsearchd shell tests (sourced
# after lib.sh, not run): a test index, starting and stopping the daemon,
# HTTP over the Unix socket or TCP with curl, raw bytes with python3.

HTTPCLIENT="$PR_BUILDDIR/tests/tool_httpclient"

# make_index DIR DB: copy the sample site to DIR and index it into DB.
make_index() {
    rm -rf "$1"
    cp -r "$PR_SRCDIR/data" "$1"
    "$PRSEARCH_INDEX" -q -d "$2" "$1" >/dev/null 2>&1
}

# need_programs: skip the whole test visibly when a program is not built.
need_programs() {
    local p
    for p in "$PRSEARCHD" "$PRSEARCH_INDEX" "$HTTPCLIENT"; do
        if [[ ! -x $p ]]; then
            skip "prsearchd tests" "$(basename "$p") is not built"
            done_testing
            exit 0
        fi
    done
}

# start_daemon NAME SOCKET ARGS...: start prsearchd (log in $T_TMP/NAME.log),
# wait until /health answers on SOCKET; sets DPID. Returns 1 if it never did.
start_daemon() {
    local name=$1 sock=$2 i; shift 2
    "$PRSEARCHD" "$@" 2>"$T_TMP/$name.log" &
    DPID=$!
    on_exit "kill -9 $DPID"
    for i in $(seq 100); do
        if curl -s -m 1 --unix-socket "$sock" http://d/health 2>/dev/null | grep -q '"ok"'; then
            return 0
        fi
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_daemon: SIGTERM and wait; the exit status is left in DSTATUS.
# (Not in a $(...) subshell: only this shell can wait for the daemon.)
stop_daemon() {
    kill -TERM "$DPID" 2>/dev/null
    wait "$DPID"; DSTATUS=$?
}

# req URL [curl options...]: "STATUS BODY" of a GET, over the socket in
# $SOCK when URL starts with /, else over TCP.
req() {
    local url=$1; shift
    if [[ $url == /* ]]; then
        curl -s -m 5 --unix-socket "$SOCK" -o "$T_TMP/body" -w '%{http_code}' "$@" "http://d$url"
    else
        curl -s -m 5 -o "$T_TMP/body" -w '%{http_code}' "$@" "$url"
    fi
    printf ' %s' "$(cat "$T_TMP/body" 2>/dev/null)"
}

# headers URL [curl options...]: the response head.
headers() {
    local url=$1; shift
    if [[ $url == /* ]]; then
        curl -s -m 5 --unix-socket "$SOCK" -o /dev/null -D - "$@" "http://d$url"
    else
        curl -s -m 5 -o /dev/null -D - "$@" "$url"
    fi | tr -d '\r'
}

# raw HOST PORT [WAIT]: send stdin over TCP, print what comes back until the
# server closes or WAIT seconds (default 3) pass without data.
raw() {
    python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
data = sys.stdin.buffer.read()
try:
    s.sendall(data)
except OSError:
    pass
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.buffer.write(out)
' "$1" "$2" "${3:-3}"
}

# health_fast WHAT: /health answers 200 within half a second.
health_fast() {
    local t
    t=$(curl -s -m 2 -o /dev/null -w '%{http_code} %{time_total}' --unix-socket "$SOCK" http://d/health)
    if [[ ${t%% *} == 200 ]] && awk -v s="${t#* }" 'BEGIN{exit !(s < 0.5)}'; then
        ok "$1: /health answers at once"
    else
        not_ok "$1: /health answers at once"; diag "got: $t"
    fi
}
