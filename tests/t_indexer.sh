#!/usr/bin/env bash
# Tests of prsearch-index through the real binary: counts, incremental
# runs, removals, drafts, rejected files, exit codes, --json, the lock,
# and on the corpus (when present) the acceptance checks of the foundation.
source "$(dirname "$0")/lib.sh"

IDX=$T_TMP/idx.db
q() { sqlite3 -batch -noheader "$1" "$2"; }
json_field() { # json_field JSON KEY -> integer value
    sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" <<<"$1"
}

# ---- a small site of our own -------------------------------------------
site=$T_TMP/site
mkdir -p "$site/_communiques" "$site/_actualites" "$site/_drafts" "$site/_layouts" "$site/node_modules/x"
cat >"$site/_config.yml" <<'YML'
collections:
  communiques:
    output: true
    permalink: "/espace-presse/:title/"
  actualites:
    output: true
    permalink: /actualites/:year/:title/
  cachee:
    output: false
exclude:
  - README.md
YML
mkdir -p "$site/_cachee"
page() { # page FILE TITLE [extra front matter lines]
    local f=$1 t=$2; shift 2
    { echo '---'; echo "title: \"$t\""; printf '%s\n' "$@"; echo '---'; echo; echo "Corps de la page $t avec l’État et le recrutement."; } >"$f"
}
page "$site/_communiques/2021-03-01-eig-recrute.md" "L'État recrute des EIG" "date: 2021-03-01 13:11:00 +01:00"
page "$site/_communiques/cloud.markdown" "Le cloud de l'État" "date: 2022-05-10"
page "$site/_actualites/fast.md" "FAST 8" "date: 2023-06-01 10:00:00 +02:00" "tags: FAST"
page "$site/_actualites/brouillon.md" "Brouillon" "published: false"
page "$site/_drafts/draft.md" "Draft"
page "$site/_layouts/default.md" "Layout"
page "$site/_cachee/secret.md" "Secret"
page "$site/node_modules/x/readme.md" "Module"
page "$site/README.md" "Lisez-moi"
page "$site/a-propos.md" "À propos"
echo "not markdown" >"$site/notes.txt"

out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>"$T_TMP/err"); st=$?
check_eq "site: exit 0" "$st" 0
check_eq "site: 4 files (drafts, _layouts, output:false, excluded, node_modules skipped)" "$(json_field "$out" files)" 4
check_eq "site: 4 added" "$(json_field "$out" added)" 4
check_eq "site: documents 4" "$(json_field "$out" documents)" 4
check_match "site: summary line on stderr" "$(cat "$T_TMP/err")" \
    '^indexed 4 files: 4 added, 0 updated, 0 removed, 0 unchanged, 0 rejected in [0-9.]+ s$'
check_match "--json prints one JSON object" "$out" \
    '^\{"files":4,"added":4,"updated":0,"removed":0,"unchanged":0,"rejected":0,"seconds":[0-9.e-]+,"documents":4\}$'
check_eq "collection permalink with :title" \
    "$(q "$IDX" "select url from documents where path like '%cloud.markdown'")" "/espace-presse/cloud/"
check_eq ":title drops the file name's date" \
    "$(q "$IDX" "select url from documents where path like '%eig-recrute.md'")" "/espace-presse/eig-recrute/"
check_eq ":year from the date" \
    "$(q "$IDX" "select url from documents where path like '%fast.md'")" "/actualites/2023/fast/"
check_eq "page outside collections: Jekyll URL" \
    "$(q "$IDX" "select url||' '||collection from documents where path='a-propos.md'")" "/a-propos.html pages"
check_eq "path relative to the site root" \
    "$(q "$IDX" "select path from documents where collection='actualites'")" "_actualites/fast.md"
check_eq "date from front matter, with offset" \
    "$(q "$IDX" "select date from documents where path like '%fast.md'")" "2023-06-01"
# a page's facets: one row, "kind\0folded\0value\0" triples (index_db.h)
facet() { echo "CAST('$1'||x'00'||'$2'||x'00'||'$3'||x'00' AS BLOB)"; }
check_eq "facets: collection, tag, year, in one row" \
    "$(q "$IDX" "select hex(facets) = hex($(facet collection actualites actualites) || $(facet tag fast FAST) || $(facet year 2023 2023)) from doc_facets d join documents on d.doc_id=documents.id where path like '%fast.md'")" 1
