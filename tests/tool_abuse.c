/*
 * tool_abuse.c - hostile clients for tests/t_abuse.sh and bench/soak.sh:
 * what a visitor (or a bot) can do to prsearchd that a polite client never
 * does. Built by the test itself (cc -O2 -o tool_abuse tool_abuse.c -lpthread).
 *
 *   flood      open C connections at once (non-blocking connects, retried
 *              while the listen queue is full), send GET /health on each,
 *              read what comes back for D seconds
 *   slowloris  C connections each sending a never-ending request head one
 *              byte every I seconds; a connection cut by the server is
 *              replaced, for D seconds; reports how long each one lived
 *   random     C connections each sending random bytes (up to B per
 *              connection), then waiting up to D seconds to be answered or
 *              closed
 *   biguri     C connections each sending a request line with a B-byte
 *              target; expects 414 and a close
 *   slowread   C connections each pipelining -b requests for the target ARG
 *              and never reading the answers, held D seconds (what the
 *              daemon buffers for clients that do not read)
 *   raw        send the argument (C escapes \r \n \0 \xHH decoded) on one
 *              connection, print what comes back until close or D seconds
 *   monitor    only the monitor below, for D seconds or until SIGTERM/SIGINT
 *   soak       bench/soak.sh's load: C keep-alive connections sending the
 *              targets of -f round-robin for D seconds, at most -R requests
 *              a second in all (0: as fast as answered); one line per
 *              interval (-i seconds) with requests, errors, p50/p99/max
 *
 * Every mode can also watch the daemon while it runs:
 *   -m SOCKET  a keep-alive connection on the Unix socket asks /health every
 *              50 ms (-r MS to change; reconnecting if cut); reports count,
 *              non-200 answers, slowest, 99th percentile, and how many took
 *              longer than -L MS (default 50)
 *   -p PID     samples the daemon's VmRSS as often; reports start, max, end
 *
 * Output: one line of key=value pairs on stdout (soak: one per interval and
 * a total). Exit 0, or 2 on usage errors; the caller judges the figures.
 *
 * Usage: tool_abuse MODE (-u SOCKET | -t HOST:PORT) [-c C] [-d SECONDS]
 *        [-i SECONDS] [-b BYTES] [-m SOCKET] [-r MS] [-L MS] [-p PID] [-f FILE]
 *        [-R RPS] [ARG]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *unix_path, *tcp, *monitor_sock, *targets_file;
    int conns;
    double duration, interval, period;
    long bytes;
    long pid;
    double rate, limit_ms;
    const char *arg;
};

static struct opts O = {.conns = 1, .duration = 3, .interval = 2, .period = 0.05, .bytes = 4096,
                        .limit_ms = 50};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts;
    if (s <= 0) return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* --- connecting ------------------------------------------------------ */

static int make_addr(const char *unix_path, const char *tcp, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (unix_path) {
        struct sockaddr_un *sa = (struct sockaddr_un *)ss;
        sa->sun_family = AF_UNIX;
        snprintf(sa->sun_path, sizeof sa->sun_path, "%s", unix_path);
        *len = sizeof *sa;
        return 0;
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)ss;
        char host[64];
        const char *colon = strrchr(tcp, ':');
        if (!colon) return -1;
        snprintf(host, sizeof host, "%.*s", (int)(colon - tcp), tcp);
        sa->sin_family = AF_INET;
        sa->sin_port = htons((unsigned short)atoi(colon + 1));
        *len = sizeof *sa;
        return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
    }
}

/* A blocking connection; -1 on failure. */
static int connect_blocking(const char *unix_path, const char *tcp)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;
    if (make_addr(unix_path, tcp, &ss, &len) < 0) return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    if (ss.ss_family == AF_INET) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* A non-blocking connection to the target: the fd, or -1 (EAGAIN: the
 * listen queue of a Unix socket is full, try again), or -2 (failure). */
