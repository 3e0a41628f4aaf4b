#!/bin/sh
# scripts/demo.sh - the README's first quick-start command: install what is
# needed, build, index the sample pages of data/, start the daemon on a
# private socket, search through it, stop it.
set -e
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
work=$(mktemp -d /tmp/prsearch-demo.XXXXXX)
db=$work/prsearch.db
sock=$work/prsearchd.sock
query=${1:-recrutement EIG}

echo "== prsearch-index -d $db data/"
indexer/prsearch-index -d "$db" data/ || [ $? -eq 1 ]

echo "== prsearchd -d $db -s $sock"
daemon/prsearchd -d "$db" -s "$sock" 2>"$work/prsearchd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

echo "== prsearch -s $sock \"$query\""
client/prsearch -s "$sock" "$query" || true
echo "== curl --unix-socket $sock 'http://localhost/health'"
curl -s --unix-socket "$sock" http://localhost/health
echo
