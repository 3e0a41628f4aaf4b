/*
 * test_daemon_router.c - the daemon's pure parts: routes, URL decoding,
 * /search and /suggest parameter checks, JSON error bodies, metrics text.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "response.h"
#include "router.h"
#include "unit.h"

static const pr_param_limits lim = {100, 1024};

static long decode(const char *in, char *out)
{
    return pr_url_decode(in, strlen(in), out);
}

static void test_decode(void)
{
    char out[64];
    CHECK(decode("a+b%20c", out) == 5);
    CHECK_STR(out, "a b c");
    CHECK(decode("%C3%A9t%c3%a9", out) == 5);
    CHECK_STR(out, "\xc3\xa9t\xc3\xa9");
    CHECK(decode("%", out) == -1);
    CHECK(decode("%4", out) == -1);
    CHECK(decode("%G1", out) == -1);
    CHECK_MSG(decode("a%00b", out) == PR_URL_NUL, "an escaped NUL is refused, as such");
    CHECK(decode("%G1", out) == PR_URL_BAD_ESCAPE);
    CHECK(decode("", out) == 0);
}

static void test_utf8(void)
{
    CHECK(pr_utf8_valid("caf\xc3\xa9", 5));
    CHECK(pr_utf8_valid("\xe2\x80\x99", 3));
    CHECK(pr_utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(!pr_utf8_valid("\xc3", 1));
    CHECK(!pr_utf8_valid("\xc0\xaf", 2));         /* overlong */
    CHECK(!pr_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!pr_utf8_valid("\xff", 1));
    CHECK(!pr_utf8_valid("a\x01", 2));
    CHECK(pr_utf8_valid("a\tb", 3));
    CHECK(pr_has_control("a\r\nb", 4));
    CHECK(pr_has_control("a\x7f", 2));
    CHECK(pr_has_control("a\xc2\x85", 3)); /* NEL, a C1 control */
    CHECK(!pr_has_control("a\tb \xc2\xa0\xc3\xa9", 8));
}

static void test_routes(void)
{
    CHECK(pr_route_find("/search", 7) == PR_ROUTE_SEARCH);
    CHECK(pr_route_find("/suggest", 8) == PR_ROUTE_SUGGEST);
    CHECK(pr_route_find("/health", 7) == PR_ROUTE_HEALTH);
    CHECK(pr_route_find("/metrics", 8) == PR_ROUTE_METRICS);
    CHECK(pr_route_find("/search/", 8) == PR_ROUTE_OTHER);
    CHECK(pr_route_find("/", 1) == PR_ROUTE_OTHER);
    CHECK_STR(pr_route_name(PR_ROUTE_SUGGEST), "suggest");
}

static int parse(pr_route r, const char *q, pr_params *p, pr_error *e)
{
    pr_error_clear(e);
    memset(p, 0, sizeof *p);
    return pr_params_parse(r, q, strlen(q), &lim, p, e);
}

static void test_search_params(void)
{
    pr_params p;
    pr_error e;
    CHECK(parse(PR_ROUTE_SEARCH, "q=EIG+recrutement&limit=5&offset=10&tag=&category=Communiqu%C3%A9"
                "&after=2021-01-01&prefix=1&distinct=0&_=123", &p, &e) == 0);
    CHECK_STR(p.req.q, "EIG recrutement");
    CHECK(p.req.limit == 5 && p.req.offset == 10 && p.req.prefix == 1 && p.req.distinct == 0);
    CHECK_MSG(p.req.tag == NULL, "an empty filter is no filter");
    CHECK_STR(p.req.category, "Communiqu\xc3\xa9");
    CHECK_STR(p.req.after, "2021-01-01");
    CHECK(p.req.before == NULL && p.req.collection == NULL);
    pr_params_free(&p);

    CHECK(parse(PR_ROUTE_SEARCH, "", &p, &e) == 0);
    CHECK_STR(p.req.q, "");
    CHECK(p.req.limit == 10 && p.req.offset == 0 && p.req.distinct == 1);
    pr_params_free(&p);

    CHECK(parse(PR_ROUTE_SEARCH, "q=a&limit=101", &p, &e) == -1);
    CHECK_STR(e.message, "parameter limit: expected an integer from 1 to 100");
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&limit=0", &p, &e) == -1);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&limit=-1", &p, &e) == -1);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&limit=1x", &p, &e) == -1);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&offset=x", &p, &e) == -1);
    CHECK(strstr(e.message, "parameter offset") != NULL);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&after=2021-13-01", &p, &e) == -1);
    CHECK(strstr(e.message, "parameter after") != NULL);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&before=yesterday", &p, &e) == -1);
    CHECK(parse(PR_ROUTE_SEARCH, "q=a&prefix=maybe", &p, &e) == -1);
    CHECK(parse(PR_ROUTE_SEARCH, "q=%ZZ", &p, &e) == -1);
    CHECK_STR(e.message, "parameter q: invalid percent-escape");
    CHECK(parse(PR_ROUTE_SEARCH, "q=%FF", &p, &e) == -1);
    CHECK_STR(e.message, "parameter q: not valid UTF-8 text");
    CHECK_MSG(strstr(e.message, "%FF") == NULL, "the value is not echoed");
    /* CR, LF and NUL are valid UTF-8 and valid escapes: the message names
     * what is refused (header injection attempts), still without the value. */
    CHECK(parse(PR_ROUTE_SEARCH, "q=eig%0d%0aSet-Cookie:%20x=1", &p, &e) == -1);
    CHECK_STR(e.message,
              "parameter q: control characters (such as %00, %0A, %0D) are not allowed");
    CHECK(parse(PR_ROUTE_SEARCH, "q=eig&tag=%0aX", &p, &e) == -1);
    CHECK(strncmp(e.message, "parameter tag: control characters", 33) == 0);
    CHECK(parse(PR_ROUTE_SEARCH, "q=eig%00b", &p, &e) == -1);
    CHECK_STR(e.message,
              "parameter q: control characters (such as %00, %0A, %0D) are not allowed");
    CHECK(parse(PR_ROUTE_SEARCH, "q=eig&x%00=1", &p, &e) == -1);
    CHECK_STR(e.message, "control character %00 in a parameter name");
    CHECK(parse(PR_ROUTE_SEARCH, "q=eig&x=%00", &p, &e) == -1);
    CHECK_STR(e.message, "control character %00 in a parameter value");
    CHECK_MSG(parse(PR_ROUTE_SEARCH, "q=eig&x=%0d%0a", &p, &e) == 0, "unknown parameters are ignored");
    pr_params_free(&p);
}

