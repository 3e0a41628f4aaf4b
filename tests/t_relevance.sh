#!/usr/bin/env bash
# tests/t_relevance.sh - the acceptance of issue 5 (relevance) through the
# real binaries on the corpus: typo correction and its line in the
# client, acronyms learned and listed, no folded title twice on a page,
# /suggest for "francecon" (pr_suggest through the daemon when it is
# built), the synonyms file stored by prsearch-index. Skips visibly
# without the corpus.
source "$(dirname "$0")/lib.sh"

if ! have_corpus; then
    skip "relevance acceptance" "no corpus at $PR_CORPUS"
    done_testing
    exit 0
fi
IDX=$T_TMP/corpus.db
"$PRSEARCH_INDEX" -q -d "$IDX" "$PR_CORPUS" 2>/dev/null
check "the corpus is indexed" test -s "$IDX"
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
EIG_RELEASE=_communiques/entrepreneurs-dinteret-general-letat-recrute-50-talents-du-numerique-pour-accelerer-sa-transformation.markdown

# 1. Typo correction: the EIG recruitment release in the top 3, the
#    correction printed.
"$PRSEARCH" -d "$IDX" --json "entreprneurs interet generl" >"$T_TMP/typo.json"
check_eq "typo: suggestion" "$(jq_py "$T_TMP/typo.json" 'd["suggestion"]')" \
    "entrepreneurs interet general"
check_contains "typo: the EIG recruitment release in the top 3" \
    "$(jq_py "$T_TMP/typo.json" '" ".join(h["path"] for h in d["hits"][:3])')" "$EIG_RELEASE"
check_exit "typo: exit 0" 0 "$PRSEARCH" -d "$IDX" "entreprneurs interet generl"
check_eq "typo: the client says which query the hits answer" "$(sed -n 2p "$T_TMP/last.out")" \
    "Résultats pour : entrepreneurs interet general"
"$PRSEARCH" -d "$IDX" --json '"entreprneurs interet generl"' >"$T_TMP/quoted.json"
check_eq "typo in quotes: not corrected" \
    "$(jq_py "$T_TMP/quoted.json" 'd["suggestion"], d["total"]')" "None 0"
"$PRSEARCH" -d "$IDX" --json "ÉTAT Numérique" >"$T_TMP/accents.json"
check_eq "accents and case are no typos" "$(jq_py "$T_TMP/accents.json" 'd["suggestion"]')" None

# 2. Acronyms: EIG finds pages that only spell the long form; the pair
#    is listed.
"$PRSEARCH" -d "$IDX" --json -n 100 EIG >"$T_TMP/eig.json"
only_long=$(python3 - "$T_TMP/eig.json" "$IDX" <<'EOF'
import json, re, sqlite3, sys
hits = json.load(open(sys.argv[1]))['hits']
db = sqlite3.connect(sys.argv[2])
n = 0
for h in hits:
    t = ' '.join(db.execute('SELECT title, headings, chapeau, body, taxonomy FROM documents'
                            ' WHERE path = ?', (h['path'],)).fetchone())
    if not re.search(r'\bEIG\b', t, re.I) and re.search(r'entrepreneurs? d.int[ée]r[êe]t g[ée]n[ée]ral', t, re.I):
        n += 1
print(n)
EOF
)
check "EIG: pages that only spell the long form are found ($only_long)" test "$only_long" -ge 1
check_match "--list-acronyms: the EIG pair learned from the corpus" \
    "$("$PRSEARCH_INDEX" -d "$IDX" --list-acronyms | grep '^EIG	')" \
    '^EIG	entrepreneurs d.intérêt général	[0-9]+$'

# 3. No two hits on a page share a folded title.
for q in "entrepreneurs interet general" franceconnect "intelligence artificielle" \
         "accelerateur initiatives citoyennes" "panorama grands projets" eig numerique; do
    "$PRSEARCH" -d "$IDX" --json -n 10 -- "$q" >"$T_TMP/d.json"
    check_eq "$q: no folded title twice on the page" "$(python3 - "$T_TMP/d.json" <<'EOF'
import json, sys, unicodedata
def fold(s):
    return ''.join(c for c in unicodedata.normalize('NFKD', s) if not unicodedata.combining(c)).lower()
