lib_libprsearch_la_SOURCES += lib/index_db.c lib/index_db.h
lib_libprsearch_la_SOURCES += lib/jekyll_site.c lib/jekyll_site.h
lib_libprsearch_la_SOURCES += lib/indexer.c lib/indexer.h
# What the index knows beyond FTS5: vocabulary, acronyms, fingerprints.
lib_libprsearch_la_SOURCES += lib/lexicon.c lib/lexicon.h lib/acronyms.c lib/acronyms.h \
	lib/strmap.c lib/strmap.h
# The stems of the index's surface forms, for prefix queries.
lib_libprsearch_la_SOURCES += lib/prefix_surfaces.c lib/prefix_surfaces.h

bin_PROGRAMS += indexer/prsearch-index
indexer_prsearch_index_SOURCES = indexer/prsearch_index.c
indexer_prsearch_index_LDADD = $(PR_CORE)

check_PROGRAMS += tests/test_jekyll_site
tests_test_jekyll_site_LDADD = $(PR_CORE)

check_PROGRAMS += tests/test_lexicon
tests_test_lexicon_SOURCES = tests/test_lexicon.c tests/unit.h
tests_test_lexicon_LDADD = $(PR_CORE)
