/*
 * gen_corpus.c - deterministic generator of large Jekyll corpora for the
 * benchmarks (bench/bench_index.sh, bench/bench_query.sh).
 *
 *   gen_corpus N OUTDIR [SEED]
 *
 * Reads the real pages of $PR_CORPUS (default: ../shared/corpus beside the
 * source tree) and writes N pages in the same format to OUTDIR: collection
 * folders _communiques/ _actualites/ _evenements/ _publications/, YAML front
 * matter (title, date with offset, categories, tags, chapeau-text), Markdown
 * bodies of about 2.5 KB, and a _config.yml with the collections' permalinks.
 *
 * The material is the corpus's own paragraphs, headings, titles, chapeaux
 * and taxonomy, mixed so the vocabulary spreads as in a real site rather
 * than every page holding every common word:
 *   - source pages are grouped into topics (neighbours by file name); most
 *     generated pages draw most paragraphs from one topic, Zipf-chosen;
 *   - paragraphs and taxonomy values are chosen with Zipf weights;
 *   - words are substituted (Zipf over the corpus vocabulary), swapped,
 *     and now and then replaced by a number or a made-up proper name from
 *     a pool of 40,000 (so rare terms grow with N, as in real sites).
 * Same N, SEED and corpus: byte-identical output. Standard C only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- small utilities ------------------------------------------------- */

static void die(const char *what)
{
    fprintf(stderr, "gen_corpus: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

typedef struct strvec {
    char **v;
    int *topic; /* per item: topic of the page it came from (or -1) */
    size_t n, cap;
} strvec;

static void sv_push(strvec *s, char *str, int topic)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
        s->topic = xrealloc(s->topic, s->cap * sizeof *s->topic);
    }
    s->v[s->n] = str;
    s->topic[s->n++] = topic;
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void b_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void b_str(buf *b, const char *s) { b_add(b, s, strlen(s)); }

static void b_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void b_printf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    b_add(b, tmp, (size_t)(n < (int)sizeof tmp ? n : (int)sizeof tmp - 1));
}

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* Zipf over N ranks (exponent S), then a fixed seeded permutation so that
 * rank 0 is not always item 0. */
typedef struct zipf {
    double *cum;
    size_t *perm;
    size_t n;
} zipf;

static void zipf_init(zipf *z, size_t n, double s, int permute)
{
    double acc = 0;
    size_t i;

    z->n = n;
    z->cum = xmalloc((n ? n : 1) * sizeof *z->cum);
    z->perm = xmalloc((n ? n : 1) * sizeof *z->perm);
    for (i = 0; i < n; i++) {
        acc += 1.0 / pow((double)(i + 1), s);
        z->cum[i] = acc;
        z->perm[i] = i;
    }
    for (i = 0; i < n; i++)
        z->cum[i] /= acc;
    if (permute)
        for (i = n; i > 1; i--) {
            size_t j = rnd_below(i), t = z->perm[i - 1];
            z->perm[i - 1] = z->perm[j];
            z->perm[j] = t;
        }
}

static size_t zipf_draw(const zipf *z)
{
    double u = rnd01();
    size_t lo = 0, hi = z->n - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cum[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return z->perm[lo];
}

/* ---- reading the corpus ------------------------------------------------ */

static const char *const collections[] = {"communiques", "actualites", "evenements",
                                          "publications"};
#define NCOLL 4
/* Share of generated pages per collection, in thousandths. */
static const int coll_share[NCOLL] = {300, 450, 100, 150};

typedef struct source_page {
    char *name; /* file name, to group topics */
    int coll;
} source_page;

typedef struct corpus {
    strvec titles, headings, paragraphs, chapeaux;
    strvec categories[NCOLL]; /* with repeats: frequency = weight */
    strvec tags;              /* with repeats */
    strvec words;             /* vocabulary, most frequent first */
    int ntopics;
} corpus;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    buf b = {0};
    char tmp[65536];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        b_add(&b, tmp, n);
    fclose(f);
    if (!b.p)
        b_add(&b, "", 0);
    *len = b.n;
    return b.p;
}