check_eq "schema version" "$(q "$IDX" "pragma user_version")" 8
check_eq "a new index lists its surface forms and their stems, complete" \
    "$(q "$IDX" "select value from meta where key = 'prefix_surfaces'; select count(*) > 0 from prefix_surfaces")" "complete
1"
check_eq "WAL mode" "$(q "$IDX" "pragma journal_mode")" wal

# A new index is written through a rollback journal until its first run
# commits. A first run killed after SQLite began writing the file leaves a
# hot journal that only a writer can roll back: here a copy of the files
# taken in the middle of such a transaction (a tiny page cache makes it
# write the file before the commit).
hot=$T_TMP/hot
mkdir -p "$hot"
cp "$IDX" "$hot/idx.db"
q "$hot/idx.db" "pragma journal_mode=delete" >/dev/null
sqlite3 -batch "$hot/idx.db" >/dev/null 2>&1 <<SQL
pragma cache_size=2;
begin;
update vocab set form = form || hex(randomblob(3000));
.shell cp $hot/idx.db $hot/copy.db; cp $hot/idx.db-journal $hot/copy.db-journal
rollback;
SQL
check "hot journal copied" test -s "$hot/copy.db-journal"
out=$("$PRSEARCH" -d "$hot/copy.db" cloud 2>&1); st=$?
check_eq "an interrupted first run: the reader exits 2" "$st" 2
check_contains "... saying so" "$out" \
    "copy.db: the first indexing run of this index was interrupted: run prsearch-index again"
out=$("$PRSEARCH_INDEX" -d "$hot/copy.db" --json "$site" 2>/dev/null)
check_eq "the next run completes it, in WAL mode" \
    "$(json_field "$out" documents) $(q "$hot/copy.db" "pragma integrity_check; pragma journal_mode")" "4 ok
wal"

out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "rerun: all unchanged" "$(json_field "$out" unchanged)/$(json_field "$out" added)/$(json_field "$out" updated)" "4/0/0"

touch -d '2020-01-01' "$site/a-propos.md"
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "mtime changed, same bytes: unchanged" "$(json_field "$out" unchanged)/$(json_field "$out" updated)" "4/0"

echo "Un paragraphe ajouté." >>"$site/_communiques/cloud.markdown"
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "one file changed: 1 updated" "$(json_field "$out" updated)/$(json_field "$out" unchanged)" "1/3"
check_eq "new text is stored" \
    "$(q "$IDX" "select count(*) from documents where body like '%paragraphe ajouté%'")" 1

rm "$site/_actualites/fast.md"
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "one file deleted: 1 removed" "$(json_field "$out" removed)/$(json_field "$out" documents)" "1/3"
check_eq "its facets went with it" \
    "$(q "$IDX" "select count(*) from doc_facets where instr(facets, CAST('tag'||x'00' AS BLOB))")" 0

sed -i 's/^title: "Le cloud/published: false\ntitle: "Le cloud/' "$site/_communiques/cloud.markdown"
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "published: false removes an indexed page" "$(json_field "$out" removed)/$(json_field "$out" documents)" "1/2"

out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site/_communiques/2021-03-01-eig-recrute.md" 2>/dev/null); st=$?
check_eq "a single file as PATH: unchanged, nothing else removed" \
    "$st $(json_field "$out" unchanged) $(json_field "$out" removed) $(json_field "$out" documents)" "0 1 0 2"

out=$("$PRSEARCH_INDEX" -d "$IDX" --json --full "$site" 2>/dev/null)
check_eq "--full rewrites every page" "$(json_field "$out" updated)/$(json_field "$out" unchanged)" "2/0"
check_eq "--full: old versions left fts exactly (integrity-check)" \
    "$(sqlite3 -batch -cmd ".load $PR_EXTENSION" "$IDX" "insert into fts(fts) values('integrity-check'); select count(*) from fts where fts match 'etat'" 2>&1)" 2

