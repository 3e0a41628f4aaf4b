/*
 * tool_httpclient.c - a small HTTP/1.1 client for prsearchd's tests and
 * benchmark, speaking over a Unix socket (which wrk and curl's load modes
 * cannot) or TCP:
 *
 *   load      C keep-alive connections, each sending N requests (or for D
 *             seconds) round-robin over the targets; checks every answer is
 *             200 and, per target, that all bodies are equal apart from
 *             took_ms; prints counts, requests/s and latency percentiles
 *   pipeline  N requests in one write on one connection, then reads them all
 *   idle      opens C connections and holds them D seconds
 *
 * Usage: tool_httpclient MODE (-u SOCKET | -t HOST:PORT) [-c C] [-n N]
 *        [-d SECONDS] [-f TARGETS_FILE] [-o DUMP_DIR] [-x] [TARGET...]
 * (-x: do not compare bodies, for loads during a reindex)
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *unix_path, *tcp;
    int conns, reqs;
    double duration;
    const char *dump_dir;
    int no_compare;     /* -x: bodies may change (reindex under load) */
    char **targets;
    int ntargets;
};

struct shared {
    const struct opts *o;
    pthread_mutex_t lock;
    char **first_body; /* per target, normalised */
    long mismatched, ok, failed, reconnects;
    double *lat;       /* all latencies, ms */
    size_t nlat, caplat;
    double deadline;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const struct opts *o)
{
    int fd;
    if (o->unix_path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", o->unix_path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        char host[64];
        const char *colon = strrchr(o->tcp, ':');
        int one = 1;
        if (!colon) return -1;
        snprintf(host, sizeof host, "%.*s", (int)(colon - o->tcp), o->tcp);
        sa.sin_port = htons((unsigned short)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return -1;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fd);
            return -1;
        }
        if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A connection's input: responses are cut out of it one by one. */
struct reader {
    int fd;
    char *buf;
    size_t len, cap;
    char *out;      /* the last body handed out */
    size_t outcap;
};

/* Read one response; returns its status (body in *BODY, NUL-terminated,
 * valid until the next call) or -1 when the connection ended first. */
static int read_response(struct reader *r, char **body, size_t *blen)
{
    static const char sep[] = "\r\n\r\n";
    for (;;) {
        char *end = r->len ? memmem(r->buf, r->len, sep, 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - r->buf) + 4, clen = 0;
            char *cl, *p;
            int status = atoi(r->buf + 9);
            *end = '\0';
            for (p = r->buf; (p = strchr(p, '\n')); p++)
                if (strncasecmp(p + 1, "content-length:", 15) == 0) {
                    cl = p + 16;
                    clen = strtoul(cl, NULL, 10);
                }
            *end = '\r';
            while (r->len < head + clen) {
                if (r->cap < head + clen + 1) {
                    r->cap = head + clen + 1;
                    r->buf = realloc(r->buf, r->cap);
                }
                ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
                if (n <= 0) return -1;
                r->len += (size_t)n;
            }
            /* Hand out the body, then drop the response from the buffer. */
            if (r->outcap < clen + 1) {
                r->outcap = clen + 1;
                r->out = realloc(r->out, r->outcap);
            }
            memcpy(r->out, r->buf + head, clen);
            r->out[clen] = '\0';
            memmove(r->buf, r->buf + head + clen, r->len - head - clen);
            r->len -= head + clen;
            *body = r->out;
            *blen = clen;
            return status;
        }
        if (r->cap - r->len < 4096) {
            r->cap = r->cap * 2 + 8192;
            r->buf = realloc(r->buf, r->cap);
        }
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        r->len += (size_t)n;
    }
}

/* took_ms changes from one run to the next; everything else must not. */
static char *normalise(const char *body)
{
    char *s = strdup(body), *p = strstr(s, "\"took_ms\":");
    if (p) {
        char *q = p + 10;
        while (*q && *q != ',' && *q != '}') q++;
        memmove(p + 10, q, strlen(q) + 1);
    }
    return s;
}

