/*
 * snippet_bytes.c - lib/snippet.c built again with SNIPPET_SCAN_BYTES
 * (the scan's marks made byte by byte, exactly the stops), its functions
 * renamed ref_*: the reference test_snippet_scan compares the library's
 * scan (32 bytes at a time where the processor has AVX2) with.
 */
#define SNIPPET_SCAN_BYTES 1
#define snippet_terms_new ref_snippet_terms_new
#define snippet_terms_free ref_snippet_terms_free
#define snippet_terms_clear ref_snippet_terms_clear
#define snippet_terms_count ref_snippet_terms_count
#define snippet_terms_add ref_snippet_terms_add
#define snippet_highlight ref_snippet_highlight
#define snippet_build ref_snippet_build

#include "snippet.c"
