# daemon/daemon.mk - prsearchd, the HTTP/JSON search daemon (issue 4), its
# systemd units, and its tests. Server-only code stays under daemon/.
sbin_PROGRAMS += daemon/prsearchd
daemon_prsearchd_SOURCES = daemon/prsearchd.c \
	daemon/server.c daemon/server.h \
	daemon/http_conn.c daemon/http_conn.h \
	daemon/router.c daemon/router.h \
	daemon/response.c daemon/response.h \
	daemon/metrics.c daemon/metrics.h \
	daemon/workers.c daemon/workers.h \
	daemon/config.c daemon/config.h \
	daemon/cache.c daemon/cache.h \
	daemon/recorder.c daemon/recorder.h \
	daemon/web.c daemon/web_assets.h
nodist_daemon_prsearchd_SOURCES = daemon/web_assets.c
# web_assets.c is generated in the build tree; its header is in the source
# tree (they differ in a VPATH build such as make distcheck's).
daemon_prsearchd_CPPFLAGS = -I$(srcdir)/daemon
daemon_prsearchd_LDADD = $(PR_CORE) $(UV_LIBS) $(HTTP_PARSER_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) -lpthread

# Search analytics (issue 8): written by prsearchd's recorder thread, read
# by `prsearch --stats`; in the core library so both programs share it.
lib_libprsearch_la_SOURCES += lib/analytics.c lib/analytics.h

# The search page and the widget (web/) are compiled into prsearchd, so
# nothing is installed beside it and the binary serves the page it was
# built with. The generated C is rebuilt when a file of web/ changes.
PR_WEB_FILES = $(srcdir)/web/search.html $(srcdir)/web/search.css \
	$(srcdir)/web/search.js $(srcdir)/web/widget.js
daemon/web_assets.c: $(PR_WEB_FILES) $(srcdir)/daemon/embed_web.sh
	$(MKDIR_P) daemon
	$(SHELL) $(srcdir)/daemon/embed_web.sh $@ $(PR_WEB_FILES)
BUILT_SOURCES = daemon/web_assets.c
CLEANFILES += daemon/web_assets.c
EXTRA_DIST += docs/scaling.md docs/widget.md docs/analytics.md tests/t_scaleout.sh
EXTRA_DIST += tests/t_web.sh tests/t_analytics.sh tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/search.test.mjs
EXTRA_DIST += daemon/embed_web.sh web/search.html web/search.css web/search.js \
	web/widget.js

EXTRA_DIST += dist/systemd/prsearchd.service dist/systemd/prsearchd.socket \
	dist/systemd/prsearchd.conf

# Unit tests of the pure parts (no sockets, no index).
check_PROGRAMS += tests/test_daemon_router tests/test_daemon_config
tests_test_daemon_router_SOURCES = tests/test_daemon_router.c tests/unit.h \
	daemon/router.c daemon/router.h daemon/response.c daemon/response.h \
	daemon/metrics.c daemon/metrics.h
tests_test_daemon_router_CPPFLAGS = -I$(srcdir)/daemon
tests_test_daemon_router_LDADD = $(PR_CORE) $(JANSSON_LIBS)
tests_test_daemon_config_SOURCES = tests/test_daemon_config.c tests/unit.h \
	daemon/config.c daemon/config.h
tests_test_daemon_config_CPPFLAGS = -I$(srcdir)/daemon
tests_test_daemon_config_LDADD = $(PR_CORE)

check_PROGRAMS += tests/test_daemon_cache
tests_test_daemon_cache_SOURCES = tests/test_daemon_cache.c tests/unit.h \
	daemon/cache.c daemon/cache.h
tests_test_daemon_cache_CPPFLAGS = -I$(srcdir)/daemon

# Raw-socket abuse client for the shell tests and the Unix-socket benchmark.
check_PROGRAMS += tests/tool_httpclient
tests_tool_httpclient_SOURCES = tests/tool_httpclient.c
tests_tool_httpclient_LDADD = -lpthread

EXTRA_DIST += tests/daemon_helpers.sh tests/t_daemon.sh
EXTRA_DIST += tests/t_daemon_abuse.sh tests/t_daemon_lifecycle.sh
EXTRA_DIST += bench/bench_daemon.sh

# Hostile clients and least privilege (issue 7): the test, its client
# (compiled by the test with cc), the soak bench and what they establish.
EXTRA_DIST += tests/t_abuse.sh tests/tool_abuse.c bench/soak.sh docs/security.md
