# lib/search.mk - the search core (query language, ranking, snippets,
# facets, result JSON), the prsearch client, their tests and `make eval`.
lib_libprsearch_la_SOURCES += \
	lib/search.c lib/search.h lib/search_internal.h \
	lib/search_suggest.c lib/search_spell.c lib/search_lexicon.c \
	lib/search_docs.c lib/search_rank.c lib/search_walk.c \
	lib/synonyms.c lib/synonyms.h \
	lib/search_util.c lib/search_util.h \
	lib/query_parse.c lib/query_parse.h \
	lib/snippet.c lib/snippet.h

check_PROGRAMS += tests/test_query_parse tests/test_snippet tests/test_search
tests_test_query_parse_SOURCES = tests/test_query_parse.c tests/search_fixture.h tests/unit.h
tests_test_query_parse_LDADD = $(PR_CORE)
tests_test_snippet_SOURCES = tests/test_snippet.c tests/unit.h
tests_test_snippet_LDADD = $(PR_CORE)
tests_test_search_SOURCES = tests/test_search.c tests/search_fixture.h tests/unit.h
tests_test_search_LDADD = $(PR_CORE)
check_PROGRAMS += tests/test_snippet_scan
tests_test_snippet_scan_SOURCES = tests/test_snippet_scan.c tests/snippet_bytes.c tests/unit.h tests/test_files.h
tests_test_snippet_scan_LDADD = $(PR_CORE)
tests_test_snippet_scan_CPPFLAGS = -DPR_TEST_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += tests/test_search_util
tests_test_search_util_SOURCES = tests/test_search_util.c tests/unit.h
tests_test_search_util_LDADD = $(PR_CORE)
check_PROGRAMS += tests/test_prefix_surfaces
tests_test_prefix_surfaces_SOURCES = tests/test_prefix_surfaces.c tests/unit.h
tests_test_prefix_surfaces_LDADD = $(PR_CORE)

# The client: thin main over pr_search() (direct mode) or HTTP (daemon).
bin_PROGRAMS += client/prsearch
client_prsearch_SOURCES = client/prsearch.c \
	client/http_client.c client/http_client.h \
	client/render.c client/render.h
client_prsearch_LDADD = $(PR_CORE) $(HTTP_PARSER_LIBS)

# Search quality on tests/eval/queries.tsv over $(PR_CORPUS) (default: the
# shared corpus beside the source tree). A measurement, not a test:
# tests/t_eval.sh is the regression guard.
EXTRA_DIST += tests/eval/queries.tsv tests/eval/eval.py tests/eval/run.sh \
	tests/t_client.sh tests/t_eval.sh
.PHONY: eval
eval: client/prsearch indexer/prsearch-index
	@PR_SRCDIR="$(abs_top_srcdir)" PR_BUILDDIR="$(abs_top_builddir)" \
	  PR_CORPUS="$${PR_CORPUS:-$(abs_top_srcdir)/../shared/corpus}" \
	  $(SHELL) $(srcdir)/tests/eval/run.sh --verbose
