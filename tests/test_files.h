/*
 * test_files.h - what the C tests that read files share: where the source
 * tree is (for tests/fixtures, data/ and the corpus beside it) and
 * reading a whole file.
 */
#ifndef PR_TEST_FILES_H
#define PR_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* Built with -DPR_TEST_SRCDIR set to the source tree (see lib/document.mk). */
#ifndef PR_TEST_SRCDIR
#define PR_TEST_SRCDIR "."
#endif

/* The source tree: $PR_SRCDIR (set by make check), else the one the test
 * was built from. */
static inline const char *test_srcdir(void)
{
    const char *d = getenv("PR_SRCDIR");
    return d && *d ? d : PR_TEST_SRCDIR;
}

/* The whole file at PATH, NUL-terminated, its size in *LEN; NULL when it
 * cannot be read. The caller frees it. */
static inline char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
        b[n] = '\0';
        *len = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

#endif