static void test_query_length(void)
{
    char q[1200];
    pr_params p;
    pr_error e;
    memcpy(q, "q=", 2);
    memset(q + 2, 'a', 1024);
    q[1026] = '\0';
    CHECK(parse(PR_ROUTE_SEARCH, q, &p, &e) == 0);
    pr_params_free(&p);
    strcat(q, "a");
    CHECK(parse(PR_ROUTE_SEARCH, q, &p, &e) == -1);
    CHECK_STR(e.message, "parameter q: query longer than 1024 bytes");
}

static void test_suggest_params(void)
{
    pr_params p;
    pr_error e;
    CHECK(parse(PR_ROUTE_SUGGEST, "q=recru&tag=x", &p, &e) == 0);
    CHECK_STR(p.req.q, "recru");
    CHECK(p.req.limit == 8);
    CHECK_MSG(p.req.tag == NULL, "/suggest ignores filters");
    pr_params_free(&p);
}

static void test_errors(void)
{
    size_t len = 0;
    char *s = pr_json_error(400, NULL, "bad \"x\" <y>", &len);
    CHECK_STR(s, "{\"error\":{\"code\":\"bad_request\",\"message\":\"bad \\\"x\\\" <y>\"}}");
    CHECK(len == strlen(s));
    free(s);
    s = pr_json_error(400, NULL, "\xff", &len);
    CHECK_STR(s, "{\"error\":{\"code\":\"bad_request\",\"message\":\"Bad Request\"}}");
    free(s);
    CHECK_STR(pr_http_reason(431), "Request Header Fields Too Large");
    CHECK_STR(pr_http_error_code(414), "uri_too_long");
}

static void test_metrics(void)
{
    pr_metrics m;
    size_t len = 0;
    char *text;
    pr_metrics_init(&m, 1000);
    pr_metrics_observe(&m, PR_ROUTE_SEARCH, 200, 0.0007);
    pr_metrics_observe(&m, PR_ROUTE_SEARCH, 200, 0.3);
    pr_metrics_observe(&m, PR_ROUTE_OTHER, 418, 0.0001);
    m.documents = 42;
    text = pr_metrics_render(&m, 1010, &len);
    CHECK(text && len == strlen(text));
    CHECK(strstr(text, "prsearchd_requests_total{route=\"search\",code=\"200\"} 2\n") != NULL);
    CHECK(strstr(text, "prsearchd_requests_total{route=\"other\",code=\"other\"} 1\n") != NULL);
    CHECK(strstr(text, "prsearchd_request_duration_seconds_bucket{route=\"search\",le=\"0.0005\"} 0\n") != NULL);
    CHECK(strstr(text, "prsearchd_request_duration_seconds_bucket{route=\"search\",le=\"0.001\"} 1\n") != NULL);
    CHECK(strstr(text, "prsearchd_request_duration_seconds_bucket{route=\"search\",le=\"+Inf\"} 2\n") != NULL);
    CHECK(strstr(text, "prsearchd_documents 42\n") != NULL);
    CHECK(strstr(text, "prsearchd_uptime_seconds 10\n") != NULL);
    free(text);
}

int main(void)
{
    test_decode();
    test_utf8();
    test_routes();
    test_search_params();
    test_query_length();
    test_suggest_params();
    test_errors();
    test_metrics();
    return unit_done();
}
