# lib/document.mk
