# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run):
# where things are, building the bench's own tools, timing, JSON pieces,
# and the Sphinx setup both bench_index.sh and bench_query.sh use.
#
# Environment: PR_SRCDIR, PR_BUILDDIR (default: the source tree), PR_CORPUS
# (default ../shared/corpus beside the source tree), BENCH_OUT (default
# bench/out in the build tree: generated corpora, indexes, JSON), BENCH_SEED
# (default 42), BENCH_SPHINX=0 to skip Sphinx, BENCH_SPHINX_PORT.

: "${PR_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${PR_BUILDDIR:=$PR_SRCDIR}"
: "${PR_CORPUS:=$PR_SRCDIR/../shared/corpus}"
: "${BENCH_OUT:=$PR_BUILDDIR/bench/out}"
: "${BENCH_SEED:=42}"
: "${BENCH_SPHINX:=1}"
PRSEARCH_INDEX="$PR_BUILDDIR/indexer/prsearch-index"
PRSEARCHD="$PR_BUILDDIR/daemon/prsearchd"
PR_EXTENSION="$PR_BUILDDIR/lib/.libs/prsearch_french.so"
HTTPCLIENT="$PR_BUILDDIR/tests/tool_httpclient"
BENCH_BIN="$BENCH_OUT/bin"
export PR_SRCDIR PR_BUILDDIR PR_CORPUS BENCH_OUT

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 2; }

now() { date +%s.%N; }
# elapsed START: seconds since START (from now()), 3 decimals.
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
# calc EXPR: awk arithmetic, 3 decimals ("-" when it divides by zero).
calc() { awk "BEGIN{x=0; { $1 }; printf \"%.3f\", x}" 2>/dev/null || echo null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else printf "null" }'; }

# json_num KEY < JSON: the first numeric value of KEY in a JSON text.
json_num() { grep -o "\"$1\":[-0-9.e+]*" | head -1 | cut -d: -f2; }

# The build tree's programs; build them when missing (never reconfigure).
need_programs() {
    local missing=0 p
    for p in "$PRSEARCH_INDEX" "$@"; do [[ -x "$p" ]] || missing=1; done
    if [[ $missing == 1 ]]; then
        say "bench: building the programs (make -j2 in $PR_BUILDDIR)"
        make -C "$PR_BUILDDIR" -j2 >/dev/null || die "make failed"
    fi
}

# The bench's own tools, in $BENCH_BIN, rebuilt when their source is newer.
# query_driver links the build tree's core library through its libtool.
build_tools() {
    mkdir -p "$BENCH_BIN"
    local src="$PR_SRCDIR/bench"
    if [[ ! -x "$BENCH_BIN/gen_corpus" || "$src/gen_corpus.c" -nt "$BENCH_BIN/gen_corpus" ]]; then
        cc -O2 -Wall -Wno-format-truncation -o "$BENCH_BIN/gen_corpus" "$src/gen_corpus.c" -lm \
            || die "cannot build gen_corpus"
    fi
    if [[ ! -x "$BENCH_BIN/query_driver" || "$src/query_driver.c" -nt "$BENCH_BIN/query_driver" \
          || "$PR_BUILDDIR/lib/libprsearch.la" -nt "$BENCH_BIN/query_driver" ]]; then
        [[ -f "$PR_BUILDDIR/lib/libprsearch.la" ]] || make -C "$PR_BUILDDIR" -j2 lib/libprsearch.la >/dev/null
        cc -O2 -Wall -I"$PR_SRCDIR/lib" -I"$PR_BUILDDIR" -c "$src/query_driver.c" \
            -o "$BENCH_BIN/query_driver.o" || die "cannot compile query_driver"
        "$PR_BUILDDIR/libtool" --silent --mode=link cc -O2 -o "$BENCH_BIN/query_driver" \
            "$BENCH_BIN/query_driver.o" "$PR_BUILDDIR/lib/libprsearch.la" -lpthread \
            || die "cannot link query_driver"
    fi
}

# The SphinxQL client needs libmariadb; built on demand.
build_sphinx_client() {
    local src="$PR_SRCDIR/bench/sphinxql_bench.c"
    if [[ ! -x "$BENCH_BIN/sphinxql_bench" || "$src" -nt "$BENCH_BIN/sphinxql_bench" ]]; then
        [[ -f /usr/include/mariadb/mysql.h ]] || apt_install libmariadb-dev || return 1
        cc -O2 -Wall -I/usr/include/mariadb -o "$BENCH_BIN/sphinxql_bench" "$src" \
            -lmariadb -lpthread -lm || return 1
    fi
}

apt_install() {
    say "bench: apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$BENCH_OUT/apt.log" 2>&1 && return 0
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$BENCH_OUT/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$BENCH_OUT/apt.log" 2>&1
}