t = [fold(h['title']) for h in json.load(open(sys.argv[1]))['hits']]
print(len(t) - len(set(t)))
EOF
)" 0
done
"$PRSEARCH" -d "$IDX" --json -n 100 -- "franceconnect" >"$T_TMP/fc.json"
check "franceconnect: a folded duplicate lists the other URL" \
    test "$(jq_py "$T_TMP/fc.json" 'sum(len(h["duplicates"]) for h in d["hits"])')" -ge 1

# 4. As you type: FranceConnect pages first for "francecon".
if [[ -x $PRSEARCHD ]]; then
    SOCK=$T_TMP/d.sock
    "$PRSEARCHD" -d "$IDX" -s "$SOCK" 2>"$T_TMP/d.log" &
    DPID=$!
    on_exit "kill -9 $DPID"
    for _ in $(seq 100); do
        curl -s -m 1 --unix-socket "$SOCK" http://d/health 2>/dev/null | grep -q '"ok"' && break
        sleep 0.05
    done
    curl -s -m 5 --unix-socket "$SOCK" 'http://d/suggest?q=francecon' >"$T_TMP/sug.json"
    check_contains "daemon /suggest?q=francecon: FranceConnect first" \
        "$(jq_py "$T_TMP/sug.json" 'd["suggestions"][0]["title"]')" FranceConnect
    check_match "daemon /suggest?q=francecon: with its URL" \
        "$(jq_py "$T_TMP/sug.json" 'd["suggestions"][0]["url"]')" '^/'
    curl -s -m 5 --unix-socket "$SOCK" 'http://d/search?q=recrutes&limit=3' >"$T_TMP/s.json"
    check "daemon /search: hits" test "$(jq_py "$T_TMP/s.json" 'd["total"]')" -ge 1
    kill -TERM "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
else
    skip "daemon /suggest?q=francecon" "prsearchd is not built"
fi
"$PRSEARCH" -d "$IDX" --json --prefix francecon >"$T_TMP/pf.json"
check_contains "prefix=1 francecon: FranceConnect first" \
    "$(jq_py "$T_TMP/pf.json" 'd["hits"][0]["title"]')" FranceConnect

# 5. The synonyms file: stored by prsearch-index, used by searches, checked.
printf '# test\nnuage = cloud\n!EIG\n' >"$T_TMP/syn.txt"
# (exit 1: the corpus has a file with broken front matter)
"$PRSEARCH_INDEX" -q -d "$IDX" --synonyms "$T_TMP/syn.txt" "$PR_CORPUS" 2>/dev/null
check "--synonyms FILE: stored (exit $?)" test $? -le 1
check_contains "--list-acronyms: the file's rules" \
    "$("$PRSEARCH_INDEX" -d "$IDX" --list-acronyms)" "nuage	cloud	synonyms"
check_match "--list-acronyms: !EIG cancels the learned pair" \
    "$("$PRSEARCH_INDEX" -d "$IDX" --list-acronyms | grep 'EIG	')" '^!EIG	'
a=$("$PRSEARCH" -d "$IDX" --json -n 100 nuage | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
b=$("$PRSEARCH" -d "$IDX" --json -n 100 cloud | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
check "nuage = cloud: nuage finds the cloud pages ($a >= $b)" test "$a" -ge "$b"
printf 'a =\n' >"$T_TMP/bad.txt"
check_exit "--synonyms with a bad line: exit 2" 2 "$PRSEARCH_INDEX" -q -d "$IDX" \
    --synonyms "$T_TMP/bad.txt" "$PR_CORPUS"
check_contains "--synonyms with a bad line: file:line: message" "$(cat "$T_TMP/last.err")" \
    "bad.txt:1:1:"
"$PRSEARCH_INDEX" -q -d "$IDX" --synonyms '' "$PR_CORPUS" 2>/dev/null
check "--synonyms '': removed (exit $?)" test $? -le 1
check_match "--list-acronyms: EIG learned again" \
    "$("$PRSEARCH_INDEX" -d "$IDX" --list-acronyms | grep '^EIG	')" '^EIG	'

done_testing