static int has_bad_markup(const char *s)
{
    return strpbrk(s, "<>{}|\\") != NULL || strstr(s, "![") != NULL || strstr(s, "---") != NULL;
}

/* Trim spaces and YAML quotes from a scalar; unescape '' in single quotes. */
static char *yaml_scalar(const char *s, size_t n)
{
    char *out, *o;
    size_t i;
    char q = 0;

    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
        q = s[0];
        s++;
        n -= 2;
    }
    out = o = xmalloc(n + 1);
    for (i = 0; i < n; i++) {
        if (q == '\'' && s[i] == '\'' && i + 1 < n && s[i + 1] == '\'')
            i++;
        else if (q == '"' && s[i] == '\\' && i + 1 < n)
            i++;
        if (s[i] == '\n' || s[i] == '\r')
            *o++ = ' ';
        else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

typedef struct page_fm {
    char *title, *chapeau;
    strvec cats, tags;
} page_fm;

/* A small reader for the front matter keys we need: "key: value" with
 * indented continuation lines, and "key:" followed by "- item" lines. */
static const char *read_front_matter(const char *src, page_fm *fm)
{
    const char *p = src, *end;
    char key[64] = "";
    buf val = {0};
    int in_list = 0;

    if (strncmp(p, "---", 3) != 0)
        return src;
    p = strchr(p, '\n');
    if (!p)
        return src;
    p++;
    for (;;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        int item = len >= 2 && p[0] == '-' && p[1] == ' ';
        int cont = len > 0 && (p[0] == ' ' || p[0] == '\t' || item);
        int is_end = !strncmp(p, "---", 3) && (len == 3 || (len == 4 && p[3] == '\r'));

        if (!cont || is_end) {
            /* Flush the previous key. */
            if (val.n && !in_list) {
                if (!strcmp(key, "title") && !fm->title)
                    fm->title = yaml_scalar(val.p, val.n);
                else if (!strcmp(key, "chapeau-text") && !fm->chapeau)
                    fm->chapeau = yaml_scalar(val.p, val.n);
            }
            val.n = 0;
            in_list = 0;
            key[0] = '\0';
        }
        if (is_end || !eol) {
            end = eol ? eol + 1 : p + len;
            break;
        }
        if (!cont && len > 0) {
            const char *colon = memchr(p, ':', len);
            if (colon && (size_t)(colon - p) < sizeof key) {
                snprintf(key, sizeof key, "%.*s", (int)(colon - p), p);
                b_add(&val, colon + 1, len - (size_t)(colon + 1 - p));
                {
                    char *v = yaml_scalar(val.p, val.n);
                    in_list = v[0] == '\0';
                    free(v);
                }
            }
        } else if (cont && !in_list) {
            b_add(&val, " ", 1);
            b_add(&val, p, len);
        }
        if (in_list && cont) {
            const char *it = p;
            size_t ilen;
            while (it < p + len && (*it == ' ' || *it == '\t'))
                it++;
            if (*it != '-')
                goto next;
            it++;
            ilen = len - (size_t)(it - p);
            if (!strcmp(key, "categories") || !strcmp(key, "tags")) {
                char *v = yaml_scalar(it, ilen);
                if (v[0] && !has_bad_markup(v) && strlen(v) < 80)
                    sv_push(!strcmp(key, "tags") ? &fm->tags : &fm->cats, v, -1);
                else
                    free(v);
            }
        }
    next:
        p = eol + 1;
    }
    free(val.p);
    return end;
}

typedef struct word_count {
    char *w;
    long n;
} word_count;

typedef struct vocab {
    word_count *slots;
    size_t cap, n;
} vocab;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void vocab_add(vocab *v, const char *w, size_t n)
{
    char tmp[128];
    size_t i;

    if (n == 0 || n >= sizeof tmp)
        return;
    memcpy(tmp, w, n);
    tmp[n] = '\0';
    if (v->n * 2 >= v->cap) {
        vocab old = *v;
        v->cap = v->cap ? v->cap * 2 : 4096;
        v->slots = calloc(v->cap, sizeof *v->slots);
        if (!v->slots)
            die("out of memory");
        v->n = 0;
        for (i = 0; i < old.cap; i++)
            if (old.slots[i].w) {
                size_t j = hash_str(old.slots[i].w) & (v->cap - 1);
                while (v->slots[j].w)
                    j = (j + 1) & (v->cap - 1);
                v->slots[j] = old.slots[i];
                v->n++;
            }
        free(old.slots);
    }
    i = hash_str(tmp) & (v->cap - 1);
    while (v->slots[i].w && strcmp(v->slots[i].w, tmp))
        i = (i + 1) & (v->cap - 1);
    if (!v->slots[i].w) {
        v->slots[i].w = xstrndup(tmp, n);
        v->n++;
    }
    v->slots[i].n++;
}

static int is_word_byte(unsigned char c) { return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static void vocab_from(vocab *v, const char *s)
{
    while (*s) {
        const char *b;
        while (*s && !is_word_byte((unsigned char)*s))
            s++;
        b = s;
        while (*s && (is_word_byte((unsigned char)*s) || *s == '-'))
            s++;
        /* Skip UTF-8 punctuation like ’ « » … that starts with 0xE2 0x80. */
        if (s - b >= 3 && !((unsigned char)b[0] == 0xE2 || (unsigned char)b[0] == 0xC2))
            vocab_add(v, b, (size_t)(s - b));
    }
}

static int cmp_wc(const void *a, const void *b)
{
    const word_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->w, y->w);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const source_page *)a)->name, ((const source_page *)b)->name);
}

