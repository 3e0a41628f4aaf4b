# lib/analysis.mk