static void check_body(struct shared *sh, int t, const char *body)
{
    char *n = normalise(body);
    pthread_mutex_lock(&sh->lock);
    if (!sh->first_body[t]) {
        sh->first_body[t] = n;
        n = NULL;
    } else if (strcmp(sh->first_body[t], n) != 0) {
        sh->mismatched++;
    }
    pthread_mutex_unlock(&sh->lock);
    free(n);
}

struct worker {
    struct shared *sh;
    int id;
    double *lat;
    size_t nlat, caplat;
    long ok, failed, reconnects;
};

static void *load_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct opts *o = sh->o;
    struct reader r = {-1, NULL, 0, 0, NULL, 0};
    char req[8192];
    for (long i = 0; o->duration > 0 ? now_s() < sh->deadline : i < o->reqs; i++) {
        int t = (int)((w->id + i) % o->ntargets), st;
        char *body;
        size_t blen;
        double t0;
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                         o->targets[t]);
        if (r.fd < 0) {
            r.fd = connect_to(o);
            r.len = 0;
            if (r.fd < 0) { w->failed++; usleep(1000); continue; }
        }
        t0 = now_s();
        if (send_all(r.fd, req, (size_t)n) < 0 || (st = read_response(&r, &body, &blen)) < 0) {
            close(r.fd);
            r.fd = -1;
            w->failed++;
            w->reconnects++;
            continue;
        }
        if (w->nlat == w->caplat) {
            w->caplat = w->caplat * 2 + 1024;
            w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
        }
        w->lat[w->nlat++] = (now_s() - t0) * 1e3;
        if (st == 200) {
            w->ok++;
            if (!o->no_compare)
                check_body(sh, t, body);
        } else {
            w->failed++;
            if (w->failed < 5)
                fprintf(stderr, "status %d for %s: %.200s\n", st, o->targets[t], body);
        }
    }
    if (r.fd >= 0) close(r.fd);
    free(r.buf);
    free(r.out);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void dump_bodies(const struct shared *sh)
{
    for (int t = 0; t < sh->o->ntargets; t++) {
        char path[4096];
        FILE *f;
        if (!sh->first_body[t]) continue;
        snprintf(path, sizeof path, "%s/%d.json", sh->o->dump_dir, t);
        if ((f = fopen(path, "w"))) {
            fputs(sh->first_body[t], f);
            fclose(f);
        }
    }
}

static int run_load(const struct opts *o)
{
    struct shared sh = {.o = o};
    struct worker *ws = calloc((size_t)o->conns, sizeof *ws);
    pthread_t *th = calloc((size_t)o->conns, sizeof *th);
    double t0, secs, p50 = 0, p99 = 0, max = 0;
    size_t nlat = 0, k = 0;
    double *all;
    pthread_mutex_init(&sh.lock, NULL);
    sh.first_body = calloc((size_t)o->ntargets, sizeof *sh.first_body);
    t0 = now_s();
    sh.deadline = t0 + o->duration;
    for (int i = 0; i < o->conns; i++) {
        ws[i].sh = &sh;
        ws[i].id = i;
        pthread_create(&th[i], NULL, load_main, &ws[i]);
    }
    for (int i = 0; i < o->conns; i++) {
        pthread_join(th[i], NULL);
        sh.ok += ws[i].ok;
        sh.failed += ws[i].failed;
        sh.reconnects += ws[i].reconnects;
        nlat += ws[i].nlat;
    }
    secs = now_s() - t0;
    all = malloc((nlat + 1) * sizeof *all);
    for (int i = 0; i < o->conns; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, nlat, sizeof *all, cmp_double);
    if (nlat) {
        p50 = all[nlat / 2];
        p99 = all[(size_t)((double)nlat * 0.99)];
        max = all[nlat - 1];
    }
    printf("requests=%ld ok=%ld failed=%ld mismatched=%ld rps=%.0f p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f\n", sh.ok + sh.failed, sh.ok, sh.failed, sh.mismatched,
           (double)(sh.ok + sh.failed) / secs, p50, p99, max);
    if (o->dump_dir) dump_bodies(&sh);
    for (int t = 0; t < o->ntargets; t++) free(sh.first_body[t]);
    free(sh.first_body);
    free(all);
    free(ws);
    free(th);
    return sh.failed || sh.mismatched ? 1 : 0;
}

