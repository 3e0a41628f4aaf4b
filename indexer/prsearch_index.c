/*
 * prsearch-index - build or update a prsearch index (SPEC section 6).
 *
 * A thin front over lib/indexer.c: parses options, takes the run lock,
 * shows progress and rejected files, prints the summary. Exit status:
 * 0 all indexed, 1 some files rejected, 2 usage error or fatal (the index
 * is then exactly as before).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "index_db.h"
#include "indexer.h"
#include "pr_defaults.h"
#include "synonyms.h"

typedef struct cli {
    const char *db;
    int full, quiet, json, threads;
    const char *synonyms_path; /* --synonyms FILE ("" removes them) */
    char *synonyms;            /* its text, checked */
    int list_acronyms;
    long long max_size;
    int tty;             /* stderr is a terminal: show progress */
    double last_progress;
} cli;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: prsearch-index [-d DB] [--full] [-q] [--json] [--synonyms FILE] PATH...\n"
            "       prsearch-index [-d DB] --list-acronyms\n"
            "Index Jekyll Markdown pages (files, folders or site roots) for prsearch.\n\n"
            "  -d, --db PATH       index file (default: $" PR_ENV_DB ", else " PR_DEFAULT_DB ")\n"
            "      --full          rebuild every page instead of only the changed ones\n"
            "  -q, --quiet         print errors only\n"
            "      --json          print the run's counts as JSON on stdout\n"
            "      --max-size N    reject files over N bytes (default %u)\n"
            "      --threads N     parser threads (default: one per core)\n"
            "      --synonyms FILE store the synonyms file FILE in the index (see\n"
            "                      docs/synonyms.md); --synonyms '' removes it\n"
            "      --list-acronyms list the acronyms learned from the pages and the\n"
            "                      synonyms file's rules, one per line:\n"
            "                      ACRONYM<TAB>long form<TAB>pages (or 'synonyms')\n"
            "  -h, --help          this help\n"
            "      --version       print the version\n\n"
            "Exit status: 0 all indexed, 1 some files rejected, 2 error (index unchanged).\n",
            4u * 1024u * 1024u);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_report(void *ctx, const pr_index_report *r)
{
    cli *c = ctx;
    char line[4096];

    switch (r->event) {
    case PR_EVENT_REJECTED:
    case PR_EVENT_WARNING:
        if (r->event == PR_EVENT_WARNING && c->quiet)
            return;
        if (c->tty && !c->quiet)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "%s\n", pr_error_format(r->err, r->path, line, sizeof line));
        return;
    case PR_EVENT_PROGRESS:
        if (!c->tty || c->quiet || (now() - c->last_progress < 0.1 && r->done != r->total))
            return;
        c->last_progress = now();
        fprintf(stderr, "\r\033[Kindexing: %ld/%ld files", r->done, r->total);
        return;
    }
}

static int parse_number(const char *opt, const char *s, long long min, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    if (errno || *end || end == s || *out < min) {
        fprintf(stderr, "prsearch-index: %s: not a valid number: %s\n", opt, s);
        return -1;
    }
    return 0;
}

/* Returns the index of the first PATH, or -1 after a usage error, or -2
 * after --help/--version. */
static int parse_args(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"full", no_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},    {"json", no_argument, NULL, 'J'},
        {"max-size", required_argument, NULL, 'M'}, {"threads", required_argument, NULL, 'T'},
        {"synonyms", required_argument, NULL, 'S'}, {"list-acronyms", no_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},     {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    long long n;
    int o;

    while ((o = getopt_long(argc, argv, "d:qh", opts, NULL)) != -1) {
        switch (o) {
        case 'd': c->db = optarg; break;
        case 'F': c->full = 1; break;
        case 'q': c->quiet = 1; break;
        case 'J': c->json = 1; break;
        case 'M':
            if (parse_number("--max-size", optarg, 1, &n) != 0)
                return -1;
            c->max_size = n;
            break;
        case 'T':
            if (parse_number("--threads", optarg, 1, &n) != 0 || n > 16)
                return -1;
            c->threads = (int)n;
            break;
        case 'S': c->synonyms_path = optarg; break;
        case 'L': c->list_acronyms = 1; break;
        case 'h': usage(stdout); return -2;
        case 'V': printf("prsearch-index %s\n", PACKAGE_VERSION); return -2;
        default: usage(stderr); return -1;
        }
    }
    if (c->list_acronyms) {
        if (optind < argc) {
            fprintf(stderr, "prsearch-index: --list-acronyms takes no PATH\n");
            return -1;
        }
        return optind;
    }
    if (optind >= argc) {
        fprintf(stderr, "prsearch-index: no PATH given (try --help)\n");
        return -1;
    }
    return optind;
}

/* One run at a time: a lock file beside the index. A second run exits
 * at once rather than queueing behind the first (cron would pile them). */
