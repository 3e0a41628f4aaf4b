# lib/index.mk
