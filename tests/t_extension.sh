#!/usr/bin/env bash
# t_extension.sh - the loadable SQLite extension (lib/sqlite_ext.c): the
# stock sqlite3 shell loads lib/.libs/prsearch_french.so, which registers
# the FTS5 tokenizer "french", so an administrator can query by hand.
source "$(dirname "$0")/lib.sh"

if ! command -v sqlite3 >/dev/null; then
    skip "sqlite3 shell loads the extension" "no sqlite3 shell (apt-get install sqlite3)"
    done_testing; exit
fi
if [[ ! -f "$PR_EXTENSION" ]]; then
    not_ok "extension built at $PR_EXTENSION"
    done_testing; exit
fi

db="$T_TMP/ext.db"
# sql SQL...: run statements in a fresh shell that has loaded the extension.
sql() { sqlite3 -batch -bail "$db" ".load $PR_EXTENSION" "$@" 2>&1; }

out=$(sql "CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='french');" \
    "INSERT INTO fts(rowid, title, body) VALUES
       (1, 'Entrepreneurs d''intérêt général : l’État recrute 50 talents du numérique',
           'Le programme EIG recrute.'),
       (2, 'Les données de l''administration', 'Les établissements publics ouvrent leurs données.'),
       (3, 'Une chaîne frigorifique', 'Les agents recrutés en 2021 pour 3 500 €.');")
check_eq "create and fill a tokenize='french' table" "$out" ""

q() { sql "SELECT group_concat(rowid, ' ') FROM (SELECT rowid FROM fts WHERE fts MATCH '$1' ORDER BY rowid);"; }
check_eq "MATCH 'etat' finds l’État" "$(q etat)" "1"
check_eq "MATCH 'recrutement' finds recrute and recrutés" "$(q recrutement)" "1 3"
check_eq "MATCH '\"talents du numerique\"' (phrase, stop word, no accent)" \
    "$(q '"talents du numerique"')" "1"
check_eq "MATCH 'donnees' finds données" "$(q donnees)" "2"
check_eq "MATCH 'etabliss*' finds établissements (prefix longer than the stem)" \
    "$(q 'etabliss*')" "2"
check_eq "MATCH 'frigorifi*'" "$(q 'frigorifi*')" "3"
check_eq "MATCH '3500' finds 3 500" "$(q 3500)" "3"
check_eq "no match for a stop word" "$(q le)" ""

# The entry point comes from the file name; the generic one works too.
out=$(sqlite3 -batch -bail :memory: ".load $PR_EXTENSION sqlite3_extension_init" \
    "CREATE VIRTUAL TABLE f USING fts5(x, tokenize='french');" \
    "INSERT INTO f VALUES ('L’ÉTAT');" "SELECT count(*) FROM f WHERE f MATCH 'etat';" 2>&1)
check_eq "entry point sqlite3_extension_init" "$out" "1"

# Without the extension the tokenizer is unknown: the test above is real.
out=$(sqlite3 -batch :memory: "CREATE VIRTUAL TABLE f USING fts5(x, tokenize='french');" 2>&1)
check_match "without .load, tokenize='french' is refused" "$out" "no such tokenizer"

if command -v nm >/dev/null; then
    out=$(nm -D --defined-only "$PR_EXTENSION" | awk '{print $3}' | sort | tr '\n' ' ')
    check_eq "the module exports only its entry points" "$out" \
        "sqlite3_extension_init sqlite3_prsearchfrench_init "
else
    skip "the module exports only its entry points" "no nm"
fi
if command -v ldd >/dev/null; then
    out=$(ldd "$PR_EXTENSION")
    if [[ "$out" == *libsqlite3* ]]; then not_ok "the module does not link libsqlite3"; diag "$out"
    else ok "the module does not link libsqlite3"; fi
else
    skip "the module does not link libsqlite3" "no ldd"
fi

done_testing