static int run_pipeline(const struct opts *o)
{
    struct reader r = {connect_to(o), NULL, 0, 0, NULL, 0};
    size_t one = strlen(o->targets[0]) + 64, len = 0;
    char *reqs = malloc(one * (size_t)o->reqs);
    int got = 0, ok = 0;
    if (r.fd < 0) { printf("responses=0 status200=0 (cannot connect)\n"); return 1; }
    for (int i = 0; i < o->reqs; i++)
        len += (size_t)sprintf(reqs + len, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                               o->targets[i % o->ntargets]);
    if (send_all(r.fd, reqs, len) == 0)
        for (; got < o->reqs; got++) {
            char *body;
            size_t blen;
            int st = read_response(&r, &body, &blen);
            if (st < 0) break;
            ok += st == 200;
        }
    printf("responses=%d status200=%d\n", got, ok);
    close(r.fd);
    free(r.buf);
    free(r.out);
    free(reqs);
    return got == o->reqs && ok == got ? 0 : 1;
}

static int run_idle(const struct opts *o)
{
    int *fds = malloc((size_t)o->conns * sizeof *fds), opened = 0, alive = 0;
    for (int i = 0; i < o->conns; i++) {
        fds[i] = connect_to(o);
        opened += fds[i] >= 0;
    }
    printf("opened=%d\n", opened);
    fflush(stdout);
    usleep((useconds_t)(o->duration * 1e6));
    for (int i = 0; i < o->conns; i++) {
        char c;
        if (fds[i] < 0) continue;
        /* Still open when a read would block; closed when it says EOF. */
        ssize_t n = recv(fds[i], &c, 1, MSG_DONTWAIT);
        alive += n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        close(fds[i]);
    }
    printf("still_open=%d\n", alive);
    free(fds);
    return opened == o->conns ? 0 : 1;
}

static int read_targets(struct opts *o, const char *file)
{
    FILE *f = fopen(file, "r");
    char line[8192];
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line) continue;
        o->targets = realloc(o->targets, (size_t)(o->ntargets + 1) * sizeof *o->targets);
        o->targets[o->ntargets++] = strdup(line);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.conns = 1, .reqs = 1};
    const char *mode = argc > 1 ? argv[1] : "";
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "u:t:c:n:d:f:o:x")) != -1) {
        switch (opt) {
        case 'u': o.unix_path = optarg; break;
        case 't': o.tcp = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 'n': o.reqs = atoi(optarg); break;
        case 'd': o.duration = atof(optarg); break;
        case 'f':
            if (read_targets(&o, optarg) < 0) { perror(optarg); return 2; }
            break;
        case 'o': o.dump_dir = optarg; break;
        case 'x': o.no_compare = 1; break;
        default: return 2;
        }
    }
    for (int i = optind; i < argc; i++) {
        o.targets = realloc(o.targets, (size_t)(o.ntargets + 1) * sizeof *o.targets);
        o.targets[o.ntargets++] = strdup(argv[i]);
    }
    if ((!o.unix_path == !o.tcp) || o.conns < 1) {
        fprintf(stderr, "usage: tool_httpclient load|pipeline|idle (-u SOCKET | -t HOST:PORT) "
                        "[-c C] [-n N] [-d S] [-f FILE] [-o DIR] [TARGET...]\n");
        return 2;
    }
    int rc = 2;
    if (!strcmp(mode, "idle"))
        rc = run_idle(&o);
    else if (o.ntargets == 0)
        fprintf(stderr, "no targets\n");
    else if (!strcmp(mode, "load"))
        rc = run_load(&o);
    else if (!strcmp(mode, "pipeline"))
        rc = run_pipeline(&o);
    else
        fprintf(stderr, "unknown mode %s\n", mode);
    for (int i = 0; i < o.ntargets; i++)
        free(o.targets[i]);
    free(o.targets);
    return rc;
}