static int connect_nb(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;
    if (make_addr(O.unix_path, O.tcp, &ss, &len) < 0) return -2;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -2;
    if (ss.ss_family == AF_INET) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return e == EAGAIN ? -1 : -2;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = {fd, POLLOUT, 0};
            if (poll(&pf, 1, 5000) <= 0) return -1;
            continue;
        }
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* "HTTP/1.1 503 ..." -> 503; 0 when BUF does not start with a status line. */
static int status_of(const char *buf, size_t len)
{
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') return 0;
    for (int i = 9; i < 12; i++)
        if (buf[i] < '0' || buf[i] > '9') return 0;
    return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* --- the monitor ------------------------------------------------------ */

struct monitor {
    pthread_t thread;
    volatile int stop;
    long n, bad, over;
    double max_ms, sum_ms, *lat;
    size_t caplat;
    long rss_start, rss_max, rss_end, rss_samples;
};
static struct monitor M;

static long rss_kb(long pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!(f = fopen(path, "r"))) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* One GET /health on FD (keep-alive); its status, or -1 if the connection
 * broke. The whole answer is read (it is small and has Content-Length). */
static int health_once(int fd)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: monitor\r\n\r\n";
    char buf[2048];
    size_t len = 0;
    if (send_all(fd, req, sizeof req - 1) < 0) return -1;
    for (;;) {
        ssize_t n;
        char *end;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 5000) <= 0) return -1;
        n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n"))) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t want = (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 17, NULL, 10) : 0);
            if (len >= want || len == sizeof buf - 1) {
                int st = status_of(buf, len);
                if (strcasestr(buf, "\r\nConnection: close")) return -st - 1000;
                return st;
            }
        }
    }
}