# /usr/bin/time for peak RSS.
need_time() { [[ -x /usr/bin/time ]] || apt_install time || die "need /usr/bin/time"; }

# Sphinx from Debian; returns 1 when it cannot be had (the bench goes on).
have_sphinx() {
    [[ $BENCH_SPHINX == 1 ]] || return 1
    command -v indexer >/dev/null && command -v searchd >/dev/null && return 0
    apt_install sphinxsearch && command -v indexer >/dev/null
}

# corpus_dir N: generate the N-page corpus once (cached in $BENCH_OUT; made
# again when gen_corpus.c changed: .complete holds its checksum).
corpus_dir() {
    local n=$1 dir="$BENCH_OUT/corpus-$1-s$BENCH_SEED" stamp
    stamp=$(cksum <"$PR_SRCDIR/bench/gen_corpus.c")
    if [[ ! -f "$dir/.complete" || "$(cat "$dir/.complete")" != "$stamp" ]]; then
        [[ -f "$PR_CORPUS/_config.yml" ]] || die "no corpus at $PR_CORPUS (set PR_CORPUS)"
        rm -rf "$dir"
        say "bench: generating $n pages in $dir"
        "$BENCH_BIN/gen_corpus" "$n" "$dir" "$BENCH_SEED" || die "gen_corpus failed"
        printf '%s\n' "$stamp" >"$dir/.complete"
    fi
    echo "$dir"
}

# run_timed OUTPREFIX CMD...: run CMD under /usr/bin/time; sets T_WALL
# (seconds), T_RSS_MB, T_CPU (user + system seconds), T_STATUS; CMD's
# stdout/stderr go to OUTPREFIX.out/.err; OUTPREFIX.time also keeps file
# system inputs/outputs (512-byte blocks), major faults and voluntary /
# involuntary context switches, to tell waiting on the disk from waiting
# for a CPU on a busy machine.
run_timed() {
    local pre=$1 t0; shift
    t0=$(now)
    /usr/bin/time -f '%M %U %S %I %O %F %w %c' -o "$pre.time" "$@" >"$pre.out" 2>"$pre.err"
    T_STATUS=$?
    T_WALL=$(elapsed "$t0")
    T_RSS_MB=$(tail -1 "$pre.time" | awk '{printf "%.1f", $1/1024}')
    T_CPU=$(tail -1 "$pre.time" | awk '{printf "%.2f", $2+$3}')
}

# best_of SETUP PREFIX CMD...: run SETUP then CMD under run_timed
# $BENCH_REPEAT times (default 1) and keep the fastest: the machine is
# shared, so the minimum is the least disturbed run. Sets B_WALL, B_RSS_MB,
# B_CPU, B_PRE (the prefix of the kept run's files), B_ALL (every wall time).
# Fails at the first exit status above $BEST_MAXSTATUS (default 0).
: "${BENCH_REPEAT:=1}"
best_of() {
    local setup=$1 pre=$2 i; shift 2
    B_WALL="" B_ALL=""
    for i in $(seq "$BENCH_REPEAT"); do
        $setup
        run_timed "$pre.$i" "$@"
        [[ $T_STATUS -le ${BEST_MAXSTATUS:-0} ]] || { B_PRE="$pre.$i"; return 1; }
        B_ALL+="${B_ALL:+,}$T_WALL"
        if [[ -z $B_WALL ]] || awk -v a="$T_WALL" -v b="$B_WALL" 'BEGIN{exit !(a < b)}'; then
            B_WALL=$T_WALL B_RSS_MB=$T_RSS_MB B_CPU=$T_CPU B_PRE="$pre.$i"
        fi
    done
}

mb_of() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }

# Machine facts for the JSON and RESULTS.md.
machine_json() {
    printf '{"date":"%s","host":"%s","cpus":%s,"cpu":"%s","mem_gb":%s,"load_avg_start":"%s","sqlite":"%s"}' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "$(nproc)" \
        "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo | tr -d '"')" \
        "$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
}

# ---- Sphinx ---------------------------------------------------------------

