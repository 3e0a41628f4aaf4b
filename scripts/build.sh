#!/bin/sh
# scripts/build.sh - configure (once) and build prsearch in the source tree.
# Extra arguments go to ./configure the first time.
set -e
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
[ -f Makefile ] || ./configure -q "$@"
make -s -j"$(nproc)" >/dev/null
