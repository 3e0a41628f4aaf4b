lib_libprsearch_la_SOURCES += lib/index_db.c lib/index_db.h