sqlite3 "$IDX" "update meta set value='0' where key='analysis_version'"
"$PRSEARCH_INDEX" -q -d "$IDX" "$site" 2>/dev/null
check_eq "index from older analysis rules: rebuilt and marked current" \
    "$(q "$IDX" "select value from meta where key='analysis_version'")" 1
check_eq "... FTS5 tokenized it, the run listed every page's surface forms again" \
    "$(q "$IDX" "select value from meta where key='prefix_surfaces'; select count(*) > 0 from prefix_surfaces")" "complete
1"
check_eq "rebuilt full-text index is consistent" \
    "$(sqlite3 -batch -cmd ".load $PR_EXTENSION" "$IDX" "insert into fts(fts) values('integrity-check'); select count(*) from fts where fts match 'etat'" 2>&1)" 2

check_eq "the run's fts_by_indexer mark is never committed" \
    "$(q "$IDX" "select count(*) from meta where key='fts_by_indexer'")" 0
fts_q() { sqlite3 -batch -noheader -cmd ".load $PR_EXTENSION" "$@" 2>&1; }
echo "Un paragraphe ajouté." >>"$site/_communiques/2021-03-01-eig-recrute.md"
"$PRSEARCH_INDEX" -q -d "$IDX" "$site" 2>/dev/null
check_eq "update: fts has the new text, not the old one, and is consistent" \
    "$(fts_q "$IDX" "insert into fts(fts) values('integrity-check');
        select count(*) from fts where fts match 'paragraphe'; select count(*) from fts where fts match 'cloud'")" "1
0"
"$PRSEARCH_INDEX" -q -d "$IDX" --full "$site" 2>/dev/null
check_eq "--full: the surface list is complete again" \
    "$(q "$IDX" "select value from meta where key='prefix_surfaces'")" complete
# Writers other than prsearch-index (tests, an administrator) still have
# fts kept in step by the schema's triggers.
check_eq "other writers: triggers fill fts" \
    "$(fts_q "$IDX" "insert into documents(source, root, path, collection, url, title, size, mtime_ns, hash)
        values ('/x/y.md', '/x', 'y.md', 'pages', '/y.html', 'Zygomatique', 0, 0, 'h');
        select count(*) from fts where fts match 'zygomatique';
        delete from documents where source = '/x/y.md';
        select count(*) from fts where fts match 'zygomatique';
        insert into fts(fts) values('integrity-check')")" "1
0"
check_eq "... and the surface list is not complete any more (their words are not in it)" \
    "$(q "$IDX" "select count(*) from meta where key='prefix_surfaces'")" 0
# A page written by hand stays; the next run lists its surface forms, so a
# prefix longer than a word's stem finds it (in the sqlite3 shell too: the
# extension's tokenizer reads the index's list, fts5_french.h).
fts_q "$IDX" "insert into documents(source, root, path, collection, url, title, size, mtime_ns, hash)
    values ('/x/z.md', '/x', 'z.md', 'pages', '/z.html', 'Zygomatiques', 0, 0, 'h')" >/dev/null
"$PRSEARCH_INDEX" -q -d "$IDX" "$site" 2>/dev/null
check_eq "the next run makes the list complete: zygomatiq* (stem zygomat) finds the page" \
    "$(q "$IDX" "select value from meta where key='prefix_surfaces'")/$(fts_q "$IDX" "select count(*) from fts where fts match 'zygomatiq*'")" "complete/1"
fts_q "$IDX" "delete from documents where source = '/x/z.md'" >/dev/null
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" "$site/_communiques" 2>/dev/null)
check_eq "nested PATHs: each page once" \
    "$(json_field "$out" files)/$(json_field "$out" unchanged)/$(json_field "$out" removed)/$(json_field "$out" documents)" "2/2/0/2"
# Schema 2 (facets a row per value, as before schema 8)
q "$IDX" "drop table doc_facets; create table doc_facets(kind text not null, folded text not null,
    doc_id integer not null, value text not null, primary key(kind, folded, doc_id)) without rowid;
    create index doc_facets_by_doc on doc_facets(doc_id);
    insert into doc_facets select 'collection', collection, id, collection from documents;
    insert into doc_facets select 'tag', 'zz', id, 'ZZ' from documents;
    drop index documents_stat; drop index documents_groups; drop index documents_dates; drop table prefix_surfaces; delete from meta where key = 'prefix_surfaces'; pragma user_version = 2"
