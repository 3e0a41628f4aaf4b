/*
 * frontmatter.c - the YAML front matter of a Jekyll page (see frontmatter.h).
 *
 * First step of the document pipeline (document.c calls it on the file's
 * bytes once the BOM is gone): find the "---" ... "---" block the way Jekyll
 * does, hand the YAML between the markers to libyaml's document loader, and
 * pick the handful of keys prsearch cares about from the root mapping.
 * Everything else - unknown keys, nested maps, lists of maps - is skipped
 * without error, because real sites carry plenty of layout data there.
 *
 * libyaml reports errors with 0-based marks relative to the text it was
 * given; we translate them to 1-based line and byte column of the whole
 * file, so "path:line:col" points where an editor would.
 */
#include "frontmatter.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void pr_strlist_free(pr_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void pr_frontmatter_free(pr_frontmatter *fm)
{
    if (!fm)
        return;
    free(fm->title);
    free(fm->date);
    free(fm->chapeau_md);
    free(fm->permalink);
    pr_strlist_free(&fm->categories);
    pr_strlist_free(&fm->tags);
    memset(fm, 0, sizeof *fm);
    fm->published = 1;
}

/* ---- Locating the block ------------------------------------------------ */

/* Length of the line starting at P (up to END), without its line end;
 * *NEXT receives the start of the following line. */
static size_t line_at(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;

    *next = nl ? nl + 1 : end;
    if (stop > p && stop[-1] == '\r')
        stop--;
    return (size_t)(stop - p);
}

/* Is [P, P+N) the marker MARK ("---" or "...") followed only by blanks?
 * Jekyll accepts trailing spaces after the markers. */
