/*
 * test_daemon_config.c - prsearchd's settings: defaults, the file format,
 * error messages naming file:line, command-line overrides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char path[64];

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_defaults(void)
{
    pr_daemon_config c;
    pr_daemon_config_init(&c, "x.db", "/tmp/x.sock");
    CHECK_STR(c.db, "x.db");
    CHECK(c.max_connections == 1024 && c.max_head_bytes == 8192 && c.max_query_bytes == 1024);
    CHECK(c.idle_timeout_ms == 30000 && c.query_budget_ms == 250 && c.max_limit == 100);
    CHECK(c.socket_mode == 0660);
    CHECK(c.weights[0] == 10 && c.weights[4] == 3);
    pr_daemon_config_free(&c);
}

static void test_file(void)
{
    pr_daemon_config c;
    pr_error e;
    pr_error_clear(&e);
    pr_daemon_config_init(&c, "x.db", NULL);
    write_file("# prsearchd\n\n  socket = \"/run/s.sock\"  \nsocket_mode=0600\n"
               "cors_origin = https://example.org # the site\nmax_limit = 50\n"
               "weights = 8, 4, 2, 1, 2\naccess_log = yes\ntcp = 127.0.0.1:8080, [::1]:8080\n");
    CHECK(pr_daemon_config_load(&c, path, &e) == 0);
    CHECK_STR(c.socket, "/run/s.sock");
    CHECK(c.socket_mode == 0600);
    CHECK_STR(c.cors_origin, "https://example.org");
    CHECK(c.max_limit == 50 && c.access_log == 1);
    CHECK(c.weights[0] == 8 && c.weights[3] == 1 && c.weights[4] == 2);
    CHECK_STR(c.tcp, "127.0.0.1:8080, [::1]:8080");
    CHECK(pr_daemon_config_set(&c, "max_limit", "20", &e) == 0 && c.max_limit == 20);
    pr_daemon_config_free(&c);
}

static void check_error(const char *text, const char *want)
{
    pr_daemon_config c;
    pr_error e;
    char full[600];
    pr_error_clear(&e);
    pr_daemon_config_init(&c, NULL, NULL);
    write_file(text);
    snprintf(full, sizeof full, "%s:%s", path, want);
    CHECK(pr_daemon_config_load(&c, path, &e) == -1);
    CHECK_STR(e.message, full);
    pr_daemon_config_free(&c);
}

static void test_errors(void)
{
    check_error("threads = 2\nbogus = 1\n", "2: unknown setting 'bogus'");
    check_error("max_limit = lots\n", "1: max_limit must be an integer from 1 to 100000");
    check_error("\n\nsocket_mode = 999\n", "3: socket_mode must be an octal mode such as 0660");
    check_error("just words\n", "1: expected 'key = value'");
    check_error("weights = 1,2,3\n",
                "1: weights must be 5 non-negative numbers separated by commas "
                "(title,headings,chapeau,body,taxonomy)");
    check_error("access_log = perhaps\n", "1: access_log must be yes or no");
}

static void test_missing(void)
{
    pr_daemon_config c;
    pr_error e;
    pr_daemon_config_init(&c, NULL, NULL);
    CHECK(pr_daemon_config_load(&c, "/nonexistent/prsearchd.conf", &e) == -1);
    CHECK(strstr(e.message, "/nonexistent/prsearchd.conf: cannot read") == e.message);
    pr_daemon_config_free(&c);
}

int main(void)
{
    int fd;
    snprintf(path, sizeof path, "/tmp/prsearchd-conf.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    test_defaults();
    test_file();
    test_errors();
    test_missing();
    unlink(path);
    return unit_done();
}