out=$("$PRSEARCH" -d "$IDX" --json 'tag:zz' 2>&1)
check_eq "an index of schema 2 is searched as it is, its facet rows read" \
    "$(grep -o '"total": *[0-9]*' <<<"$out" | tr -d ' ')/$(grep -o '"ZZ": *[0-9]*' <<<"$out" | tr -d ' ')" '"total":2/"ZZ":2'
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "schema 2 upgraded to 8, pages unchanged" \
    "$(q "$IDX" "pragma user_version; select count(*) from sqlite_master where name in ('documents_stat', 'documents_groups', 'documents_dates', 'prefix_surfaces')")/$(json_field "$out" unchanged)" "8
4/2"
out=$("$PRSEARCH" -d "$IDX" --json 'tag:zz' 2>&1)
check_eq "... and the same after, from one row a page" \
    "$(grep -o '"total": *[0-9]*' <<<"$out" | tr -d ' ')/$(grep -o '"ZZ": *[0-9]*' <<<"$out" | tr -d ' ')" '"total":2/"ZZ":2'
check_eq "... each page's facet rows made one row" \
    "$(q "$IDX" "select count(*) from doc_facets join documents on doc_id = id where hex(facets) in (hex($(facet collection "'||collection||'" "'||collection||'") || $(facet tag zz ZZ)), hex($(facet tag zz ZZ) || $(facet collection "'||collection||'" "'||collection||'")))")" 2
check_eq "... its surface list read from the pages indexed before" \
    "$(q "$IDX" "select value from meta where key = 'prefix_surfaces'; select count(*) > 0 from prefix_surfaces")" "complete
1"
"$PRSEARCH_INDEX" -q -d "$IDX" --full "$site" >/dev/null 2>&1
check_eq "... complete after --full" \
    "$(q "$IDX" "select value from meta where key = 'prefix_surfaces'; select count(*) > 0 from prefix_surfaces")" "complete
1"
# Schema 7: the fts table of a schema 6 index (prefix='2 3') is rebuilt
# with a 2-character prefix index only; 3-letter prefixes still find.
fts_q "$IDX" "drop table fts; create virtual table fts using fts5(title, headings, chapeau, body,
    taxonomy, content='documents', content_rowid='id', tokenize='french listed', prefix='2 3');
    insert into fts(fts) values ('rebuild'); pragma user_version = 6" >/dev/null
out=$("$PRSEARCH_INDEX" -d "$IDX" --json "$site" 2>/dev/null)
check_eq "schema 6 upgraded to 8: fts rebuilt with prefix='2', pages unchanged" \
    "$(q "$IDX" "pragma user_version; select sql like '%prefix=''2'')' from sqlite_master where name = 'fts'")/$(json_field "$out" unchanged)" "8
1/2"
check_eq "... consistent, 3-letter prefixes found" \
    "$(fts_q "$IDX" "insert into fts(fts) values('integrity-check');
        select count(*) > 0 from fts where fts match 'rec*'; select count(*) > 0 from fts where fts match 'pro*'")" "1
1"

check_eq "-q prints nothing on success" "$("$PRSEARCH_INDEX" -q -d "$IDX" "$site" 2>&1)" ""

# ---- the walk: order, links, dot folders -------------------------------
# Pages are processed in the order of their full paths, strcmp's (the
# index's): a new index numbers them in that order. The walk sorts each
# folder on its own, so the names here sort differently one folder at a
# time than as full paths ('-' and '.' come before '/').
walk=$T_TMP/walk
walk_pages=(a.md a-b.md a/b.md a/b-c.md a/b0.md a/b/c.md a/b.md.d/e.md a0.md a./x.md a-/x.md
            "a b.md" A.md ab.md b.md b-/a.md b/a.md é.md e.md z.MD a.markdown _x/y.md real/r.md)
for f in "${walk_pages[@]}" .cache/x.md a/.h/x.md; do
    mkdir -p "$(dirname "$walk/$f")"; page "$walk/$f" "$f"
