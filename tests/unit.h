/*
 * unit.h - the smallest test framework that does the job: each CHECK is
 * one TAP line ("ok N - what" / "not ok N - what"), so tests/run.sh can
 * count passes and failures across C and shell tests alike.
 *
 *   int main(void) { CHECK(1 + 1 == 2); CHECK_STR(s, "x"); return unit_done(); }
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_count;
static int unit_failed;

static inline int unit_check(int ok, const char *what, const char *file, int line)
{
    unit_count++;
    if (ok) {
        printf("ok %d - %s\n", unit_count, what);
    } else {
        unit_failed++;
        printf("not ok %d - %s\n#   at %s:%d\n", unit_count, what, file, line);
    }
    return ok;
}

static inline int unit_check_str(const char *got, const char *want, const char *what,
                                 const char *file, int line)
{
    int ok = (got == NULL && want == NULL) ||
             (got != NULL && want != NULL && strcmp(got, want) == 0);
    if (!unit_check(ok, what, file, line))
        printf("#   got:  %s%s%s\n#   want: %s%s%s\n", got ? "\"" : "", got ? got : "NULL",
               got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
    return ok;
}

static inline void unit_skip(const char *what, const char *why)
{
    unit_count++;
    printf("ok %d - %s # SKIP %s\n", unit_count, what, why);
}

/* Print the plan; the exit status says whether everything passed. */
static inline int unit_done(void)
{
    printf("1..%d\n", unit_count);
    return unit_failed ? 1 : 0;
}

#define CHECK(cond) unit_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_MSG(cond, what) unit_check(!!(cond), (what), __FILE__, __LINE__)
#define CHECK_STR(got, want) unit_check_str((got), (want), #got " == " #want, __FILE__, __LINE__)
#define CHECK_STR_MSG(got, want, what) unit_check_str((got), (want), (what), __FILE__, __LINE__)

#endif
