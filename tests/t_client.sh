#!/usr/bin/env bash
# tests/t_client.sh - the prsearch client, real binaries end to end:
# index the data/ samples with prsearch-index, search them with
# `prsearch -d`: exit codes 0/1/2, --json validity, filters, the nasty
# query table; the daemon mode against a stand-in HTTP server and against
# prsearchd when it is built; then the acceptance checks on ../shared/corpus
# (skipped visibly when it is absent).
. "$(dirname "$0")/lib.sh"

if [[ ! -x $PRSEARCH || ! -x $PRSEARCH_INDEX ]]; then
    not_ok "prsearch and prsearch-index are built"
    done_testing
    exit
fi

IDX=$T_TMP/data.db
"$PRSEARCH_INDEX" -q -d "$IDX" "$PR_SRCDIR/data" 2>"$T_TMP/index.err"
check "data/ samples indexed" test -s "$IDX"

# json_ok FILE: FILE holds one valid JSON document.
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }
# jget FILE EXPR: evaluate the Python expression EXPR on the JSON in FILE (d).
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# --- exit codes --------------------------------------------------------
check_exit "hits: exit 0" 0 "$PRSEARCH" -d "$IDX" franceconnect
check_match "human output: rank, title, URL" "$(cat "$T_TMP/last.out")" \
    $'^1\\. .*FranceConnect.*\n +[0-9]{4}-[0-9]{2}-[0-9]{2}  /'
check "no ANSI escapes when stdout is not a terminal" \
    bash -c '! grep -q $'"'"'\033'"'"' "$0"' "$T_TMP/last.out"
check_exit "no hits: exit 1" 1 "$PRSEARCH" -d "$IDX" zzyzxqwv
check_exit "stop words only: exit 1, no error" 1 "$PRSEARCH" -d "$IDX" le la les
check_exit "missing index: exit 2" 2 "$PRSEARCH" -d "$T_TMP/none.db" eig
check_match "missing index: one line 'prsearch: no index at'" "$(cat "$T_TMP/last.err")" \
    '^prsearch: no index at [^'$'\n'']*$'
check_exit "no query: exit 2" 2 "$PRSEARCH" -d "$IDX"
check_exit "--limit 0: exit 2" 2 "$PRSEARCH" -d "$IDX" -n 0 eig
check_exit "--limit x: exit 2" 2 "$PRSEARCH" -d "$IDX" -n x eig
check_exit "--after hier: exit 2" 2 "$PRSEARCH" -d "$IDX" --after hier eig
check_eq "bad date message" "$(cat "$T_TMP/last.err")" \
    "prsearch: bad date for after: expected YYYY-MM-DD"
check_exit "unknown option: exit 2" 2 "$PRSEARCH" -d "$IDX" --bogus eig
check_exit "query over 1 KiB: exit 2" 2 "$PRSEARCH" -d "$IDX" "$(printf 'cloud %.0s' {1..300})"
check_eq "too long message" "$(cat "$T_TMP/last.err")" "prsearch: query too long (max 1024 bytes)"
check_exit "33 terms: exit 2" 2 "$PRSEARCH" -d "$IDX" $(printf 'mot%d ' {1..33})
check_eq "too many terms message" "$(cat "$T_TMP/last.err")" "prsearch: too many terms (max 32)"
check_exit "--help: exit 0" 0 "$PRSEARCH" --help
check_contains "--help lists --json" "$(cat "$T_TMP/last.out")" "--json"
check_exit "--version: exit 0" 0 "$PRSEARCH" --version
check_match "--version prints the version" "$(cat "$T_TMP/last.out")" '^prsearch [0-9]'
check_exit "-word is an exclusion, not an option" 0 "$PRSEARCH" -d "$IDX" franceconnect -webinaire
check_exit "options after the words" 0 "$PRSEARCH" franceconnect -d "$IDX" --json

# --- JSON ----------------------------------------------------------------
"$PRSEARCH" -d "$IDX" --json franceconnect >"$T_TMP/fc.json"
check "--json: valid JSON" json_ok "$T_TMP/fc.json"
check_eq "--json: one line" "$(wc -l <"$T_TMP/fc.json")" 1
check_eq "--json: keys in SPEC order" "$(jget "$T_TMP/fc.json" 'list(d)')" \
    "['query', 'total', 'offset', 'limit', 'took_ms', 'hits', 'facets', 'suggestion']"