done
ln -s ../real/r.md "$walk/a/lien.md"   # a link to a page is a page
ln -s ../real "$walk/a/dossier-lien"   # a link to a folder is not followed (loops)
ln -s nowhere.md "$walk/perdu.md"      # nor is a dangling one
walk_expected=$(printf "$walk/%s\n" "${walk_pages[@]}" a/lien.md | LC_ALL=C sort)
ids_sources() { q "$1" "select id || ' ' || source from documents order by id"; }
out=$("$PRSEARCH_INDEX" -d "$T_TMP/walk.db" --json "$walk" 2>/dev/null)
check_eq "walk: the pages, links to pages, no dot folders or links to folders" \
    "$(json_field "$out" added)" "$(( ${#walk_pages[@]} + 1 ))"
check_eq "walk: pages numbered in full-path order" \
    "$(q "$T_TMP/walk.db" "select source from documents order by id")" "$walk_expected"
out=$("$PRSEARCH_INDEX" -d "$T_TMP/walk.db" --json "$walk" 2>/dev/null)
check_eq "walk: rerun unchanged" "$(json_field "$out" unchanged)/$(json_field "$out" files)" \
    "$(( ${#walk_pages[@]} + 1 ))/$(( ${#walk_pages[@]} + 1 ))"
out=$("$PRSEARCH_INDEX" -d "$T_TMP/walk2.db" --json "$walk/b" "$walk/a/b.md" "$walk" "$walk/a" 2>/dev/null)
check_eq "walk: PATHs out of order and nested: each page once" \
    "$(json_field "$out" added)" "$(( ${#walk_pages[@]} + 1 ))"
check_eq "walk: PATHs out of order and nested: the same order" \
    "$(ids_sources "$T_TMP/walk2.db")" "$(ids_sources "$T_TMP/walk.db")"
rm "$walk/a/b-c.md" "$walk/b/a.md"; echo "Ajout." >>"$walk/a/b.md"; page "$walk/a/b-a.md" "b-a"
out=$("$PRSEARCH_INDEX" -d "$T_TMP/walk.db" --json "$walk" 2>/dev/null)
check_eq "walk: one added, one updated, two removed" \
    "$(json_field "$out" added)/$(json_field "$out" updated)/$(json_field "$out" removed)/$(json_field "$out" unchanged)" \
    "1/1/2/$(( ${#walk_pages[@]} - 2 ))"

# ---- rejected files ----------------------------------------------------
bad=$T_TMP/bad
mkdir -p "$bad"
page "$bad/good1.md" "Bon un"
page "$bad/good2.md" "Bon deux"
printf -- '---\ntitle: "unclosed\ndate: 2021-01-01\n---\nbody\n' >"$bad/yaml.md"
printf 'binary\0data\0' >"$bad/binary.md"
: >"$bad/empty.md"
head -c 5242880 /dev/zero | tr '\0' 'a' >"$bad/huge.md"
printf -- '---\ntitle: Latin-1 \xe9t\xe9\n---\nCorps \xe9crit en Latin-1.\n' >"$bad/latin1.md"
"$PRSEARCH_INDEX" -d "$T_TMP/bad.db" "$bad" >"$T_TMP/out" 2>"$T_TMP/err"; st=$?
err=$(cat "$T_TMP/err")
check_eq "bad files: exit 1" "$st" 1
check_match "bad YAML reported as path:line:col" "$err" "$bad/yaml.md:[0-9]+:[0-9]+: "
check_match "binary file reported" "$err" "$bad/binary.md: .*binary"
check_match "empty file reported" "$err" "$bad/empty.md: .*empty"
check_match "5 MB file reported" "$err" "$bad/huge.md: .*too large"
check_match "invalid UTF-8 repaired with a warning" "$err" "$bad/latin1.md: warning: invalid UTF-8"
check_match "summary counts add up" "$err" "indexed 7 files: 3 added, 0 updated, 0 removed, 0 unchanged, 4 rejected"
check_eq "good files indexed" "$(q "$T_TMP/bad.db" "select group_concat(path, ' ') from (select path from documents order by path)")" \
    "good1.md good2.md latin1.md"
