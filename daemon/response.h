/*
 * response.h - the pieces of an HTTP answer that do not depend on a
 * connection: reason phrases and JSON error bodies. Used by the loop and
 * by the workers alike (pure, thread-safe).
 */
#ifndef PR_RESPONSE_H
#define PR_RESPONSE_H

#include <stddef.h>

/* "OK", "Bad Request", ... for STATUS. */
const char *pr_http_reason(int status);

/* The error code word of STATUS: "bad_request", "not_found", ... */
const char *pr_http_error_code(int status);

/*
 * {"error":{"code":CODE,"message":MESSAGE}} as a malloc'd string (jansson
 * escapes both). CODE NULL: pr_http_error_code(STATUS). A message that is
 * not valid UTF-8 is replaced by the reason phrase. Returns NULL only when
 * out of memory.
 */
char *pr_json_error(int status, const char *code, const char *message, size_t *len);

#endif