static int take_lock(const char *db)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof path, "%s.lock", db);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "prsearch-index: cannot create lock file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "prsearch-index: another prsearch-index run is updating %s (lock %s); "
                        "try again when it ends\n", db, path);
        close(fd);
        return -1;
    }
    return fd;
}

static void print_summary(const cli *c, const pr_index_stats *s)
{
    if (c->tty && !c->quiet)
        fputs("\r\033[K", stderr);
    if (!c->quiet)
        fprintf(stderr,
                "indexed %ld files: %ld added, %ld updated, %ld removed, %ld unchanged, "
                "%ld rejected in %.2f s\n",
                s->files, s->added, s->updated, s->removed, s->unchanged, s->rejected,
                s->seconds);
    if (c->json) {
        json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I}", "files", (json_int_t)s->files,
                              "added", (json_int_t)s->added, "updated", (json_int_t)s->updated,
                              "removed", (json_int_t)s->removed, "unchanged",
                              (json_int_t)s->unchanged, "rejected", (json_int_t)s->rejected,
                              "seconds", s->seconds, "documents", (json_int_t)s->documents);
        char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4)) : NULL;
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(o);
    }
}

/* Read and check the synonyms file before anything is written. */
static int load_synonyms(cli *c)
{
    FILE *f;
    long n = 0;
    pr_error err;
    char line[4096];

    if (!c->synonyms_path)
        return 0;
    if (!*c->synonyms_path) {
        c->synonyms = strdup("");
        return c->synonyms ? 0 : -1;
    }
    f = fopen(c->synonyms_path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        n > 4 * 1024 * 1024 || !(c->synonyms = calloc(1, (size_t)n + 1)) ||
        fread(c->synonyms, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "prsearch-index: %s: %s\n", c->synonyms_path,
                f && n > 4 * 1024 * 1024 ? "too large (4 MiB at most)" : strerror(errno));
        if (f)
            fclose(f);
        free(c->synonyms);
        c->synonyms = NULL;
        return -1;
    }
    fclose(f);
    pr_error_clear(&err);
    if (pr_synonyms_check(c->synonyms, &err) != 0) {
        fprintf(stderr, "prsearch-index: %s\n", pr_error_format(&err, c->synonyms_path, line,
                                                                 sizeof line));
        free(c->synonyms);
        c->synonyms = NULL;
        return -1;
    }
    return 0;
}

static int print_pair(void *ctx, const char *left, const char *right, long long docs,
                      const char *origin)
{
    (void)ctx;
    if (!strcmp(origin, "learned"))
        printf("%s\t%s\t%lld\n", left, right, docs);
    else if (!strcmp(origin, "cancelled"))
        printf("!%s\t%s\t%lld\n", left, right, docs);
    else
        printf("%s\t%s\t%s\n", left, right, origin);
    return ferror(stdout) ? -1 : 0;
}

static int list_acronyms(const cli *c)
{
    pr_error err;
    sqlite3 *db;
    int rc;

    pr_error_clear(&err);
    db = pr_index_open(c->db, PR_INDEX_READONLY, &err);
    if (!db) {
        fprintf(stderr, "prsearch-index: %s\n", err.message);
        return 2;
    }
    rc = pr_synonyms_list(db, print_pair, NULL, &err);
    sqlite3_close(db);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "prsearch-index: %s\n", err.message[0] ? err.message : strerror(errno));
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {0};
    pr_index_options opts = {0};
    pr_index_stats stats;
    pr_error err;
    sqlite3 *db;
    int first, lock, rc;

    c.db = getenv(PR_ENV_DB) && *getenv(PR_ENV_DB) ? getenv(PR_ENV_DB) : PR_DEFAULT_DB;
    first = parse_args(&c, argc, argv);
    if (first == -2)
        return 0;
    if (first < 0)
        return 2;
    if (c.list_acronyms)
        return list_acronyms(&c);
    if (load_synonyms(&c) != 0)
        return 2;
    c.tty = isatty(STDERR_FILENO);
    if ((lock = take_lock(c.db)) < 0) {
        free(c.synonyms);
        return 2;
    }
    pr_error_clear(&err);
    db = pr_index_open(c.db, PR_INDEX_CREATE, &err);
    if (!db) {
        fprintf(stderr, "prsearch-index: %s\n", err.message);
        close(lock);
        free(c.synonyms);
        return 2;
    }
    opts.full = c.full;
    opts.threads = c.threads;
    opts.max_size = c.max_size;
    opts.synonyms = c.synonyms;
    rc = pr_index_run(db, argv + first, argc - first, &opts, &stats, on_report, &c, &err);
    if (rc != 0) {
        if (c.tty && !c.quiet)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "prsearch-index: %s (index unchanged)\n", err.message);
    } else {
        print_summary(&c, &stats);
    }
    if (sqlite3_close(db) != SQLITE_OK)
        fprintf(stderr, "prsearch-index: closing %s: %s\n", c.db, sqlite3_errmsg(db));
    close(lock);
    free(c.synonyms);
    if (rc != 0)
        return 2;
    return stats.rejected ? 1 : 0;
}