static void read_page(corpus *c, const char *path, int coll, int topic, vocab *v)
{
    size_t len;
    char *src = slurp(path, &len);
    const char *body, *p;
    page_fm fm = {0};
    size_t i;

    if (!src)
        return;
    body = read_front_matter(src, &fm);
    if (fm.title && fm.title[0] && !has_bad_markup(fm.title) && strlen(fm.title) < 200)
        sv_push(&c->titles, fm.title, topic);
    else
        free(fm.title);
    if (fm.chapeau && strlen(fm.chapeau) > 40 && !has_bad_markup(fm.chapeau))
        sv_push(&c->chapeaux, fm.chapeau, topic);
    else
        free(fm.chapeau);
    for (i = 0; i < fm.cats.n; i++)
        sv_push(&c->categories[coll], fm.cats.v[i], topic);
    for (i = 0; i < fm.tags.n; i++)
        sv_push(&c->tags, fm.tags.v[i], topic);
    free(fm.cats.v), free(fm.cats.topic), free(fm.tags.v), free(fm.tags.topic);

    /* Blocks separated by blank lines: headings and paragraphs. */
    p = body;
    while (*p) {
        const char *e = p;
        buf para = {0};
        while (*e) {
            const char *eol = strchr(e, '\n');
            size_t l = eol ? (size_t)(eol - e) : strlen(e);
            size_t k = 0;
            while (k < l && (e[k] == ' ' || e[k] == '\t' || e[k] == '\r'))
                k++;
            if (k == l) { /* blank line ends the block */
                e = eol ? eol + 1 : e + l;
                break;
            }
            if (e[0] == '#') {
                const char *h = e;
                size_t hl = l;
                while (hl && (*h == '#' || *h == ' '))
                    h++, hl--;
                while (hl && (h[hl - 1] == '\r' || h[hl - 1] == ' ' || h[hl - 1] == '#'))
                    hl--;
                if (hl > 3 && hl < 150) {
                    char *hs = xstrndup(h, hl);
                    if (!has_bad_markup(hs) && !strchr(hs, '*') && !strchr(hs, '['))
                        sv_push(&c->headings, hs, topic);
                    else
                        free(hs);
                }
            } else {
                size_t ll = l;
                while (ll && (e[ll - 1] == '\r' || e[ll - 1] == ' '))
                    ll--;
                if (para.n)
                    b_add(&para, "\n", 1);
                b_add(&para, e, ll);
            }
            e = eol ? eol + 1 : e + l;
        }
        if (para.n >= 80 && para.n < 2000 && !has_bad_markup(para.p) && para.p[0] != '*' &&
            para.p[0] != '!') {
            vocab_from(v, para.p);
            sv_push(&c->paragraphs, para.p, topic);
        } else {
            free(para.p);
        }
        p = e;
    }
    free(src);
}