# Latin-1 letters folded to ASCII, in Sphinx's charset_table syntax (a range
# may only map to a range of the same size, so one entry per letter).
sphinx_folding() {
    local m="" c t
    for c in C0:a C1:a C2:a C3:a C4:a C5:a C6:a E0:a E1:a E2:a E3:a E4:a E5:a E6:a \
             C7:c E7:c C8:e C9:e CA:e CB:e E8:e E9:e EA:e EB:e CC:i CD:i CE:i CF:i \
             EC:i ED:i EE:i EF:i D1:n F1:n D2:o D3:o D4:o D5:o D6:o D8:o F2:o F3:o \
             F4:o F5:o F6:o F8:o D9:u DA:u DB:u DC:u F9:u FA:u FB:u FC:u DD:y FD:y FF:y; do
        t=${c#*:}
        m+="U+${c%%:*}->$t, "
    done
    echo "${m%, }"
}

# sphinx_setup DB DIR PORT: write DIR/docs.xml (the index's extracted text,
# so both engines index the same words), DIR/stopwords.txt (our list) and
# DIR/sphinx.conf configured for French as an administrator would.
sphinx_setup() {
    local db=$1 dir=$2 port=$3
    mkdir -p "$dir/data"
    # Our stop word list, from lib/fr_stopwords.c.
    sed -n '/stopwords\[\] = {/,/};/p' "$PR_SRCDIR/lib/fr_stopwords.c" \
        | grep -o '"[^"]*"' | tr -d '"' >"$dir/stopwords.txt"
    # xmlpipe2 source: same documents, same fields, date as an attribute.
    # Generated before timing; the indexer reads it with `cat`.
    {
        printf '<?xml version="1.0" encoding="utf-8"?>\n<sphinx:docset>\n<sphinx:schema>\n'
        printf '<sphinx:field name="title"/><sphinx:field name="headings"/><sphinx:field name="chapeau"/>'
        printf '<sphinx:field name="body"/><sphinx:field name="taxonomy"/>\n'
        printf '<sphinx:attr name="date_ts" type="timestamp"/>\n</sphinx:schema>\n'
        sqlite3 -batch -noheader "file:$db?mode=ro" "
            WITH x AS (SELECT id, coalesce(date_ts, 0) AS d, title, headings, chapeau, body, taxonomy FROM documents)
            SELECT '<sphinx:document id=\"' || id || '\"><title>' ||
              replace(replace(replace(title,'&','&amp;'),'<','&lt;'),'>','&gt;') || '</title><headings>' ||
              replace(replace(replace(headings,'&','&amp;'),'<','&lt;'),'>','&gt;') || '</headings><chapeau>' ||
              replace(replace(replace(chapeau,'&','&amp;'),'<','&lt;'),'>','&gt;') || '</chapeau><body>' ||
              replace(replace(replace(body,'&','&amp;'),'<','&lt;'),'>','&gt;') || '</body><taxonomy>' ||
              replace(replace(replace(taxonomy,'&','&amp;'),'<','&lt;'),'>','&gt;') || '</taxonomy><date_ts>' ||
              d || '</date_ts></sphinx:document>' FROM x ORDER BY id;"
        printf '</sphinx:docset>\n'
    } >"$dir/docs.xml"
    # French: libstemmer_fr, accents folded (Latin-1 letters and œ/æ kept
    # as letters), apostrophes and hyphens split words as in our tokenizer,
    # 1-letter words kept (min_word_len 1), our stop words; dict=keywords
    # with min_prefix_len 2 so that prefix queries (recru*) work.
    cat >"$dir/sphinx.conf" <<EOF
# Generated by bench/lib.sh (sphinx_setup): French full-text index of the
# same documents prsearch indexed, for the comparison in bench/.
source docs
{
    type = xmlpipe2
    xmlpipe_command = cat $dir/docs.xml
    xmlpipe_fixup_utf8 = 1
}
index docs
{
    source = docs
    path = $dir/data/docs
    docinfo = extern
    dict = keywords
    morphology = libstemmer_fr
    min_word_len = 1
    min_prefix_len = 2
    index_exact_words = 0
    html_strip = 0
    stopwords = $dir/stopwords.txt
    charset_table = 0..9, A..Z->a..z, _, a..z, U+152->U+153, U+153, $(sphinx_folding)
}
indexer
{
    mem_limit = 256M
}
searchd
{
    listen = 127.0.0.1:$port:mysql41
    log = $dir/searchd.log
    query_log = $dir/query.log
    pid_file = $dir/searchd.pid
    binlog_path =
    workers = threads
    read_timeout = 5
    max_children = 64
    seamless_rotate = 1
    preopen_indexes = 1
}
EOF
}

sphinx_start() {
    local dir=$1
    searchd --config "$dir/sphinx.conf" >"$dir/searchd.out" 2>&1 || return 1
    local i
    for i in $(seq 100); do
        [[ -s "$dir/searchd.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

sphinx_stop() {
    local dir=$1 pid
    pid=$(cat "$dir/searchd.pid" 2>/dev/null) || return 0
    searchd --config "$dir/sphinx.conf" --stopwait >/dev/null 2>&1 || kill "$pid" 2>/dev/null
    rm -f "$dir/searchd.pid"
}

# A free TCP port on loopback.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( (RANDOM % 20000) + 30000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}