check_eq "--json: hit keys in SPEC order" "$(jget "$T_TMP/fc.json" 'list(d["hits"][0])')" \
    "['path', 'url', 'collection', 'title', 'title_html', 'date', 'categories', 'tags', 'snippet_html', 'score', 'duplicates']"
check_eq "--json: total is exact" "$(jget "$T_TMP/fc.json" 'd["total"]')" \
    "$("$PRSEARCH" -d "$IDX" --json -n 100 franceconnect | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hits"]))')"

"$PRSEARCH" -d "$IDX" --json --tag eig "" >"$T_TMP/tag.json"
check_eq "--tag eig (folded) alone lists the EIG pages" \
    "$(jget "$T_TMP/tag.json" 'all("EIG" in h["tags"] for h in d["hits"]) and d["total"]')" 2
"$PRSEARCH" -d "$IDX" --json --collection communiques --after 2022-01-01 "" >"$T_TMP/f.json"
check_eq "--collection and --after" \
    "$(jget "$T_TMP/f.json" 'all(h["collection"]=="communiques" and h["date"]>="2022-01-01" for h in d["hits"]) and d["total"]>0')" True
"$PRSEARCH" -d "$IDX" --json -n 2 --offset 2 -- -zzzz >"$T_TMP/p.json"
check_eq "pagination: offset/limit echoed, page of 2" \
    "$(jget "$T_TMP/p.json" '(d["offset"], d["limit"], len(d["hits"]))')" "(2, 2, 2)"