static void read_corpus(corpus *c, const char *dir)
{
    source_page *pages = NULL;
    size_t npages = 0, cap = 0, i;
    vocab v = {0};
    int coll;

    for (coll = 0; coll < NCOLL; coll++) {
        char path[4096];
        struct dirent **names;
        int n, k;

        snprintf(path, sizeof path, "%s/_%s", dir, collections[coll]);
        n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
            errno = 0;
            fprintf(stderr, "gen_corpus: cannot read %s\n", path);
            exit(2);
        }
        for (k = 0; k < n; k++) {
            const char *dot = strrchr(names[k]->d_name, '.');
            if (dot && (!strcmp(dot, ".md") || !strcmp(dot, ".markdown"))) {
                if (npages == cap) {
                    cap = cap ? cap * 2 : 256;
                    pages = xrealloc(pages, cap * sizeof *pages);
                }
                pages[npages].name = strdup(names[k]->d_name);
                pages[npages++].coll = coll;
            }
            free(names[k]);
        }
        free(names);
    }
    if (npages == 0) {
        fprintf(stderr, "gen_corpus: no pages under %s\n", dir);
        exit(2);
    }
    /* Topics: neighbours by file name (accessibilite-*, franceconnect-*...). */
    qsort(pages, npages, sizeof *pages, cmp_name);
    c->ntopics = (int)((npages + 7) / 8);
    for (i = 0; i < npages; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/_%s/%s", dir, collections[pages[i].coll], pages[i].name);
        read_page(c, path, pages[i].coll, (int)(i / 8), &v);
        free(pages[i].name);
    }
    free(pages);
    /* Vocabulary by frequency. */
    {
        word_count *all = xmalloc(v.n * sizeof *all);
        size_t k = 0;
        for (i = 0; i < v.cap; i++)
            if (v.slots[i].w)
                all[k++] = v.slots[i];
        qsort(all, k, sizeof *all, cmp_wc);
        for (i = 0; i < k; i++)
            sv_push(&c->words, all[i].w, -1);
        free(all);
        free(v.slots);
    }
    if (!c->paragraphs.n || !c->titles.n || !c->words.n) {
        fprintf(stderr, "gen_corpus: %s holds too little text\n", dir);
        exit(2);
    }
}

/* ---- generating -------------------------------------------------------- */

typedef struct gen {
    corpus *c;
    zipf z_par, z_title, z_head, z_chap, z_word, z_tag, z_name, z_topic;
    zipf z_cat[NCOLL];
    /* Per topic: indexes of its paragraphs, titles, headings, chapeaux, tags. */
    size_t **tp_par, *tn_par, **tp_title, *tn_title, **tp_head, *tn_head, **tp_chap, *tn_chap,
        **tp_tag, *tn_tag;
} gen;

static void index_topics(const strvec *s, int ntopics, size_t ***idx, size_t **cnt)
{
    size_t i;
    *idx = calloc((size_t)ntopics, sizeof **idx);
    *cnt = calloc((size_t)ntopics, sizeof **cnt);
    if (!*idx || !*cnt)
        die("out of memory");
    for (i = 0; i < s->n; i++) {
        int t = s->topic[i];
        if (t < 0 || t >= ntopics)
            continue;
        (*idx)[t] = xrealloc((*idx)[t], ((*cnt)[t] + 1) * sizeof ***idx);
        (*idx)[t][(*cnt)[t]++] = i;
    }
}

/* An item of S: from topic T's own items with probability P_TOPIC
 * (uniformly: a topic is small), else Zipf over all. */
