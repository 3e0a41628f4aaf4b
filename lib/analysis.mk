# lib/analysis.mk - French analysis (SPEC 3): the tokenizer, its FTS5
# wrapper, the loadable SQLite extension, and their tests.

ANALYSIS_SOURCES = lib/fr_tokenizer.c lib/fr_tokenizer.h lib/fr_stopwords.c
lib_libprsearch_la_SOURCES += $(ANALYSIS_SOURCES) lib/fts5_french.c lib/fts5_french.h

# The extension for the sqlite3 shell: lib/.libs/prsearch_french.so in the
# build tree, $(pkglibdir)/prsearch_french.so installed. It must not link
# libsqlite3 (it runs inside the host's SQLite), so fts5_french.c is
# compiled again against sqlite3ext.h. It is never built with sanitizers
# (an ASan module cannot be loaded into a stock sqlite3 shell); libtool
# drops -fno-sanitize=all from the link unless it is passed with -Wc,.
pkglib_LTLIBRARIES += lib/prsearch_french.la
lib_prsearch_french_la_SOURCES = $(ANALYSIS_SOURCES) lib/fts5_french.c lib/fts5_french.h \
	lib/sqlite_ext.c
lib_prsearch_french_la_CPPFLAGS = -DPR_SQLITE_EXTENSION
lib_prsearch_french_la_CFLAGS = $(AM_CFLAGS) -fno-sanitize=all
lib_prsearch_french_la_LDFLAGS = -module -avoid-version -shared -Wc,-fno-sanitize=all \
	-export-symbols-regex '^sqlite3_(prsearchfrench|extension)_init$$'
lib_prsearch_french_la_LIBADD = $(UTF8PROC_LIBS) $(STEMMER_LIBS)

check_PROGRAMS += tests/test_fr_tokenizer
tests_test_fr_tokenizer_SOURCES = tests/test_fr_tokenizer.c
tests_test_fr_tokenizer_LDADD = $(PR_CORE)
EXTRA_DIST += tests/t_extension.sh