check_match "repaired text holds U+FFFD" "$(q "$T_TMP/bad.db" "select title from documents where path='latin1.md'")" $'\uFFFD'
"$PRSEARCH_INDEX" -d "$T_TMP/bad.db" --max-size 6000000 "$bad" 2>/dev/null
check_eq "--max-size lets a big file in" \
    "$(q "$T_TMP/bad.db" "select count(*) from documents where path='huge.md'")" 1

# A page that was indexed stays when a later edit breaks it.
printf -- '---\ntitle: "cassé\n---\n' >"$bad/good1.md"
"$PRSEARCH_INDEX" -d "$T_TMP/bad.db" "$bad" 2>/dev/null
check_eq "broken edit keeps the indexed page" \
    "$(q "$T_TMP/bad.db" "select title from documents where path='good1.md'")" "Bon un"

# ---- usage and fatal errors: exit 2, index untouched ---------------------
before=$(q "$IDX" "select count(*)||':'||group_concat(hash) from documents")
check_exit "missing PATH: exit 2" 2 "$PRSEARCH_INDEX" -d "$IDX" "$T_TMP/nowhere"
check_contains "missing PATH named" "$(cat "$T_TMP/last.err")" "$T_TMP/nowhere"
check_exit "no PATH: exit 2" 2 "$PRSEARCH_INDEX" -d "$IDX"
check_exit "unknown option: exit 2" 2 "$PRSEARCH_INDEX" --frobnicate "$site"
check_exit "bad --max-size: exit 2" 2 "$PRSEARCH_INDEX" --max-size abc "$site"
check_exit "--help: exit 0" 0 "$PRSEARCH_INDEX" --help
check_exit "--version: exit 0" 0 "$PRSEARCH_INDEX" --version
check_eq "index unchanged after errors" "$(q "$IDX" "select count(*)||':'||group_concat(hash) from documents")" "$before"

exec 9>"$IDX.lock"
flock 9
check_exit "concurrent run: exit 2" 2 "$PRSEARCH_INDEX" -d "$IDX" "$site"
check_contains "concurrent run says why" "$(cat "$T_TMP/last.err")" "another prsearch-index run"
exec 9>&-

echo "not a database" >"$T_TMP/foreign.db"
check_exit "foreign file as index: exit 2" 2 "$PRSEARCH_INDEX" -d "$T_TMP/foreign.db" "$site"

if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
    ro=$T_TMP/ro; mkdir -p "$ro"; cp "$IDX" "$ro/idx.db"; chmod 555 "$ro"; chmod 444 "$ro/idx.db"
    chown -R nobody "$ro"
    st=0; setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRSEARCH_INDEX" -d "$ro/idx.db" "$site" \
        >/dev/null 2>"$T_TMP/err" || st=$?
    check_eq "read-only index folder: exit 2" "$st" 2
    check_eq "read-only index folder: index intact" "$(q "$ro/idx.db" "select count(*)||':'||group_concat(hash) from documents")" "$before"
else
    skip "read-only index folder" "needs root and setpriv to drop privileges"
    skip "read-only index folder: index intact" "needs root and setpriv"
fi

# ---- the real corpus ---------------------------------------------------
if ! have_corpus; then
    for t in "corpus: exit 1" "corpus: one rejection" "corpus: counts add up" "corpus: permalinks" \
             "corpus: rerun unchanged" "corpus: 1 updated" "corpus: 1 removed" "corpus: SIGKILL safety"; do
        skip "$t" "no corpus at $PR_CORPUS"
    done
    done_testing; exit
fi
C=$T_TMP/corpus.db
drafts=$(grep -rlE '^published: *false' "$PR_CORPUS" --include='*.md' --include='*.markdown' | wc -l)
total=$(find "$PR_CORPUS" -path '*/_*' \( -name '*.md' -o -name '*.markdown' \) | wc -l)
out=$("$PRSEARCH_INDEX" -d "$C" --json "$PR_CORPUS" 2>"$T_TMP/err"); st=$?
check_eq "corpus: exit 1" "$st" 1
check_eq "corpus: one rejection" "$(grep -c "^$PR_CORPUS/" "$T_TMP/err")/$(json_field "$out" rejected)" "1/1"
check_match "corpus: the broken YAML named with line:col" "$(cat "$T_TMP/err")" \
    "_publications/plan-action-logiciels-libres-communs-numeriques.md:[0-9]+:[0-9]+: "