static void *monitor_main(void *arg)
{
    int fd = -1;
    (void)arg;
    while (!M.stop) {
        if (O.pid > 0) {
            long kb = rss_kb(O.pid);
            if (kb > 0) {
                if (!M.rss_samples++) M.rss_start = kb;
                if (kb > M.rss_max) M.rss_max = kb;
                M.rss_end = kb;
            }
        }
        if (O.monitor_sock) {
            double t0 = now_s(), ms;
            int st;
            if (fd < 0) fd = connect_blocking(O.monitor_sock, NULL);
            st = fd < 0 ? -1 : health_once(fd);
            ms = (now_s() - t0) * 1e3;
            M.n++;
            if (st < -1) { /* answered, then closed: reconnect next time */
                st = -st - 1000;
                close(fd);
                fd = -1;
            }
            if (st != 200) {
                M.bad++;
                if (fd >= 0 && st < 0) { close(fd); fd = -1; }
                if (M.bad <= 3) fprintf(stderr, "monitor: /health status %d after %.1f ms\n", st, ms);
            }
            if (ms > M.max_ms) M.max_ms = ms;
            if (ms > O.limit_ms) M.over++;
            M.sum_ms += ms;
            if ((size_t)M.n > M.caplat) {
                M.caplat = M.caplat * 2 + 1024;
                M.lat = realloc(M.lat, M.caplat * sizeof *M.lat);
            }
            M.lat[M.n - 1] = ms;
        }
        sleep_s(O.period);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static void monitor_start(void)
{
    if (O.monitor_sock || O.pid > 0)
        pthread_create(&M.thread, NULL, monitor_main, NULL);
}

static void monitor_stop(void)
{
    if (!O.monitor_sock && O.pid <= 0) return;
    M.stop = 1;
    pthread_join(M.thread, NULL);
    if (O.monitor_sock) {
        double p99 = 0;
        if (M.n) {
            qsort(M.lat, (size_t)M.n, sizeof *M.lat, cmp_double);
            p99 = M.lat[(size_t)((double)M.n * 0.99)];
        }
        printf(" health_n=%ld health_bad=%ld health_max_ms=%.1f health_p99_ms=%.1f "
               "health_avg_ms=%.2f health_over_limit=%ld", M.n, M.bad, M.max_ms, p99,
               M.n ? M.sum_ms / (double)M.n : 0.0, M.over);
    }
    if (O.pid > 0)
        printf(" rss_start_kb=%ld rss_max_kb=%ld rss_end_kb=%ld", M.rss_start, M.rss_max,
               M.rss_end);
}

/* --- flood ------------------------------------------------------------- */

enum { S_CONNECTING, S_SENT, S_DONE };

struct fconn {
    int fd, state, status, closed;
    size_t got;
    char head[16];
};

static int run_flood(void)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: flood\r\n\r\n";
    int n = O.conns, opened = 0, failed = 0, i;
    struct fconn *c = calloc((size_t)n, sizeof *c);
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    long s200 = 0, s503 = 0, sother = 0, noanswer = 0, closed = 0, still_open = 0, hanging = 0;
    double t0 = now_s(), t_open, deadline;
    monitor_start();
    /* Open them all as fast as the kernel lets us. */
    for (i = 0; i < n; i++) {
        int fd;
        double give_up = now_s() + 10;
        while ((fd = connect_nb()) == -1 && now_s() < give_up)
            sleep_s(0.0005); /* Unix listen queue full: the daemon is accepting */
        c[i].fd = fd < 0 ? -1 : fd;
        if (fd < 0) failed++;
        else opened++;
    }
    t_open = now_s() - t0;
    deadline = now_s() + O.duration;
    while (now_s() < deadline) {
        int active = 0, k;
        for (i = 0; i < n; i++) {
            pf[i].fd = c[i].fd >= 0 && c[i].state != S_DONE ? c[i].fd : -1;
            pf[i].events = c[i].state == S_CONNECTING ? POLLOUT : POLLIN;
            pf[i].revents = 0;
            active += pf[i].fd >= 0;
        }
        if (!active) break;
        k = poll(pf, (nfds_t)n, 100);
        if (k <= 0) continue;
        for (i = 0; i < n; i++) {
            struct fconn *x = &c[i];
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            if (x->state == S_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err || send_all(x->fd, req, sizeof req - 1) < 0) {
                    x->state = S_DONE;
                    x->closed = 1;
                    continue;
                }
                x->state = S_SENT;
                continue;
            }
            for (;;) {
                char buf[4096];
                ssize_t r = recv(x->fd, buf, sizeof buf, MSG_DONTWAIT);
                if (r > 0) {
                    size_t take = x->got < sizeof x->head ? sizeof x->head - x->got : 0;
                    memcpy(x->head + x->got, buf, take < (size_t)r ? take : (size_t)r);
                    x->got += (size_t)r;
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    x->closed = 1;
                    x->state = S_DONE;
                    close(x->fd); /* a polite client closes on EOF */
                    x->fd = -1;
                }
                break;
            }
        }
    }
    for (i = 0; i < n; i++) {
        int st = status_of(c[i].head, c[i].got < sizeof c[i].head ? c[i].got : sizeof c[i].head);
        if (st == 200) s200++;
        else if (st == 503) s503++;
        else if (st) sother++;
        else noanswer++;
        if (!st && !c[i].closed && c[i].fd >= 0) hanging++; /* neither answered nor closed */
        if (c[i].closed) closed++;
        else if (c[i].fd >= 0) still_open++;
        if (c[i].fd >= 0) close(c[i].fd);
    }
    printf("opened=%d connect_failed=%d open_s=%.2f status200=%ld status503=%ld other=%ld "
           "no_answer=%ld closed_by_server=%ld still_open=%ld hanging=%ld", opened, failed,
           t_open, s200, s503, sother, noanswer, closed, still_open, hanging);
    monitor_stop();
    printf("\n");
    free(c);
    free(pf);
    return 0;
}

/* --- slowloris ---------------------------------------------------------- */

struct sconn {
    int fd;
    size_t sent;
    double first, next;
    char got[16];
    size_t ngot;
};