static const char *pick(const strvec *s, const zipf *z, size_t **tidx, const size_t *tcnt, int t,
                        double p_topic)
{
    if (t >= 0 && tcnt[t] && rnd01() < p_topic)
        return s->v[tidx[t][rnd_below(tcnt[t])]];
    return s->v[zipf_draw(z)];
}

static const char *const syllables[] = {
    "ba", "be", "bi", "bo", "ca", "ce", "co", "da", "de", "di", "do", "fa", "fe", "fi", "ga",
    "go", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "pa",
    "pe", "pi", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to",
    "va", "ve", "vi", "vo", "tri", "gra", "bre", "plo", "cla", "stu", "mar", "vin", "lon"};
#define NSYL (sizeof syllables / sizeof *syllables)

/* Made-up proper name number K: deterministic, capitalised, 2-4 syllables. */
static void made_up_name(buf *b, size_t k)
{
    uint64_t h = k * 0x9E3779B97F4A7C15ULL + 12345;
    int nsyl = 2 + (int)(h % 3), i;
    char w[64];
    size_t n = 0;

    for (i = 0; i < nsyl; i++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        n += (size_t)snprintf(w + n, sizeof w - n, "%s", syllables[(h >> 33) % NSYL]);
    }
    w[0] = (char)(w[0] - 'a' + 'A');
    b_add(b, w, n);
}

/* Append P, varied word by word at RATE: substitution by a corpus word,
 * swap with the next word, a made-up name, a number. Returns the number
 * of words varied. */
static int vary_text(gen *g, buf *out, const char *p, double rate)
{
    enum { MAXTOK = 1024 };
    const char *tok[MAXTOK];
    size_t len[MAXTOK], ntok = 0, i;
    char sep[MAXTOK];
    const char *s = p;
    int varied = 0;

    while (*s && ntok < MAXTOK) {
        const char *w = s;
        while (*s && *s != ' ' && *s != '\n')
            s++;
        tok[ntok] = w;
        len[ntok] = (size_t)(s - w);
        sep[ntok++] = *s;
        if (*s)
            s++;
    }
    for (i = 0; i < ntok; i++) {
        const char *w = tok[i];
        size_t n = len[i];
        double r = rnd01();
        int wordlike = n >= 4 && is_word_byte((unsigned char)w[0]) &&
                       is_word_byte((unsigned char)w[n - 1]);
        if (wordlike && r < rate * 0.6)
            b_str(out, g->c->words.v[zipf_draw(&g->z_word)]);
        else if (wordlike && r < rate * 0.8 && i + 1 < ntok) {
            const char *tw = tok[i + 1];
            size_t tn = len[i + 1];
            tok[i + 1] = w, len[i + 1] = n;
            b_add(out, tw, tn);
        } else if (wordlike && r < rate * 0.9)
            made_up_name(out, zipf_draw(&g->z_name));
        else if (wordlike && r < rate)
            b_printf(out, "%u", (unsigned)(rnd_below(3000) + 1));
        else {
            b_add(out, w, n);
            varied--;
        }
        varied++;
        if (sep[i])
            b_add(out, &sep[i], 1);
    }
    return varied;
}

/* YAML single-quoted scalar on one line. */
static void yaml_quote(buf *b, const char *s)
{
    b_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            b_add(b, "''", 2);
        else if (*s == '\n' || *s == '\r')
            b_add(b, " ", 1);
        else
            b_add(b, s, 1);
    }
    b_add(b, "'", 1);
}