check_eq "corpus: every published file indexed" "$(json_field "$out" documents)" "$((total - drafts - 1))"
check_eq "corpus: counts add up" \
    "$(( $(json_field "$out" added) + $(json_field "$out" updated) + $(json_field "$out" unchanged) + $(json_field "$out" rejected) ))" \
    "$(json_field "$out" files)"
check_eq "corpus: communiques at /espace-presse/<slug>/" \
    "$(q "$C" "select count(*) from documents where collection='communiques' and url not like '/espace-presse/%/'")" 0
check_eq "corpus: a known permalink" \
    "$(q "$C" "select url from documents where path='_communiques/accelerateur-dinitiatives-citoyennes-saison-2.markdown'")" \
    "/espace-presse/accelerateur-dinitiatives-citoyennes-saison-2/"
check_eq "corpus: pages numbered in full-path order" \
    "$(q "$C" "select count(*) from (select source, lag(source) over (order by id) prev from documents) where prev >= source")" 0
check_eq "corpus: every page has a title" "$(q "$C" "select count(*) from documents where title=''")" 0
check_eq "corpus: the Liquid and HTML are gone from bodies" \
    "$(q "$C" "select count(*) from documents where instr(body,'{{')+instr(body,'{%')+instr(body,'<script')+instr(body,'<div') > 0")" 0

out=$("$PRSEARCH_INDEX" -d "$C" --json "$PR_CORPUS" 2>/dev/null)
secs=$(json_field "$out" seconds)
check_eq "corpus: rerun unchanged" "$(json_field "$out" unchanged)/$(json_field "$out" added)/$(json_field "$out" updated)" \
    "$(( $(json_field "$out" files) - 1 ))/0/0"
check "corpus: rerun well under a second ($secs s)" awk -v s="$secs" 'BEGIN{exit !(s < 0.5)}'

copy=$T_TMP/corpus-copy
cp -r "$PR_CORPUS" "$copy"; chmod -R u+w "$copy"
C2=$T_TMP/copy.db
"$PRSEARCH_INDEX" -q -d "$C2" "$copy" 2>/dev/null
echo "Paragraphe modifié." >>"$copy/_communiques/accelerateur-dinitiatives-citoyennes-saison-2.markdown"
out=$("$PRSEARCH_INDEX" -d "$C2" --json "$copy" 2>/dev/null)
check_eq "corpus: change one file: 1 updated" "$(json_field "$out" updated)" 1
rm "$copy/_communiques/accelerateur-dinitiatives-citoyennes-saison-2.markdown"
out=$("$PRSEARCH_INDEX" -d "$C2" --json "$copy" 2>/dev/null)
check_eq "corpus: delete one: 1 removed" "$(json_field "$out" removed)" 1

# SIGKILL in the middle of --full: the previous state survives intact.
big=$T_TMP/big
mkdir -p "$big"
for i in $(seq 1 12); do cp -r "$PR_CORPUS" "$big/site$i"; done
chmod -R u+w "$big"
B=$T_TMP/big.db
"$PRSEARCH_INDEX" -q -d "$B" "$big" 2>/dev/null
state=$(q "$B" "select count(*)||':'||sum(length(body)) from documents")
killed=0
for delay in 0.05 0.15 0.3 0.5; do
    "$PRSEARCH_INDEX" -q -d "$B" --full "$big" 2>/dev/null &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    check_eq "SIGKILL after ${delay}s: integrity_check ok" "$(q "$B" "pragma integrity_check")" ok
    check_eq "SIGKILL after ${delay}s: previous complete state" \
        "$(q "$B" "select count(*)||':'||sum(length(body)) from documents")" "$state"
done
check "SIGKILL really interrupted a run ($killed of 4)" test "$killed" -gt 0
out=$("$PRSEARCH_INDEX" -d "$B" --json "$big" 2>/dev/null)
check_eq "after the kills the next run completes" "$(json_field "$out" documents)" "${state%%:*}"
check_eq "FTS index consistent after the kills" \
    "$(sqlite3 -batch -cmd ".load $PR_EXTENSION" "$B" "insert into fts(fts) values('integrity-check'); select 'ok'" 2>&1)" ok

done_testing
