# lib/search.mk