/* ASCII slug of a title: Latin-1 letters folded, the rest dashes. */
static void slugify(char *out, size_t cap, const char *s)
{
    static const char *const fold[][2] = {
        {"à", "a"}, {"â", "a"}, {"ä", "a"}, {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ë", "e"},
        {"î", "i"}, {"ï", "i"}, {"ô", "o"}, {"ö", "o"}, {"ù", "u"}, {"û", "u"}, {"ü", "u"},
        {"ç", "c"}, {"É", "e"}, {"È", "e"}, {"À", "a"}, {"Ç", "c"}, {"œ", "oe"}, {"Œ", "oe"}};
    size_t n = 0;
    int dash = 0;

    while (*s && n + 3 < cap && n < 60) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            out[n++] = (char)ch, s++, dash = 0;
        } else if (ch >= 'A' && ch <= 'Z') {
            out[n++] = (char)(ch - 'A' + 'a'), s++, dash = 0;
        } else {
            size_t k, matched = 0;
            for (k = 0; k < sizeof fold / sizeof *fold; k++) {
                size_t l = strlen(fold[k][0]);
                if (!strncmp(s, fold[k][0], l)) {
                    n += (size_t)snprintf(out + n, cap - n, "%s", fold[k][1]);
                    s += l, matched = 1, dash = 0;
                    break;
                }
            }
            if (!matched) {
                if (!dash && n)
                    out[n++] = '-', dash = 1;
                s++;
                while ((unsigned char)*s >= 0x80 && (unsigned char)*s < 0xC0)
                    s++;
            }
        }
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (!n)
        snprintf(out, cap, "page");
}

static int pick_collection(void)
{
    int r = (int)rnd_below(1000), k;
    for (k = 0; k < NCOLL - 1; k++) {
        if (r < coll_share[k])
            return k;
        r -= coll_share[k];
    }
    return NCOLL - 1;
}

static void add_unique(strvec *chosen, const char *s)
{
    size_t i;
    for (i = 0; i < chosen->n; i++)
        if (!strcmp(chosen->v[i], s))
            return;
    sv_push(chosen, (char *)s, -1);
}