static int run_slowloris(void)
{
    /* A head that never ends: a header value growing one byte at a time. */
    static const char start[] = "GET /search?q=eig HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
    int n = O.conns;
    struct sconn *c = calloc((size_t)n, sizeof *c);
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    long opened = 0, cut408 = 0, cut_other = 0, got200 = 0, connect_failed = 0, bytes = 0;
    double t_end, max_life = 0, sum_life = 0;
    long lives = 0;
    int i;
    monitor_start();
    t_end = now_s() + O.duration;
    for (i = 0; i < n; i++) {
        c[i].fd = -1;
        /* Spread the first bytes over one interval, as real bots do. */
        c[i].next = now_s() + O.interval * i / n;
    }
    while (now_s() < t_end) {
        double now = now_s(), wait = 0.2;
        for (i = 0; i < n; i++) {
            struct sconn *x = &c[i];
            if (x->fd < 0 && now >= x->next) {
                x->fd = connect_blocking(O.unix_path, O.tcp);
                if (x->fd < 0) { connect_failed++; x->next = now + 0.5; continue; }
                opened++;
                x->sent = 0;
                x->ngot = 0;
                x->first = 0;
            }
            if (x->fd >= 0 && now >= x->next) {
                char ch = x->sent < sizeof start - 1 ? start[x->sent] : 'z';
                if (send(x->fd, &ch, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
                    if (!x->sent) x->first = now;
                    x->sent++;
                    bytes++;
                }
                x->next = now + O.interval;
            }
            if (x->fd >= 0 && x->next - now < wait) wait = x->next - now;
        }
        for (i = 0; i < n; i++) {
            pf[i].fd = c[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        if (poll(pf, (nfds_t)n, wait > 0 ? (int)(wait * 1000) + 1 : 0) <= 0) continue;
        now = now_s();
        for (i = 0; i < n; i++) {
            struct sconn *x = &c[i];
            char buf[4096];
            ssize_t r;
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            r = recv(x->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r > 0) {
                size_t take = sizeof x->got - x->ngot;
                if (take > (size_t)r) take = (size_t)r;
                memcpy(x->got + x->ngot, buf, take);
                x->ngot += take;
                if (status_of(x->got, x->ngot) == 200) got200++;
                continue; /* the close follows */
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            /* Cut by the server: how long after its first byte? */
            {
                int st = status_of(x->got, x->ngot);
                double life = x->first ? now - x->first : 0;
                if (st == 408) cut408++;
                else cut_other++;
                if (life > max_life) max_life = life;
                sum_life += life;
                lives++;
            }
            close(x->fd);
            x->fd = -1;
            x->next = now; /* replace it at once */
        }
    }
    {
        long still = 0;
        for (i = 0; i < n; i++)
            if (c[i].fd >= 0) { still++; close(c[i].fd); }
        printf("opened=%ld connect_failed=%ld bytes_sent=%ld cut_408=%ld cut_other=%ld "
               "status200=%ld max_life_s=%.2f avg_life_s=%.2f open_at_end=%ld", opened,
               connect_failed, bytes, cut408, cut_other, got200, max_life,
               lives ? sum_life / (double)lives : 0.0, still);
    }
    monitor_stop();
    printf("\n");
    free(c);
    free(pf);
    return 0;
}

/* --- random bytes, huge targets ---------------------------------------- */

struct job_stats {
    pthread_mutex_t lock;
    long answered, closed_silently, hung, malformed, send_failed, statuses[6], codes[600];
    double max_close_s;
    int next;
};
static struct job_stats JS = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Wait for FD to be answered and closed by the server, up to LIMIT
 * seconds. Returns the status of the answer (0: none), -1 if still open. */
static int await_close(int fd, double limit, double *took)
{
    char head[16];
    size_t ngot = 0;
    double t0 = now_s();
    for (;;) {
        char buf[65536];
        ssize_t r;
        struct pollfd pf = {fd, POLLIN, 0};
        double left = t0 + limit - now_s();
        if (left <= 0) { *took = now_s() - t0; return -1; }
        if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0) continue;
        r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            size_t take = sizeof head - ngot;
            if (take > (size_t)r) take = (size_t)r;
            memcpy(head + ngot, buf, take);
            ngot += take;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        *took = now_s() - t0;
        if (ngot == 0) return 0;
        return status_of(head, ngot) ? status_of(head, ngot) : -2;
    }
}

static void tally(int st, double took)
{
    pthread_mutex_lock(&JS.lock);
    if (st == -1) JS.hung++;
    else if (st == -2) JS.malformed++;
    else if (st == 0) JS.closed_silently++;
    else {
        JS.answered++;
        JS.statuses[st / 100 <= 5 ? st / 100 : 0]++;
        if (st < 600) JS.codes[st]++;
    }
    if (st != -1 && took > JS.max_close_s) JS.max_close_s = took;
    pthread_mutex_unlock(&JS.lock);
}

static int take_job(void)
{
    int k;
    pthread_mutex_lock(&JS.lock);
    k = JS.next < O.conns ? JS.next++ : -1;
    pthread_mutex_unlock(&JS.lock);
    return k;
}

/* Three kinds of junk, in turn: random bytes; a request line cut into
 * random bytes (the parser is inside a target); a valid request followed
 * by random bytes (junk pipelined after an answer). */
static const char *const junk_prefix[3] = {
    "", "GET /search?q=", "GET /health HTTP/1.1\r\nHost: junk\r\n\r\n"};

static void *random_main(void *arg)
{
    char *buf = malloc((size_t)O.bytes + 64);
    int k;
    (void)arg;
    while ((k = take_job()) >= 0) {
        unsigned len;
        size_t plen = strlen(junk_prefix[k % 3]);
        int fd = connect_blocking(O.unix_path, O.tcp), st;
        double took;
        if (fd < 0) { pthread_mutex_lock(&JS.lock); JS.send_failed++; pthread_mutex_unlock(&JS.lock); continue; }
        getrandom(&len, sizeof len, 0);
        len = 1 + len % (unsigned)O.bytes;
        memcpy(buf, junk_prefix[k % 3], plen);
        getrandom(buf + plen, len, 0);
        len += (unsigned)plen;
        /* Most junk is refused at its first bytes; the rest must be cut
         * by the request timeout. A send error means we were cut early. */
        send_all(fd, buf, len);
        st = await_close(fd, O.duration, &took);
        tally(st, took);
        close(fd);
    }
    free(buf);
    return NULL;
}

static void *biguri_main(void *arg)
{
    size_t len = (size_t)O.bytes + 64;
    char *buf = malloc(len);
    (void)arg;
    memcpy(buf, "GET /search?q=", 14);
    memset(buf + 14, 'a', (size_t)O.bytes);
    len = 14 + (size_t)O.bytes;
    len += (size_t)sprintf(buf + len, " HTTP/1.1\r\nHost: big\r\n\r\n");
    while (take_job() >= 0) {
        int fd = connect_blocking(O.unix_path, O.tcp), st;
        double took;
        if (fd < 0) { pthread_mutex_lock(&JS.lock); JS.send_failed++; pthread_mutex_unlock(&JS.lock); continue; }
        /* The server answers 414 long before the end and stops reading:
         * the rest may not be sent (reset), which is fine. */
        fcntl(fd, F_SETFL, O_NONBLOCK);
        {
            size_t off = 0;
            double t0 = now_s();
            while (off < len && now_s() - t0 < 3) {
                ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
                if (w > 0) { off += (size_t)w; continue; }
                if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                    struct pollfd pf = {fd, POLLOUT | POLLIN, 0};
                    poll(&pf, 1, 100);
                    if (pf.revents & (POLLIN | POLLHUP | POLLERR)) break; /* answered */
                    continue;
                }
                break;
            }
        }
        fcntl(fd, F_SETFL, 0);
        st = await_close(fd, O.duration, &took);
        tally(st, took);
        close(fd);
    }
    free(buf);
    return NULL;
}

static int run_jobs(void *(*fn)(void *), const char *what)
{
    int nthreads = O.conns < 64 ? O.conns : 64;
    pthread_t th[64];
    double t0 = now_s();
    monitor_start();
    for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, fn, NULL);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    printf("%s=%d answered=%ld status4xx=%ld status5xx=%ld status2xx=%ld closed_silently=%ld "
           "hung=%ld malformed=%ld connect_failed=%ld max_close_s=%.2f seconds=%.1f codes=", what,
           O.conns, JS.answered, JS.statuses[4], JS.statuses[5], JS.statuses[2],
           JS.closed_silently, JS.hung, JS.malformed, JS.send_failed, JS.max_close_s,
           now_s() - t0);
    for (int i = 100, first = 1; i < 600; i++)
        if (JS.codes[i]) { printf("%s%d:%ld", first ? "" : ",", i, JS.codes[i]); first = 0; }
    monitor_stop();
    printf("\n");
    return 0;
}

/* --- clients that do not read ------------------------------------------ */

static int run_slowread(void)
{
    int n = O.conns, opened = 0;
    int *fds = calloc((size_t)n, sizeof *fds);
    size_t one = strlen(O.arg) + 64, len = 0, sent_total = 0;
    char *reqs = malloc(one * (size_t)O.bytes);
    long closed = 0;
    for (long i = 0; i < O.bytes; i++)
        len += (size_t)sprintf(reqs + len, "GET %s HTTP/1.1\r\nHost: slowread\r\n\r\n", O.arg);
    monitor_start();
    for (int i = 0; i < n; i++) {
        int rcv = 4096;
        fds[i] = -1;
        /* A small receive window, as a phone on a bad network would have. */
        int fd = socket(O.unix_path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_storage ss;
        socklen_t sl;
        if (fd < 0) continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        make_addr(O.unix_path, O.tcp, &ss, &sl);
        if (connect(fd, (struct sockaddr *)&ss, sl) != 0) { close(fd); continue; }
        fds[i] = fd;
        opened++;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        {
            ssize_t w = send(fd, reqs, len, MSG_NOSIGNAL);
            if (w > 0) sent_total += (size_t)w;
        }
    }
    sleep_s(O.duration);
    for (int i = 0; i < n; i++) {
        char c;
        if (fds[i] < 0) continue;
        /* Closed by the server (a zero-byte read after the unread data
         * cannot be told apart here without reading it all: use POLLRDHUP). */
        struct pollfd pf = {fds[i], POLLRDHUP, 0};
        if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR))) closed++;
        (void)c;
        close(fds[i]);
    }
    printf("opened=%d requests_each=%ld bytes_sent=%zu closed_by_server=%ld", opened, O.bytes,
           sent_total, closed);
    monitor_stop();
    printf("\n");
    free(fds);
    free(reqs);
    return 0;
}

