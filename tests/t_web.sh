#!/usr/bin/env bash
# Tests of the search page (GET /) and the widget (/widget.js): the assets
# over HTTP (types, CSP, caching, HEAD), then the real page in Debian's
# chromium, headless, driven by playwright-core (tests/browser): typing,
# highlights, facets, paging, keyboard, URL state, the widget on a page of
# another origin, screenshots kept in tests/artifacts/. Ends with issue 8's
# acceptance 4: `prsearch --stats` lists the query typed in the browser.
#
# Installs what it needs when it can (apt-get install chromium; npm ci in
# tests/browser); skips the browser part visibly when it cannot.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_helpers.sh"
need_programs

if ! have_corpus; then
    skip "search page tests" "no corpus at $PR_CORPUS"
    done_testing; exit 0
fi

IDX=$T_TMP/site.db
SOCK=$T_TMP/d.sock
PORT=$(free_port)
WPORT=$(free_port)
BASE=http://127.0.0.1:$PORT
ART=$PR_BUILDDIR/tests/artifacts
mkdir -p "$ART"
"$PRSEARCH_INDEX" -q -d "$IDX" "$PR_CORPUS" >/dev/null 2>&1
check "the corpus is indexed" test -s "$IDX"
printf 'cors_origin = http://127.0.0.1:%s\nthreads = 2\n' "$WPORT" >"$T_TMP/d.conf"
# A port found free can be taken by another program before the daemon
# binds it (the machine is shared): try a few.
started=0
for _ in 1 2 3; do
    if start_daemon d "$SOCK" -d "$IDX" -s "$SOCK" --tcp "127.0.0.1:$PORT" -c "$T_TMP/d.conf"; then
        started=1; break
    fi
    grep -q "address already in use" "$T_TMP/d.log" || break
    PORT=$(free_port); BASE=http://127.0.0.1:$PORT
done
if [[ $started != 1 ]]; then
    not_ok "prsearchd starts"; diag "$(cat "$T_TMP/d.log")"; done_testing; exit 1
fi
ok "prsearchd starts on the corpus index"

# ---- the assets over HTTP ----------------------------------------------
h=$(headers "$BASE/")
check_match "GET / is HTML" "$h" $'Content-Type: text/html; charset=utf-8'
check_contains "GET / has a CSP without inline script" "$h" "Content-Security-Policy: default-src 'self'; script-src 'self';"
check_contains "GET / is revalidated (no-cache)" "$h" "Cache-Control: no-cache"
check_match "GET / has an ETag" "$h" $'ETag: "[0-9]+-[0-9]+"'
body=$(curl -s "$BASE/")
check_contains "the page is French" "$body" '<html lang="fr">'
check_contains "the page has the labelled search input" "$body" '<label for="q">Rechercher sur le site</label>'
check_contains "the page loads its script from a relative path" "$body" '<script src="search.js" defer></script>'
if grep -q '<script>' <<<"$body" || grep -q ' style=' <<<"$body"; then
    not_ok "no inline script or style in the page"
else
    ok "no inline script or style in the page"
fi
check_match "/search.js is JavaScript" "$(headers "$BASE/search.js")" 'Content-Type: text/javascript; charset=utf-8'
check_match "/search.css is CSS" "$(headers "$BASE/search.css")" 'Content-Type: text/css; charset=utf-8'
check_match "/widget.js is JavaScript" "$(headers "$BASE/widget.js")" 'Content-Type: text/javascript; charset=utf-8'
check_eq "/index.html is the page" "$(curl -s "$BASE/index.html" | md5sum)" "$(curl -s "$BASE/" | md5sum)"
r=$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$BASE/")
check_eq "HEAD / answers 200 without a body" "$r" "200 0"
len=$(headers "$BASE/" -I | sed -n 's/^Content-Length: //p')
check_eq "HEAD / gives the page's length" "$len" "$(curl -s "$BASE/" | wc -c)"
r=$(req "/search.js" -X POST -d x)
check_match "POST /search.js is 405" "$r" '^405 '
r=$(req "/nosuch.js")
check_match "an unknown asset is 404 JSON" "$r" '^404 \{"error"'
check_contains "the page is served over the Unix socket too" "$(req /)" '<title>Recherche</title>'
check_contains "/metrics counts the page" "$(req /metrics)" 'prsearchd_requests_total{route="web",code="200"}'

# ---- the browser --------------------------------------------------------
browser_ready() {
    if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q chromium \
            >"$T_TMP/apt.log" 2>&1
    fi
    if [[ ! -x /usr/bin/chromium ]]; then
        WHY="chromium is not installed and cannot be (apt-get install chromium)"; return 1
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        WHY="node and npm are needed (apt-get install nodejs npm)"; return 1
    fi
    BROWSER_DIR=$PR_SRCDIR/tests/browser
    if [[ ! -w $BROWSER_DIR ]]; then # read-only sources (distcheck): a copy
        cp -r "$BROWSER_DIR" "$T_TMP/browser"; BROWSER_DIR=$T_TMP/browser
    fi
    if [[ ! -d $BROWSER_DIR/node_modules/playwright-core ]] &&
        ! (cd "$BROWSER_DIR" && timeout 300 npm ci --no-audit --no-fund >"$T_TMP/npm.log" 2>&1); then
        WHY="npm ci in tests/browser failed: $(tail -1 "$T_TMP/npm.log")"; return 1
    fi
    return 0
}

if ! browser_ready; then
    skip "browser tests of the search page" "$WHY"
else
    # The script numbers its own checks: read them into ours.
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "browser: ${line#ok * - }" ;;
        "not ok "*) not_ok "browser: ${line#not ok * - }" ;;
        *) echo "$line" ;;
        esac
    done < <(cd "$BROWSER_DIR" && PR_BASE="$BASE/" PR_WIDGET_PORT=$WPORT PR_ARTIFACTS="$ART" \
        timeout 150 node search.test.mjs 2>&1)
    check "the desktop screenshot is kept: tests/artifacts/search-page.png" test -s "$ART/search-page.png"
    check "the phone screenshot is kept: tests/artifacts/search-page-phone.png" test -s "$ART/search-page-phone.png"

    # Acceptance 4: what was typed in the page is in the analytics.
    sleep 0.5
    out=$("$PRSEARCH" --stats -d "$IDX" 2>&1)
    check_match "prsearch --stats lists the query typed in the browser" "$out" $'\n +[0-9]+ +[0-9]+  recrutement eig\n'
    mapfile -t lines < <(head -14 <<<"$out")
    diag "${lines[@]}"
fi

stop_daemon
check_eq "prsearchd stops cleanly" "$DSTATUS" 0
done_testing