# --- the nasty table: every input exits 0 or 1 --------------------------
nasty=(
    '' ' ' '-' '--' '*' '**' '"' '""' '"""' "'" '(' ')' '^' 'NEAR(' 'NEAR(cloud état)'
    'col:' 'title:cloud' '{title}: cloud' 'AND' 'OR' 'NOT' 'cloud OR' 'OR cloud' 'cloud -'
    '-cloud' '-"cloud' '"cloud' 'recru*' '*recru' '"talents du num"*' "'; DROP TABLE documents; --"
    "' OR '1'='1" '%' '\' $'\x01\x02' $'\x1b[31mcloud' $'\xff\xfe' $'caf\xc3' $'\xed\xa0\x80'
    '🚀' '👩‍💻' 'ÉTAT' "l'" 'l’État' '3 500' '5e' 'E.I.G.' 'entrepreneur.e.s' 'porte-parole'
    'tag:' 'tag:"' 'tag:EIG' '-tag:EIG' 'year:abcd' 'year:2021' 'after:2021-13-01'
    'after:2021-01-01 before:2020-01-01' 'foo:bar' 'le la les' '<script>alert(1)</script>'
    '&amp;' '$(id)' '`id`' 'cloud~' '~cloud' '|' '&&' 'a b c d e f g h'
    "$(head -c 1000 /dev/zero | tr '\0' 'a')"
)
bad=0
for q in "${nasty[@]}"; do
    "$PRSEARCH" -d "$IDX" -- "$q" >/dev/null 2>"$T_TMP/n.err"; st=$?
    if [[ $st != 0 && $st != 1 ]]; then
        bad=$((bad + 1)); diag "exit $st for [$q]: $(head -c 200 "$T_TMP/n.err")"
    fi
    "$PRSEARCH" -d "$IDX" --json --prefix -- "$q" >"$T_TMP/n.json" 2>/dev/null; st=$?
    if [[ $st != 0 && $st != 1 ]] || ! json_ok "$T_TMP/n.json"; then
        bad=$((bad + 1)); diag "--json --prefix: exit $st for [$q]"
    fi
done
check_eq "${#nasty[@]} nasty inputs all exit 0 or 1 (with valid JSON)" "$bad" 0

# --- daemon mode ---------------------------------------------------------
PRSEARCH_SOCKET=$T_TMP/none.sock "$PRSEARCH" eig >"$T_TMP/d.out" 2>"$T_TMP/d.err"; st=$?
check_eq "no daemon: exit 2" "$st" 2
check_eq "no daemon: the one-line message" "$(cat "$T_TMP/d.err")" \
    "prsearch: no daemon at $T_TMP/none.sock (connect: No such file or directory); start prsearchd or search the index directly with -d prsearch.db"
port=$(free_port)
check_exit "no daemon on TCP: exit 2" 2 "$PRSEARCH" -H "127.0.0.1:$port" eig
check_contains "no daemon on TCP: message" "$(cat "$T_TMP/last.err")" \
    "prsearch: no daemon at 127.0.0.1:$port (connect: Connection refused)"

# A stand-in daemon: serves FILE with STATUS on a Unix socket, chunked
# (the client must de-chunk through http_parser), one connection.
fake_daemon() { # SOCKET STATUS FILE
    python3 - "$@" <<'EOF' &
import os, socket, sys
path, status, body = sys.argv[1], sys.argv[2], open(sys.argv[3], 'rb').read()
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(1)
c, _ = s.accept()
req = b''
while b'\r\n\r\n' not in req:
    req += c.recv(4096)
open(path + '.req', 'wb').write(req)
head = 'HTTP/1.1 %s X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' % status
out = head.encode()
for i in range(0, len(body), 100):
    part = body[i:i + 100]
    out += b'%x\r\n' % len(part) + part + b'\r\n'
c.sendall(out + b'0\r\n\r\n'); c.close(); s.close(); os.unlink(path)
EOF
    local i
    for i in $(seq 50); do [[ -S $1 ]] && return 0; sleep 0.1; done
    return 1
}
sock=$T_TMP/fake.sock
if fake_daemon "$sock" 200 "$T_TMP/fc.json"; then
    "$PRSEARCH" -s "$sock" --json -n 7 --tag 'A&B é' franceconnect >"$T_TMP/d.json"; st=$?
    wait
    check_eq "daemon mode --json: exit 0" "$st" 0
    check "daemon mode --json: the daemon's bytes" cmp -s "$T_TMP/d.json" "$T_TMP/fc.json"
    check_match "daemon mode: GET /search with encoded parameters" "$(head -1 "$sock.req")" \
        '^GET /search\?q=franceconnect&limit=7&offset=0&tag=A%26B%20%C3%A9 HTTP/1\.1'
else
    not_ok "stand-in daemon starts"
fi
if fake_daemon "$sock" 200 "$T_TMP/fc.json"; then
    PRSEARCH_SOCKET=$sock "$PRSEARCH" franceconnect >"$T_TMP/d.txt"; st=$?
    wait
    "$PRSEARCH" -d "$IDX" franceconnect >"$T_TMP/direct.txt"
    check_eq "daemon mode via \$PRSEARCH_SOCKET: exit 0" "$st" 0
    check "daemon mode: same human output as direct mode" cmp -s "$T_TMP/d.txt" "$T_TMP/direct.txt"
fi
printf '{"error":{"code":"bad_request","message":"query too long (max 1024 bytes)"}}' >"$T_TMP/e.json"
if fake_daemon "$sock" 400 "$T_TMP/e.json"; then
    "$PRSEARCH" -s "$sock" eig >/dev/null 2>"$T_TMP/d.err"; st=$?
    wait
    check_eq "daemon error answer: exit 2" "$st" 2
    check_eq "daemon error answer: its message" "$(cat "$T_TMP/d.err")" \
        "prsearch: query too long (max 1024 bytes)"
fi

if [[ -x $PRSEARCHD ]]; then
    dsock=$T_TMP/d.sock
    "$PRSEARCHD" -d "$IDX" -s "$dsock" 2>"$T_TMP/prsearchd.log" &
    dpid=$!
    on_exit "kill $dpid"
    for _ in $(seq 50); do [[ -S $dsock ]] && break; sleep 0.1; done
    if [[ -S $dsock ]]; then
        strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["took_ms"]=0; print(json.dumps(d))' "$1"; }
        "$PRSEARCH" -s "$dsock" --json "EIG recrutement" >"$T_TMP/pd.json"; st=$?
        "$PRSEARCH" -d "$IDX" --json "EIG recrutement" >"$T_TMP/pl.json"
        check_eq "prsearchd: exit 0" "$st" 0
        check_eq "prsearchd: same JSON as direct mode (but took_ms)" "$(strip "$T_TMP/pd.json")" \
            "$(strip "$T_TMP/pl.json")"
        check_exit "prsearchd: no hits, exit 1" 1 "$PRSEARCH" -s "$dsock" zzyzxqwv
    else
        skip "prsearchd answers" "prsearchd did not start: $(head -c 200 "$T_TMP/prsearchd.log")"
    fi
    kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
else
    skip "prsearch against prsearchd" "daemon/prsearchd not built"
fi

# --- terminal output ----------------------------------------------------
if command -v script >/dev/null; then
    out=$(COLUMNS=50 script -qec "'$PRSEARCH' -d '$IDX' franceconnect" /dev/null 2>/dev/null)
    check_contains "on a terminal, highlights are bold" "$out" $'\033[1mFranceConnect\033[22m'
else
    skip "bold on a terminal" "no script(1)"
fi
COLUMNS=40 "$PRSEARCH" -d "$IDX" "données" >"$T_TMP/w.txt"
too_wide=$(python3 - "$T_TMP/w.txt" <<'EOF'
import sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in s)
# URLs are printed whole; every other line fits.
print(sum(1 for l in open(sys.argv[1], encoding='utf-8') if width(l.rstrip('\n')) > 40 and '/' not in l))
EOF
)
check_eq "COLUMNS=40: wrapped lines fit" "$too_wide" 0