/* --- raw ------------------------------------------------------------------ */

static size_t unescape(const char *in, char *out)
{
    size_t o = 0;
    for (; *in; in++) {
        if (*in != '\\' || !in[1]) { out[o++] = *in; continue; }
        switch (*++in) {
        case 'r': out[o++] = '\r'; break;
        case 'n': out[o++] = '\n'; break;
        case '0': out[o++] = '\0'; break;
        case 't': out[o++] = '\t'; break;
        case 'x': {
            char hex[3] = {in[1], in[1] ? in[2] : 0, 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            in += 2;
            break;
        }
        default: out[o++] = *in;
        }
    }
    return o;
}

static int run_raw(void)
{
    char *req = malloc(strlen(O.arg) + 1), buf[65536];
    size_t len = unescape(O.arg, req);
    int fd = connect_blocking(O.unix_path, O.tcp);
    double t_end = now_s() + O.duration;
    if (fd < 0) { fprintf(stderr, "cannot connect\n"); return 1; }
    send_all(fd, req, len);
    while (now_s() < t_end) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&pf, 1, 50) <= 0) continue;
        r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) break;
        fwrite(buf, 1, (size_t)r, stdout);
    }
    close(fd);
    free(req);
    return 0;
}

/* --- soak ------------------------------------------------------------------ */

