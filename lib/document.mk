# lib/document.mk - the document pipeline: file bytes -> front matter,
# Markdown/HTML to text -> pr_doc (see lib/document.h), and its tests.
lib_libprsearch_la_SOURCES += \
	lib/frontmatter.c lib/frontmatter.h \
	lib/markdown_text.c lib/markdown_text.h \
	lib/html_text.c lib/html_text.h \
	lib/document.c lib/document.h

check_PROGRAMS += tests/test_frontmatter tests/test_markdown_text tests/test_document
tests_test_frontmatter_SOURCES = tests/test_frontmatter.c tests/unit.h tests/test_files.h
tests_test_frontmatter_LDADD = $(PR_CORE)
tests_test_markdown_text_SOURCES = tests/test_markdown_text.c tests/unit.h
tests_test_markdown_text_LDADD = $(PR_CORE)
tests_test_document_SOURCES = tests/test_document.c tests/unit.h tests/test_files.h
tests_test_document_LDADD = $(PR_CORE)
# The tests find tests/fixtures and data/ through $PR_SRCDIR (set by make
# check), else through the source directory they were built from.
tests_test_frontmatter_CPPFLAGS = -DPR_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_test_markdown_text_CPPFLAGS = -DPR_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_test_document_CPPFLAGS = -DPR_TEST_SRCDIR='"$(abs_top_srcdir)"'
