#!/usr/bin/env bash
# bench/run.sh - the whole benchmark in one command: indexing
# (bench_index.sh) then queries (bench_query.sh) on N generated pages,
# both tables printed, one JSON written ($BENCH_OUT/bench-N.json, holding
# index-N.json and query-N.json).
#
#   bench/run.sh [N]        N pages (default 10000); the documented full
#                           run is `bench/run.sh 100000` (about an hour here)
#   bench/run.sh --smoke    1,000 pages, short warm runs, no Sphinx unless it
#                           is already installed: under a minute, for CI
#                           (tests/t_bench_smoke.sh)
# A Makefile target `bench:` should call this script.
set -u
here=$(cd "$(dirname "$0")" && pwd)
N=10000
if [[ ${1:-} == --smoke ]]; then
    N=1000
    export BENCH_STREAM=${BENCH_STREAM:-1000} BENCH_WARM_SECONDS=${BENCH_WARM_SECONDS:-2}
    export BENCH_REPEAT=1 BENCH_DAEMON_NOCACHE=0 BENCH_REAL_RUNS=${BENCH_REAL_RUNS:-2}
    command -v indexer >/dev/null && command -v searchd >/dev/null || export BENCH_SPHINX=0
elif [[ -n ${1:-} ]]; then
    N=$1
fi
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || { echo "usage: bench/run.sh [--smoke | N]" >&2; exit 2; }
source "$here/lib.sh"
mkdir -p "$BENCH_OUT"
bash "$here/bench_index.sh" "$N" || exit $?
bash "$here/bench_query.sh" "$N" || exit $?
jq -s '{bench: "all", n: .[0].n, index: .[0], query: .[1]}' \
    "$BENCH_OUT/index-$N.json" "$BENCH_OUT/query-$N.json" >"$BENCH_OUT/bench-$N.json" \
    || die "cannot merge the JSON"
echo "  JSON (all): $BENCH_OUT/bench-$N.json"