struct soak_shared {
    pthread_mutex_t lock;
    char **targets;
    int ntargets;
    double t0, t_end;
    /* The current interval's figures. */
    double *lat;
    size_t nlat, caplat;
    long errors;
    long total, total_errors;
    long statuses[6];
};
static struct soak_shared SS = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One response on FD: status, or -1. Reads the whole body; the start of
 * it goes to SNIP (SNIPLEN bytes, NUL-terminated). */
static int read_answer(int fd, char **buf, size_t *cap, size_t *have, char *snip, size_t sniplen)
{
    for (;;) {
        char *end = *have ? memmem(*buf, *have, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - *buf) + 4, clen = 0, total;
            char *cl;
            int st;
            *end = '\0';
            cl = strcasestr(*buf, "\r\nContent-Length:");
            if (cl) clen = strtoul(cl + 17, NULL, 10);
            st = status_of(*buf, head);
            *end = '\r';
            total = head + clen;
            while (*have < total) {
                ssize_t r;
                if (*cap < total + 1) { *cap = total + 1; *buf = realloc(*buf, *cap); }
                r = recv(fd, *buf + *have, *cap - *have, 0);
                if (r <= 0) return -1;
                *have += (size_t)r;
            }
            if (sniplen) {
                size_t k = clen < sniplen - 1 ? clen : sniplen - 1;
                memcpy(snip, *buf + head, k);
                snip[k] = '\0';
            }
            memmove(*buf, *buf + total, *have - total);
            *have -= total;
            return st;
        }
        if (*cap - *have < 4096) { *cap = *cap * 2 + 8192; *buf = realloc(*buf, *cap); }
        ssize_t r = recv(fd, *buf + *have, *cap - *have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        *have += (size_t)r;
    }
}

