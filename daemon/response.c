/*
 * response.c - reason phrases and JSON error bodies (response.h).
 */
#include <jansson.h>
#include <string.h>

#include "response.h"

static const struct {
    int status;
    const char *reason, *code;
} table[] = {
    {200, "OK", "ok"},
    {400, "Bad Request", "bad_request"},
    {404, "Not Found", "not_found"},
    {405, "Method Not Allowed", "method_not_allowed"},
    {408, "Request Timeout", "request_timeout"},
    {413, "Payload Too Large", "payload_too_large"},
    {414, "URI Too Long", "uri_too_long"},
    {431, "Request Header Fields Too Large", "header_too_large"},
    {500, "Internal Server Error", "internal_error"},
    {503, "Service Unavailable", "unavailable"},
};

const char *pr_http_reason(int status)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].status == status)
            return table[i].reason;
    return "Unknown";
}

const char *pr_http_error_code(int status)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].status == status)
            return table[i].code;
    return "error";
}

char *pr_json_error(int status, const char *code, const char *message, size_t *len)
{
    json_t *o;
    char *s;
    if (!code)
        code = pr_http_error_code(status);
    o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    if (!o) /* message not UTF-8: say what we can without it */
        o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", pr_http_reason(status));
    if (!o)
        return NULL;
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s && len)
        *len = strlen(s);
    return s;
}