static void write_page(gen *g, const char *outdir, long k)
{
    corpus *c = g->c;
    int coll = pick_collection();
    /* 75% of pages are about one topic; the others mix everything. */
    int topic = rnd01() < 0.75 ? (int)zipf_draw(&g->z_topic) : -1;
    double p_topic = 0.8;
    buf title = {0}, doc = {0};
    strvec cats = {0}, tags = {0};
    char slug[128], path[4096];
    size_t target = 2100 + rnd_below(900), body_start, i;
    int year, month, day, ntags;
    FILE *f;

    /* Title: a real one, varied; sometimes two joined. At least one word
     * varied: a title kept as it is was shared by hundreds of pages (the
     * titles are drawn by Zipf), which search folds as one page published
     * many times (docs/duplicates.md) and no real site has. */
    {
        const char *t1 = pick(&c->titles, &g->z_title, g->tp_title, g->tn_title, topic, p_topic);
        for (i = 0; i < 16; i++) {
            title.n = 0;
            if (vary_text(g, &title, t1, 0.15 + 0.05 * (double)i) > 0)
                break;
        }
    }
    if (rnd01() < 0.25) {
        const char *t2 = pick(&c->titles, &g->z_title, g->tp_title, g->tn_title, topic, p_topic);
        const char *sp = t2;
        int words = 0;
        b_str(&title, " : ");
        while (*sp && words < 5)
            if (*sp++ == ' ')
                words++;
        b_add(&title, t2, (size_t)(sp - t2) - (*sp ? 1 : 0));
    }
    /* Date: 2014-2025, with time and offset. */
    year = 2014 + (int)rnd_below(12);
    month = 1 + (int)rnd_below(12);
    day = 1 + (int)rnd_below(28);
    b_str(&doc, "---\ntitle: ");
    yaml_quote(&doc, title.p);
    b_printf(&doc, "\ndate: %04d-%02d-%02d %02d:%02d:00 %s\n", year, month, day,
             7 + (int)rnd_below(12), (int)rnd_below(60),
             (month >= 4 && month <= 10) ? "+02:00" : "+01:00");
    /* Taxonomy. */
    if (c->categories[coll].n) {
        add_unique(&cats, c->categories[coll].v[zipf_draw(&g->z_cat[coll])]);
        if (rnd01() < 0.2)
            add_unique(&cats, c->categories[coll].v[zipf_draw(&g->z_cat[coll])]);
    }
    if (cats.n) {
        b_str(&doc, "categories:\n");
        for (i = 0; i < cats.n; i++) {
            b_str(&doc, "- ");
            yaml_quote(&doc, cats.v[i]);
            b_str(&doc, "\n");
        }
    }
    ntags = (int)rnd_below(5);
    for (i = 0; i < (size_t)ntags; i++)
        add_unique(&tags, pick(&c->tags, &g->z_tag, g->tp_tag, g->tn_tag, topic, 0.6));
    if (tags.n) {
        b_str(&doc, "tags:\n");
        for (i = 0; i < tags.n; i++) {
            b_str(&doc, "- ");
            yaml_quote(&doc, tags.v[i]);
            b_str(&doc, "\n");
        }
    }
    if (c->chapeaux.n && rnd01() < 0.85) {
        buf ch = {0};
        vary_text(g, &ch, pick(&c->chapeaux, &g->z_chap, g->tp_chap, g->tn_chap, topic, p_topic),
                  0.1);
        if (ch.n > 450) { /* cut at a word boundary */
            char *sp = ch.p + 450;
            while (sp > ch.p && *sp != ' ')
                sp--;
            *sp = '\0';
        }
        b_str(&doc, "chapeau-text: ");
        yaml_quote(&doc, ch.p);
        b_str(&doc, "\n");
        free(ch.p);
    }
    b_str(&doc, "---\n");
    /* Body: paragraphs, some headings, lists and emphasis. */
    body_start = doc.n;
    while (doc.n - body_start < target) {
        double r = rnd01();
        if (c->headings.n && (doc.n == body_start ? r < 0.3 : r < 0.25)) {
            b_str(&doc, "\n## ");
            vary_text(g, &doc, pick(&c->headings, &g->z_head, g->tp_head, g->tn_head, topic,
                                    p_topic), 0.1);
            b_str(&doc, "\n");
        }
        b_str(&doc, "\n");
        if (rnd01() < 0.1) {
            /* A list of sentence beginnings. */
            int items = 2 + (int)rnd_below(3), j;
            for (j = 0; j < items; j++) {
                const char *src = pick(&c->paragraphs, &g->z_par, g->tp_par, g->tn_par, topic,
                                       p_topic);
                const char *e = src;
                int words = 0;
                while (*e && *e != '\n' && words < 12)
                    if (*e++ == ' ')
                        words++;
                b_str(&doc, "- ");
                {
                    char *frag = xstrndup(src, (size_t)(e - src));
                    vary_text(g, &doc, frag, 0.1);
                    free(frag);
                }
                b_str(&doc, "\n");
            }
        } else {
            buf para = {0};
            vary_text(g, &para, pick(&c->paragraphs, &g->z_par, g->tp_par, g->tn_par, topic,
                                     p_topic), 0.1);
            if (rnd01() < 0.15) {
                /* Emphasis or a link around a word in the middle. */
                char *sp = strchr(para.p + para.n / 2, ' ');
                char *ep = sp ? strchr(sp + 1, ' ') : NULL;
                if (sp && ep) {
                    int link = rnd01() < 0.5;
                    b_add(&doc, para.p, (size_t)(sp + 1 - para.p));
                    b_str(&doc, link ? "[" : "**");
                    b_add(&doc, sp + 1, (size_t)(ep - sp - 1));
                    if (link)
                        b_printf(&doc, "](https://www.numerique.gouv.fr/page-%u/)",
                                 (unsigned)rnd_below(5000));
                    else
                        b_str(&doc, "**");
                    b_str(&doc, ep);
                } else {
                    b_str(&doc, para.p);
                }
            } else {
                b_str(&doc, para.p);
            }
            b_str(&doc, "\n");
            free(para.p);
        }
    }
    slugify(slug, sizeof slug, title.p);
    snprintf(path, sizeof path, "%s/_%s/%s-%ld.md", outdir, collections[coll], slug, k);
    f = fopen(path, "wb");
    if (!f || fwrite(doc.p, 1, doc.n, f) != doc.n || fclose(f) != 0)
        die(path);
    free(title.p), free(doc.p), free(cats.v), free(cats.topic), free(tags.v), free(tags.topic);
}

