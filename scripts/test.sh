#!/bin/sh
# scripts/test.sh - install what is needed, build, run the whole test suite.
# The suite ends with the line "N passed, N failed[, N skipped]".
set -e
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
exec make -s --no-print-directory check