# --- acceptance on the corpus --------------------------------------------
if have_corpus; then
    CIDX=$T_TMP/corpus.db
    "$PRSEARCH_INDEX" -q -d "$CIDX" "$PR_CORPUS" 2>/dev/null
    "$PRSEARCH" -d "$CIDX" --json "EIG recrutement" >"$T_TMP/eig.json"
    check_match "EIG recrutement: the EIG recruitment release first" \
        "$(jget "$T_TMP/eig.json" 'd["hits"][0]["path"]')" \
        '^_communiques/entrepreneurs-dinteret-general-letat-recrute-50-talents-du-numerique'
    check_exit "EIG recrutement: exit 0" 0 "$PRSEARCH" -d "$CIDX" "EIG recrutement"
    check_match "EIG recrutement: human output, title first" "$(head -1 "$T_TMP/last.out")" \
        "^1\\. Entrepreneurs d'intérêt général : l’État recrute 50 talents du numérique"
    paths() { "$PRSEARCH" -d "$CIDX" --json -n 100 -- "$1" | python3 -c 'import json,sys; print(" ".join(h["path"] for h in json.load(sys.stdin)["hits"]))'; }
    a=$(paths etat); b=$(paths "l'État"); c=$(paths ÉTAT)
    check "etat has hits" test -n "$a"
    check_eq "l'État: same hits as etat" "$b" "$a"
    check_eq "ÉTAT: same hits as etat" "$c" "$a"
    check_exit "a typo: hits of the corrected query, exit 0" 0 "$PRSEARCH" -d "$CIDX" interoperabilitee
    check_eq "a typo: says which query the hits answer" "$(head -2 "$T_TMP/last.out")" \
        "$(printf 'Aucun résultat pour « interoperabilitee ».\nRésultats pour : interoperabilite')"
    "$PRSEARCH" -d "$CIDX" --json franceconnect >"$T_TMP/fcc.json"
    check "franceconnect --json: valid" json_ok "$T_TMP/fcc.json"
    check_eq "franceconnect --json: SPEC 7 fields, <mark> in snippets, no other '<'" "$(python3 - "$T_TMP/fcc.json" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
errs = []
top = {'query': str, 'total': int, 'offset': int, 'limit': int, 'took_ms': float, 'hits': list, 'facets': dict}
for k, t in top.items():
    if not isinstance(d.get(k), t): errs.append('top ' + k)
if 'suggestion' not in d: errs.append('suggestion')
for k in ('collection', 'categories', 'tags', 'year'):
    if not isinstance(d['facets'].get(k), dict): errs.append('facet ' + k)
if not d['hits']: errs.append('no hits')
for h in d['hits']:
    for k, t in {'path': str, 'url': str, 'collection': str, 'title': str, 'title_html': str,
                 'categories': list, 'tags': list, 'snippet_html': str, 'score': float, 'duplicates': list}.items():
        if not isinstance(h.get(k), t): errs.append('hit ' + k)
    if not (h.get('date') is None or re.fullmatch(r'\d{4}-\d\d-\d\d', h['date'])): errs.append('date')
    for k in ('title_html', 'snippet_html'):
        if '<' in re.sub(r'</?mark>', '', h[k]): errs.append('raw < in ' + k)
if '<mark>' not in d['hits'][0]['snippet_html']: errs.append('no mark in first snippet')
print(' '.join(errs) or 'ok')
EOF
)" ok
else
    skip "acceptance on the corpus" "no corpus at $PR_CORPUS"
fi

done_testing