static void write_config(const char *outdir)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/_config.yml", outdir);
    f = fopen(path, "w");
    if (!f)
        die(path);
    fputs("# Generated by bench/gen_corpus: a synthetic site for the benchmarks.\n"
          "title: bench\n"
          "timezone: Europe/Paris\n"
          "language: fr\n"
          "collections:\n"
          "  actualites:\n    output: true\n    permalink: \"/actualites/:title/\"\n"
          "  communiques:\n    output: true\n    permalink: \"/espace-presse/:title/\"\n"
          "  evenements:\n    output: true\n    permalink: \"/agenda/:title/\"\n"
          "  publications:\n    output: true\n    permalink: \"/publication/:title/\"\n",
          f);
    if (fclose(f) != 0)
        die(path);
}

int main(int argc, char **argv)
{
    const char *corpus_dir = getenv("PR_CORPUS");
    char defdir[4096];
    corpus c = {0};
    gen g = {0};
    long n, k;
    int coll;
    char *end;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: gen_corpus N OUTDIR [SEED]\n");
        return 2;
    }
    n = strtol(argv[1], &end, 10);
    if (*end || n < 1) {
        fprintf(stderr, "gen_corpus: N must be a positive number\n");
        return 2;
    }
    rng_state = argc == 4 ? strtoull(argv[3], NULL, 10) : 42;
    rng_state = rng_state * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!rng_state)
        rng_state = 1;
    if (!corpus_dir || !*corpus_dir) {
        /* $(dirname argv0)/../../shared/corpus */
        char self[4096], *slash;
        snprintf(self, sizeof self, "%s", argv[0]);
        slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(self, sizeof self, ".");
        snprintf(defdir, sizeof defdir, "%s/../../shared/corpus", self);
        corpus_dir = defdir;
    }
    read_corpus(&c, corpus_dir);

    g.c = &c;
    zipf_init(&g.z_par, c.paragraphs.n, 0.8, 1);
    zipf_init(&g.z_title, c.titles.n, 0.8, 1);
    zipf_init(&g.z_head, c.headings.n ? c.headings.n : 1, 0.8, 1);
    zipf_init(&g.z_chap, c.chapeaux.n ? c.chapeaux.n : 1, 0.8, 1);
    zipf_init(&g.z_word, c.words.n, 1.0, 0); /* already by frequency */
    zipf_init(&g.z_tag, c.tags.n ? c.tags.n : 1, 0.5, 1);
    zipf_init(&g.z_name, 40000, 1.0, 0);
    zipf_init(&g.z_topic, (size_t)c.ntopics, 0.7, 1);
    for (coll = 0; coll < NCOLL; coll++)
        zipf_init(&g.z_cat[coll], c.categories[coll].n ? c.categories[coll].n : 1, 0.3, 1);
    index_topics(&c.paragraphs, c.ntopics, &g.tp_par, &g.tn_par);
    index_topics(&c.titles, c.ntopics, &g.tp_title, &g.tn_title);
    index_topics(&c.headings, c.ntopics, &g.tp_head, &g.tn_head);
    index_topics(&c.chapeaux, c.ntopics, &g.tp_chap, &g.tn_chap);
    index_topics(&c.tags, c.ntopics, &g.tp_tag, &g.tn_tag);

    if (mkdir(argv[2], 0777) != 0 && errno != EEXIST)
        die(argv[2]);
    for (coll = 0; coll < NCOLL; coll++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/_%s", argv[2], collections[coll]);
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            die(path);
    }
    write_config(argv[2]);
    for (k = 1; k <= n; k++)
        write_page(&g, argv[2], k);
    fprintf(stderr, "gen_corpus: %ld pages in %s (%zu paragraphs, %zu titles, %zu words, %d topics)\n",
            n, argv[2], c.paragraphs.n, c.titles.n, c.words.n, c.ntopics);
    return 0;
}