static void *soak_main(void *arg)
{
    long id = (long)arg, i = 0;
    int fd = -1;
    char *buf = NULL, req[8192], snip[160];
    size_t cap = 0, have = 0;
    /* Each connection's share of the rate, started at a random phase. */
    double gap = O.rate > 0 ? O.conns / O.rate : 0, next = now_s() + gap * (double)(id % 100) / 100;
    while (now_s() < SS.t_end) {
        if (gap > 0) {
            sleep_s(next - now_s());
            next += gap;
            if (next < now_s() - 1) next = now_s(); /* fell behind: no burst to catch up */
        }
        const char *t = SS.targets[(id * SS.ntargets / O.conns + i++) % SS.ntargets];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: soak\r\n\r\n", t), st;
        double t0, ms;
        if (fd < 0) {
            fd = connect_blocking(O.unix_path, O.tcp);
            have = 0;
            if (fd < 0) {
                pthread_mutex_lock(&SS.lock);
                SS.errors++; SS.total_errors++; SS.total++;
                pthread_mutex_unlock(&SS.lock);
                fprintf(stderr, "soak: cannot connect\n");
                sleep_s(0.01);
                continue;
            }
        }
        t0 = now_s();
        snip[0] = '\0';
        st = send_all(fd, req, (size_t)n) < 0 ? -1
             : read_answer(fd, &buf, &cap, &have, snip, sizeof snip);
        ms = (now_s() - t0) * 1e3;
        if (st < 0) { close(fd); fd = -1; }
        pthread_mutex_lock(&SS.lock);
        SS.total++;
        if (st != 200) {
            SS.errors++;
            SS.total_errors++;
            if (SS.total_errors <= 20)
                fprintf(stderr, "soak: t=%.1fs status %d after %.0f ms for %s: %s\n",
                        now_s() - SS.t0, st, ms, t, snip);
        }
        SS.statuses[st > 0 && st / 100 <= 5 ? st / 100 : 0]++;
        if (SS.nlat == SS.caplat) {
            SS.caplat = SS.caplat * 2 + 4096;
            SS.lat = realloc(SS.lat, SS.caplat * sizeof *SS.lat);
        }
        SS.lat[SS.nlat++] = ms;
        pthread_mutex_unlock(&SS.lock);
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

static int run_soak(void)
{
    FILE *f = fopen(O.targets_file, "r");
    char line[8192];
    pthread_t *th;
    long period = 0;
    if (!f) { perror(O.targets_file); return 2; }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line || *line == '#') continue;
        SS.targets = realloc(SS.targets, (size_t)(SS.ntargets + 1) * sizeof *SS.targets);
        SS.targets[SS.ntargets++] = strdup(line);
    }
    fclose(f);
    if (!SS.ntargets) { fprintf(stderr, "no targets\n"); return 2; }
    th = calloc((size_t)O.conns, sizeof *th);
    monitor_start();
    SS.t0 = now_s();
    SS.t_end = SS.t0 + O.duration;
    for (long i = 0; i < O.conns; i++) pthread_create(&th[i], NULL, soak_main, (void *)i);
    while (now_s() < SS.t_end) {
        double *lat;
        size_t n;
        long err, total;
        double p50 = 0, p99 = 0, max = 0;
        sleep_s(SS.t0 + O.interval * (double)(period + 1) - now_s());
        pthread_mutex_lock(&SS.lock);
        lat = SS.lat; n = SS.nlat; err = SS.errors; total = SS.total;
        SS.lat = NULL; SS.nlat = SS.caplat = 0; SS.errors = 0;
        pthread_mutex_unlock(&SS.lock);
        if (n) {
            qsort(lat, n, sizeof *lat, cmp_double);
            p50 = lat[n / 2];
            p99 = lat[(size_t)((double)n * 0.99)];
            max = lat[n - 1];
        }
        free(lat);
        period++;
        printf("interval=%ld t_s=%.0f requests=%zu errors=%ld rps=%.0f p50_ms=%.2f p99_ms=%.2f "
               "max_ms=%.2f total=%ld", period, now_s() - SS.t0, n, err,
               (double)n / O.interval, p50, p99, max, total);
        if (O.pid > 0) printf(" rss_kb=%ld", rss_kb(O.pid));
        printf("\n");
        fflush(stdout);
    }
    for (long i = 0; i < O.conns; i++) pthread_join(th[i], NULL);
    printf("total requests=%ld errors=%ld status2xx=%ld status4xx=%ld status5xx=%ld "
           "broken=%ld seconds=%.0f", SS.total, SS.total_errors, SS.statuses[2],
           SS.statuses[4], SS.statuses[5], SS.statuses[0], now_s() - SS.t0);
    monitor_stop();
    printf("\n");
    free(th);
    return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* --- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    struct rlimit rl;
    int opt;
    signal(SIGPIPE, SIG_IGN);
    /* As many descriptors as we are allowed. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    optind = 2;
    while ((opt = getopt(argc, argv, "u:t:c:d:i:b:m:p:f:r:R:L:")) != -1) {
        switch (opt) {
        case 'u': O.unix_path = optarg; break;
        case 't': O.tcp = optarg; break;
        case 'c': O.conns = atoi(optarg); break;
        case 'd': O.duration = atof(optarg); break;
        case 'i': O.interval = atof(optarg); break;
        case 'b': O.bytes = atol(optarg); break;
        case 'm': O.monitor_sock = optarg; break;
        case 'p': O.pid = atol(optarg); break;
        case 'f': O.targets_file = optarg; break;
        case 'r': O.period = atof(optarg) / 1000; break;
        case 'R': O.rate = atof(optarg); break;
        case 'L': O.limit_ms = atof(optarg); break;
        default: return 2;
        }
    }
    if (optind < argc) O.arg = argv[optind];
    if (!strcmp(mode, "monitor")) {
        struct sigaction sa;
        double end = now_s() + O.duration;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        monitor_start();
        while (!stop_requested && now_s() < end)
            sleep_s(0.02);
        printf("monitor=%.1f", O.duration);
        monitor_stop();
        printf("\n");
        return 0;
    }
    if ((!O.unix_path == !O.tcp) || O.conns < 1 || O.bytes < 1) {
        fprintf(stderr, "usage: tool_abuse flood|slowloris|random|biguri|slowread|raw|monitor|soak "
                        "(-u SOCKET | -t HOST:PORT) [-c C] [-d S] [-i S] [-b BYTES] "
                        "[-m SOCKET] [-p PID] [-f FILE] [ARG]\n");
        return 2;
    }
    if (!strcmp(mode, "flood")) return run_flood();
    if (!strcmp(mode, "slowloris")) return run_slowloris();
    if (!strcmp(mode, "random")) return run_jobs(random_main, "connections");
    if (!strcmp(mode, "biguri")) return run_jobs(biguri_main, "connections");
    if (!strcmp(mode, "raw") && O.arg) return run_raw();
    if (!strcmp(mode, "slowread") && O.arg) return run_slowread();
    if (!strcmp(mode, "soak") && O.targets_file) return run_soak();
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
