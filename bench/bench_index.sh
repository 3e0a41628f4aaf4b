#!/usr/bin/env bash
# bench/bench_index.sh - indexing benchmark: prsearch-index against the bare
# FTS5 floor and Sphinx's indexer, on the same generated documents, in one run.
#
#   bench/bench_index.sh [N]        (default 10000; documented full run: 100000)
#
# 1. generates N pages with bench/gen_corpus (cached in $BENCH_OUT);
# 2. prsearch-index on a new index: wall time, docs/s, MB/s of Markdown,
#    peak RSS (/usr/bin/time), index size; then a no-change rerun and a
#    rerun after one file changed;
# 3. the floor: the text our pipeline extracted (the documents table), put
#    in a plain table beforehand, then timed: CREATE VIRTUAL TABLE ... fts5
#    (unicode61 remove_diacritics 2) + INSERT ... SELECT in one transaction,
#    in the sqlite3 shell; the same with our 'french' tokenizer (loadable
#    extension) to split tokenizer cost from the rest;
# 4. Sphinx (Debian sphinxsearch, installed here if missing): the same
#    documents as xmlpipe2 (written before timing, read with cat), French
#    config (bench/lib.sh sphinx_setup); times `indexer --all`, with and
#    without prefix indexing (which forces index_exact_words=1).
# Prints a table and writes $BENCH_OUT/index-N.json. Leaves the index at
# $BENCH_OUT/index-N.db and Sphinx's at $BENCH_OUT/sphinx-N for bench_query.sh.
set -u
source "$(dirname "$0")/lib.sh"

N=${1:-10000}
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "usage: bench_index.sh [N]"
mkdir -p "$BENCH_OUT"
need_programs
need_time
build_tools
command -v sqlite3 >/dev/null || apt_install sqlite3 || die "need the sqlite3 shell"