static int is_marker(const char *p, size_t n, const char *mark)
{
    if (n < 3 || memcmp(p, mark, 3) != 0)
        return 0;
    for (size_t i = 3; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

/* Finds the YAML text of the block: sets *YAML_START, *YAML_END (the start
 * of the closing marker line) and *BODY. Returns 1 when SRC has a front
 * matter, 0 when it has none, -1 when it opens one and never closes it. */
static int locate_block(const char *src, size_t len, size_t *yaml_start,
                        size_t *yaml_end, size_t *body)
{
    const char *end = src + len, *next, *p;
    size_t n = line_at(src, end, &next);

    /* "---" alone on the first line, ended by a line break. */
    if (!is_marker(src, n, "---") || !memchr(src, '\n', (size_t)(next - src)))
        return 0;
    *yaml_start = (size_t)(next - src);
    for (p = next; p < end; p = next) {
        n = line_at(p, end, &next);
        if (is_marker(p, n, "---") || is_marker(p, n, "...")) {
            *yaml_end = (size_t)(p - src);
            *body = (size_t)(next - src);
            return 1;
        }
    }
    return -1;
}

/* ---- Errors ------------------------------------------------------------ */

/* Length of the line break libyaml sees at P, or 0: "\n", "\r\n", a lone
 * "\r", and also NEL, LS and PS. */
static size_t yaml_break_len(const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;

    if (*p == '\n')
        return 1;
    if (*p == '\r')
        return end - p >= 2 && p[1] == '\n' ? 2 : 1;
    if (end - p >= 2 && u[0] == 0xC2 && u[1] == 0x85)
        return 2;
    if (end - p >= 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
        return 3;
    return 0;
}

/* Turns a libyaml mark (0-based line and column in characters, counted the
 * YAML way, relative to the YAML text at SRC + YAML_START) into the 1-based
 * line and byte column an editor shows for the file, where "\n", "\r\n"
 * and a lone "\r" end a line (old Mac files use the last). */
static void mark_to_pos(const char *src, size_t len, size_t yaml_start,
                        yaml_mark_t m, int *line, int *col)
{
    const char *p = src + yaml_start, *end = src + len, *q, *bol;
    size_t l = 0, c = 0, br;

    /* Find the mark's byte: M.line YAML lines down, M.column characters in
     * (UTF-8 continuation bytes belong to the character before them). */
    while (l < m.line && p < end) {
        br = yaml_break_len(p, end);
        p += br ? br : 1;
        if (br)
            l++;
    }
    while (c < m.column && p < end && !yaml_break_len(p, end)) {
        p++;
        while (p < end && ((unsigned char)*p & 0xC0) == 0x80)
            p++;
        c++;
    }
    /* Then count the file's own lines up to it. */
    *line = 1;
    for (q = bol = src; q < p; q++)
        if (*q == '\n' || (*q == '\r' && (q + 1 == end || q[1] != '\n'))) {
            (*line)++;
            bol = q + 1;
        }
    *col = (int)(p - bol) + 1;
}

static int yaml_error(const yaml_parser_t *ps, const char *src, size_t len,
                      size_t yaml_start, pr_error *err)
{
    int line, col, cline, ccol;
    const char *problem = ps->problem ? ps->problem : "invalid YAML";

    mark_to_pos(src, len, yaml_start, ps->problem_mark, &line, &col);
    if (!ps->context)
        return pr_error_set(err, line, col, "front matter: %s", problem);
    mark_to_pos(src, len, yaml_start, ps->context_mark, &cline, &ccol);
    if (cline == line && ccol == col)
        return pr_error_set(err, line, col, "front matter: %s %s", problem, ps->context);
    /* "End of stream" always happens at the closing "---": pointing there
     * helps nobody. What is unclosed (a quote, a bracket) starts at the
     * context mark, and that is what the author must fix. */
    if (strstr(problem, "end of stream"))
        return pr_error_set(err, cline, ccol, "front matter: %s %s (opened here, "
                            "still open at line %d)", problem, ps->context, line);
    return pr_error_set(err, line, col, "front matter: %s %s (started at line %d, column %d)",
                        problem, ps->context, cline, ccol);
}

/* ---- Values ------------------------------------------------------------ */

static char *dup_scalar(const yaml_node_t *n)
{
    size_t len = n->data.scalar.length;
    char *s = malloc(len + 1);

    if (s) {
        memcpy(s, n->data.scalar.value, len);
        s[len] = '\0';
    }
    return s;
}

/* YAML's null, as a plain (unquoted) scalar only: '~' in quotes is text. */
static int is_null(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;

    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return n->data.scalar.length == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
           !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The string value of a scalar node, or NULL for anything else (a list or
 * map where a string was expected is ignored like an unknown key). */
static int set_string(char **dst, const yaml_node_t *n)
{
    char *s;

    if (!n || n->type != YAML_SCALAR_NODE || is_null(n))
        return 0;
    if (!(s = dup_scalar(n)))
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

static int strlist_push(pr_strlist *l, const yaml_node_t *n)
{
    char **items;
    char *s;
    size_t i = 0, len = n->data.scalar.length;
    const char *v = (const char *)n->data.scalar.value;

    /* Blank items ("- ") say nothing; surrounding blanks neither. */
    while (i < len && isspace((unsigned char)v[i]))
        i++;
    while (len > i && isspace((unsigned char)v[len - 1]))
        len--;
    if (i == len)
        return 0;
    if (!(items = realloc(l->items, (l->n + 1) * sizeof *items)))
        return -1;
    l->items = items;
    if (!(s = malloc(len - i + 1)))
        return -1;
    memcpy(s, v + i, len - i);
    s[len - i] = '\0';
    l->items[l->n++] = s;
    return 0;
}

/* Adds the strings of N to L: a scalar is one item; a sequence gives its
 * scalars as written (numbers and booleans keep their YAML text), nested
 * sequences are flattened and maps skipped. DEPTH stops alias loops. */
static int strlist_add(pr_strlist *l, yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 8)
        return 0;
    if (n->type == YAML_SCALAR_NODE)
        return is_null(n) ? 0 : strlist_push(l, n);
    if (n->type != YAML_SEQUENCE_NODE)
        return 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++)
        if (strlist_add(l, doc, yaml_document_get_node(doc, *it), depth + 1) < 0)
            return -1;
    return 0;
}

static int scalar_is(const yaml_node_t *n, const char *const *words)
{
    for (; *words; words++)
        if (!strcmp((const char *)n->data.scalar.value, *words))
            return 1;
    return 0;
}

/* Jekyll (Ruby's Psych, YAML 1.1) reads these plain scalars as false; a
 * quoted "false" is a non-empty string, hence true, and the page is
 * published - we follow the site generator, not the intent. */
static void set_published(int *dst, const yaml_node_t *n)
{
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
                                     "off", "Off", "OFF", "n", "N", NULL};

    if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        *dst = !scalar_is(n, no);
}

/* ---- Dates --------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !leap);
}

/* Reads exactly N digits at *P into *V. */
static int digits(const char **p, const char *end, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return 0;
        *v = *v * 10 + (**p - '0');
    }
    return 1;
}

/* Reads 1 or 2 digits (YAML allows "9:05" hours and "+1" offsets). */
static int digits12(const char **p, const char *end, int *v)
{
    if (!digits(p, end, 1, v))
        return 0;
    if (*p < end && isdigit((unsigned char)**p))
        *v = *v * 10 + (*(*p)++ - '0');
    return 1;
}

/* "YYYY-MM-DD" at P (the calendar day); returns its end or NULL. */
static const char *parse_ymd(const char *p, const char *end, int *y, int *m, int *d)
{
    if (!digits(&p, end, 4, y) || p >= end || *p++ != '-' || !digits12(&p, end, m) ||
        p >= end || *p++ != '-' || !digits12(&p, end, d) || !valid_ymd(*y, *m, *d))
        return NULL;
    return p;
}

/* The optional "[Tt ]HH:MM[:SS[.frac]]" and zone of a YAML timestamp:
 * seconds from midnight into *SECS, zone offset in seconds into *OFF. */
static int parse_time(const char *p, const char *end, int *secs, int *off)
{
    int h, mi, s = 0, oh = 0, om = 0, sign;

    *secs = *off = 0;
    if (p == end)
        return 1;
    if (*p != 'T' && *p != 't' && *p != ' ' && *p != '\t')
        return 0;
    while (p < end && (*p == ' ' || *p == '\t' || *p == 'T' || *p == 't'))
        p++;
    if (!digits12(&p, end, &h) || p >= end || *p++ != ':' || !digits(&p, end, 2, &mi))
        return 0;
    if (p < end && *p == ':' && (p++, !digits(&p, end, 2, &s)))
        return 0;
    if (p < end && *p == '.')
        for (p++; p < end && isdigit((unsigned char)*p); p++)
            ;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (h > 23 || mi > 59 || s > 60)
        return 0;
    *secs = h * 3600 + mi * 60 + s;
    if (p == end)
        return 1;
    if (*p == 'Z' || *p == 'z')
        return p + 1 == end;
    if (*p != '+' && *p != '-')
        return 0;
    sign = *p++ == '-' ? -1 : 1;
    if (!digits12(&p, end, &oh))
        return 0;
    if (p < end && *p == ':')
        p++;
    if (p < end && !digits(&p, end, 2, &om))
        return 0;
    if (p != end || oh > 23 || om > 59)
        return 0;
    *off = sign * (oh * 3600 + om * 60);
    return 1;
}

/* A YAML timestamp: the date as written (the calendar day in the
 * timestamp's own offset, which is what the site shows) and the instant in
 * UTC. A time without an offset is taken as UTC: Jekyll would use the
 * site's timezone, which this layer does not know. */
static int parse_timestamp(const char *v, size_t len, char out[11], long long *ts)
{
    const char *end = v + len, *p;
    int y, m, d, secs, off;

    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        end = v + --len;
    if (!(p = parse_ymd(v, end, &y, &m, &d)) || !parse_time(p, end, &secs, &off))
        return 0;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    *ts = days_from_civil(y, m, d) * 86400 + secs - off;
    return 1;
}

static int set_date(pr_frontmatter *fm, const yaml_node_t *n)
{
    char buf[11];
    long long ts;

    if (!n || n->type != YAML_SCALAR_NODE ||
        !parse_timestamp((const char *)n->data.scalar.value, n->data.scalar.length, buf, &ts))
        return 0; /* not a date: the file name may still give one */
    free(fm->date);
    if (!(fm->date = strdup(buf)))
        return -1;
    fm->date_ts = ts;
    return 0;
}

int pr_date_from_filename(const char *basename, char out[11], long long *ts)
{
    const char *slash = strrchr(basename, '/');
    const char *p, *end;
    int y, m, d;

    if (slash)
        basename = slash + 1;
    end = basename + strlen(basename);
    /* Exactly "YYYY-MM-DD-": Jekyll's post names are zero-padded. */
    if (end - basename < 11 || basename[10] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? basename[i] != '-' : !isdigit((unsigned char)basename[i]))
            return 0;
    if (!(p = parse_ymd(basename, basename + 10, &y, &m, &d)) || p != basename + 10)
        return 0;
    memcpy(out, basename, 10);
    out[10] = '\0';
    *ts = days_from_civil(y, m, d) * 86400;
    return 1;
}

/* ---- The mapping ---------------------------------------------------------- */

static int set_field(pr_frontmatter *fm, yaml_document_t *doc, const char *key,
                     yaml_node_t *v)
{
    if (!strcmp(key, "title"))
        return set_string(&fm->title, v);
    if (!strcmp(key, "date"))
        return set_date(fm, v);
    if (!strcmp(key, "chapeau-text"))
        return set_string(&fm->chapeau_md, v);
    if (!strcmp(key, "permalink"))
        return set_string(&fm->permalink, v);
    if (!strcmp(key, "published"))
        return set_published(&fm->published, v), 0;
    /* Jekyll reads the singular keys too. A repeated key replaces. */
    if (!strcmp(key, "categories") || !strcmp(key, "category")) {
        pr_strlist_free(&fm->categories);
        return strlist_add(&fm->categories, doc, v, 0);
    }
    if (!strcmp(key, "tags") || !strcmp(key, "tag")) {
        pr_strlist_free(&fm->tags);
        return strlist_add(&fm->tags, doc, v, 0);
    }
    return 0;
}

static int read_mapping(pr_frontmatter *fm, yaml_document_t *doc, yaml_node_t *root,
                        const char *src, size_t len, size_t yaml_start, pr_error *err)
{
    int line, col;

    if (!root)
        return 0; /* "---\n---": an empty front matter is fine */
    if (root->type == YAML_SCALAR_NODE && is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE) {
        mark_to_pos(src, len, yaml_start, root->start_mark, &line, &col);
        return pr_error_set(err, line, col, "front matter: not a mapping of keys to values");
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            continue;
        if (set_field(fm, doc, (const char *)k->data.scalar.value,
                      yaml_document_get_node(doc, pr->value)) < 0)
            return pr_error_set(err, 0, 0, "out of memory");
    }
    return 0;
}

static int load_yaml(pr_frontmatter *fm, const char *src, size_t len, size_t ys, size_t ye,
                     pr_error *err)
{
    yaml_parser_t ps;
    yaml_document_t doc;
    int rc;

    if (!yaml_parser_initialize(&ps))
        return pr_error_set(err, 0, 0, "out of memory");
    yaml_parser_set_input_string(&ps, (const unsigned char *)src + ys, ye - ys);
    yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
    if (!yaml_parser_load(&ps, &doc)) {
        rc = yaml_error(&ps, src, len, ys, err);
        yaml_parser_delete(&ps);
        return rc;
    }
    rc = read_mapping(fm, &doc, yaml_document_get_root_node(&doc), src, len, ys, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&ps);
    return rc;
}

int pr_frontmatter_parse(const char *src, size_t len, pr_frontmatter *fm,
                         size_t *body_offset, pr_error *err)
{
    size_t ys = 0, ye = 0, body = 0;
    int found;

    memset(fm, 0, sizeof *fm);
    fm->published = 1;
    *body_offset = 0;
    pr_error_clear(err);
    found = locate_block(src, len, &ys, &ye, &body);
    if (found == 0)
        return 0;
    if (found < 0)
        return pr_error_set(err, 1, 1, "front matter: opening '---' line is never closed "
                            "by a '---' or '...' line");
    fm->present = 1;
    if (load_yaml(fm, src, len, ys, ye, err) < 0) {
        pr_frontmatter_free(fm);
        return -1;
    }
    *body_offset = body;
    return 0;
}