machine=$(machine_json)
t0=$(now)
CORPUS=$(corpus_dir "$N")
gen_s=$(elapsed "$t0")
md_bytes=$(find "$CORPUS" -name '*.md' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
files=$(find "$CORPUS" -name '*.md' | wc -l)
W="$BENCH_OUT/work-$N"
rm -rf "$W"
mkdir -p "$W"
DB="$BENCH_OUT/index-$N.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
# Warm the page cache for every engine alike: the files are read once here.
find "$CORPUS" -name "*.md" -exec cat {} + >/dev/null

# ---- prsearch-index -------------------------------------------------------
say "bench: prsearch-index, $files files (best of $BENCH_REPEAT)"
fresh_db() { rm -f "$DB" "$DB-wal" "$DB-shm"; }
BEST_MAXSTATUS=1 best_of fresh_db "$W/full" "$PRSEARCH_INDEX" -q --json -d "$DB" "$CORPUS" \
    || die "prsearch-index failed: $(head -c 500 "$B_PRE.err")"
full_s=$B_WALL full_rss=$B_RSS_MB full_cpu=$B_CPU full_all=$B_ALL
docs=$(json_num documents <"$B_PRE.out")
rejected=$(json_num rejected <"$B_PRE.out")
db_bytes=$(( $(stat -c %s "$DB") + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))

say "bench: no-change rerun"
BEST_MAXSTATUS=1 best_of : "$W/nochange" "$PRSEARCH_INDEX" -q --json -d "$DB" "$CORPUS"
nochange_s=$B_WALL nochange_rss=$B_RSS_MB nochange_cpu=$B_CPU
nochange_unchanged=$(json_num unchanged <"$B_PRE.out")

say "bench: one changed file"
changed=$(find "$CORPUS/_actualites" -name '*.md' | sort | head -1)
cp -p "$changed" "$W/changed.orig"
change_one() {
    cp -p "$W/changed.orig" "$changed"
    "$PRSEARCH_INDEX" -q -d "$DB" "$CORPUS" >/dev/null 2>&1
    printf '\nMise à jour : une phrase ajoutée pour le banc d’essai, %s.\n' "$(now)" >>"$changed"
}
BEST_MAXSTATUS=1 best_of change_one "$W/onechange" "$PRSEARCH_INDEX" -q --json -d "$DB" "$CORPUS"
onechange_s=$B_WALL onechange_cpu=$B_CPU
onechange_updated=$(json_num updated <"$B_PRE.out")
cp -p "$W/changed.orig" "$changed"   # the cached corpus stays as generated
"$PRSEARCH_INDEX" -q -d "$DB" "$CORPUS" >/dev/null 2>&1

# ---- FTS5 floor -------------------------------------------------------------
say "bench: FTS5 floor"
FLOOR="$W/floor.db"
sqlite3 -batch "$FLOOR" "ATTACH 'file:$DB?mode=ro' AS idx;
    CREATE TABLE src AS SELECT title, headings, chapeau, body, taxonomy FROM idx.documents ORDER BY id;" \
    || die "cannot copy the extracted text"
text_bytes=$(sqlite3 -batch "$FLOOR" "SELECT sum(length(CAST(title||headings||chapeau||body||taxonomy AS BLOB))) FROM src")
LOAD_EXT=()
[[ -f "$PR_EXTENSION" ]] && LOAD_EXT=(".load $PR_EXTENSION")
# Dropping a 'french' table needs the tokenizer: load it for every reset.
floor_reset() { sqlite3 -batch "$FLOOR" "${LOAD_EXT[@]}" "DROP TABLE IF EXISTS t; VACUUM;" >/dev/null; }
floor_sql() { # TOKENIZE
    printf "BEGIN;
        CREATE VIRTUAL TABLE t USING fts5(title, headings, chapeau, body, taxonomy, tokenize='%s');
        INSERT INTO t SELECT title, headings, chapeau, body, taxonomy FROM src;
        COMMIT;" "$1"
}
floor_s=null floor_cpu=null french_s=null french_cpu=null
if best_of floor_reset "$W/floor" sqlite3 -batch -bail "$FLOOR" "$(floor_sql 'unicode61 remove_diacritics 2')"; then
    floor_s=$B_WALL floor_cpu=$B_CPU
else
    say "bench: FTS5 floor failed: $(head -c 300 "$B_PRE.err")"
fi
if [[ -f "$PR_EXTENSION" ]] && best_of floor_reset "$W/french" sqlite3 -batch -bail "$FLOOR" \
        ".load $PR_EXTENSION" "$(floor_sql french)"; then
    french_s=$B_WALL french_cpu=$B_CPU
fi
rm -f "$FLOOR"

# ---- Sphinx -----------------------------------------------------------------
sphinx_json=null sphinx_np_json=null sphinx_s=null sphinx_dps=null sphinx_cpu=null
if have_sphinx; then
    say "bench: Sphinx indexer"
    SPH="$BENCH_OUT/sphinx-$N"
    sphinx_stop "$SPH" 2>/dev/null
    rm -rf "$SPH"
    sphinx_setup "$DB" "$SPH" "${BENCH_SPHINX_PORT:-9306}"
    cat "$SPH/docs.xml" >/dev/null
    xml_bytes=$(stat -c %s "$SPH/docs.xml")
    # Without prefixes first (the pure indexing cost), then the config the
    # query bench uses.
    sed -e '/min_prefix_len/d' -e "s|path = $SPH/data/docs|path = $SPH/data/noprefix|" \
        "$SPH/sphinx.conf" >"$SPH/noprefix.conf"
    sph_np_reset() { rm -f "$SPH"/data/noprefix.*; }
    if best_of sph_np_reset "$W/sphinx_np" indexer --config "$SPH/noprefix.conf" --all; then
        sphinx_np_json=$(printf '{"seconds":%s,"docs_per_s":%s,"peak_rss_mb":%s,"cpu_s":%s}' \
            "$B_WALL" "$(calc "x=$docs/$B_WALL")" "$B_RSS_MB" "$B_CPU")
    fi
    sph_np_reset
    sph_reset() { rm -f "$SPH"/data/docs.*; }
    if best_of sph_reset "$W/sphinx" indexer --config "$SPH/sphinx.conf" --all; then
        sphinx_s=$B_WALL sphinx_cpu=$B_CPU
        sphinx_docs=$(grep -o 'total [0-9]* docs' "$B_PRE.out" | head -1 | awk '{print $2}')
        sphinx_dps=$(calc "x=$docs/$B_WALL")
        sphinx_json=$(printf '{"seconds":%s,"all_seconds":[%s],"docs":%s,"docs_per_s":%s,"mb_per_s_text":%s,"peak_rss_mb":%s,"cpu_s":%s,"index_mb":%s,"xml_mb":%s,"prefixes":true}' \
            "$B_WALL" "$B_ALL" "${sphinx_docs:-null}" "$sphinx_dps" "$(calc "x=$text_bytes/1048576/$B_WALL")" \
            "$B_RSS_MB" "$B_CPU" "$(mb_of "$(du -sb "$SPH/data" | cut -f1)")" "$(mb_of "$xml_bytes")")
    else
        say "bench: Sphinx indexer failed: $(tail -3 "$B_PRE.out")"
    fi
else
    say "bench: Sphinx skipped (BENCH_SPHINX=0 or not installable)"
fi

# ---- report -------------------------------------------------------------------
dps=$(calc "x=$docs/$full_s")
mbps=$(calc "x=$md_bytes/1048576/$full_s")
r_sphinx=$(ratio "$dps" "$sphinx_dps")
r_floor=$(ratio "$full_s" "$floor_s")
r_french=$(ratio "$full_s" "$french_s")
JSON="$BENCH_OUT/index-$N.json"
cat >"$JSON" <<EOF
{"bench":"index","n":$N,"seed":$BENCH_SEED,"machine":$machine,
 "corpus":{"files":$files,"markdown_mb":$(mb_of "$md_bytes"),"extracted_text_mb":$(mb_of "$text_bytes"),"generate_seconds":$gen_s},
 "prsearch":{"seconds":$full_s,"all_seconds":[$full_all],"documents":${docs:-null},"rejected":${rejected:-null},"docs_per_s":$dps,"mb_per_s":$mbps,"peak_rss_mb":$full_rss,"cpu_s":$full_cpu,"cpu_s_per_1k_docs":$(calc "x=$full_cpu*1000/$docs"),"index_mb":$(mb_of "$db_bytes")},
 "rerun_nochange":{"seconds":$nochange_s,"cpu_s":$nochange_cpu,"unchanged":${nochange_unchanged:-null},"peak_rss_mb":$nochange_rss},
 "rerun_one_changed":{"seconds":$onechange_s,"cpu_s":$onechange_cpu,"updated":${onechange_updated:-null}},
 "fts5_floor":{"seconds":$floor_s,"cpu_s":$floor_cpu,"docs_per_s":$(calc "x=$docs/$floor_s"),"mb_per_s_text":$(calc "x=$text_bytes/1048576/$floor_s"),"tokenizer":"unicode61 remove_diacritics 2"},
 "fts5_french":{"seconds":$french_s,"cpu_s":$french_cpu,"tokenizer":"french"},
 "sphinx":$sphinx_json,
 "sphinx_noprefix":$sphinx_np_json,
 "ratios":{"docs_per_s_vs_sphinx":$r_sphinx,"time_vs_fts5_floor":$r_floor,"time_vs_fts5_french":$r_french,
   "cpu_vs_sphinx":$(ratio "$full_cpu" "$sphinx_cpu"),"cpu_vs_fts5_floor":$(ratio "$full_cpu" "$floor_cpu")},
 "load_avg_end":"$(cut -d' ' -f1-3 /proc/loadavg)","repeat":$BENCH_REPEAT}
EOF
jq . "$JSON" >/dev/null 2>&1 || say "bench: warning: $JSON is not valid JSON"

printf '\nIndexing %s pages (%s MB of Markdown, %s MB of extracted text), %s\n' \
    "$N" "$(mb_of "$md_bytes")" "$(mb_of "$text_bytes")" "$(date -u +%FT%TZ)"
printf '  %-34s %9s %9s %10s %9s %9s\n' "" "wall s" "CPU s" "docs/s" "MB/s" "RSS MB"
printf '  %-34s %9s %9s %10s %9s %9s\n' "prsearch-index (new index)" "$full_s" "$full_cpu" "$dps" "$mbps" "$full_rss"
printf '  %-34s %9s %9s\n' "prsearch-index, no change" "$nochange_s" "$nochange_cpu"
printf '  %-34s %9s %9s\n' "prsearch-index, one file changed" "$onechange_s" "$onechange_cpu"
printf '  %-34s %9s %9s %10s\n' "FTS5 floor (unicode61)" "$floor_s" "$floor_cpu" "$(calc "x=$docs/$floor_s")"
printf '  %-34s %9s %9s %10s\n' "FTS5 + french tokenizer, bare" "$french_s" "$french_cpu" "$(calc "x=$docs/$french_s")"
if [[ $sphinx_json != null ]]; then
    printf '  %-34s %9s %9s %10s %9s %9s\n' "Sphinx indexer (prefixes)" "$sphinx_s" "$sphinx_cpu" "$sphinx_dps" "-" \
        "$(echo "$sphinx_json" | json_num peak_rss_mb)"
    [[ $sphinx_np_json != null ]] && printf '  %-34s %9s %9s %10s\n' "Sphinx indexer (no prefixes)" \
        "$(echo "$sphinx_np_json" | json_num seconds)" "$(echo "$sphinx_np_json" | json_num cpu_s)" \
        "$(echo "$sphinx_np_json" | json_num docs_per_s)"
fi
printf '  index size %s MB; ratios: docs/s vs Sphinx %s (goal >= 1.5), time vs FTS5 floor %s (goal <= 2), vs bare french %s\n' \
    "$(mb_of "$db_bytes")" "$r_sphinx" "$r_floor" "$r_french"
printf '  JSON: %s\n' "$JSON"
