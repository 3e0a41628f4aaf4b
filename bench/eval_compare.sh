#!/usr/bin/env bash
# bench/eval_compare.sh - side-by-side search quality (issue 5): the
# evaluation set tests/eval/queries.tsv through prsearch, SQLite FTS5
# (unicode61 remove_diacritics 2) and Xapian (French Snowball), in one
# run, printed as a table engines x kinds with MRR@10 and success@10.
#
#   bench/eval_compare.sh [--verbose]
#
# Indexes $PR_CORPUS (default: ../shared/corpus beside the source tree)
# with the built prsearch-index into a temporary file; the other engines
# index the same stored text (bench/eval_compare.py). Needs Debian's
# python3-xapian for /usr/bin/python3, installed here when missing (root).
set -eu
: "${PR_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PR_BUILDDIR:=$PR_SRCDIR}"
: "${PR_CORPUS:=$PR_SRCDIR/../shared/corpus}"

if ! /usr/bin/python3 -c 'import xapian' 2>/dev/null; then
    echo "eval_compare: installing python3-xapian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-xapian >&2
fi
if [[ ! -d $PR_CORPUS ]]; then
    echo "eval_compare: no corpus at $PR_CORPUS (set PR_CORPUS)" >&2
    exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prsearch-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$PR_BUILDDIR/indexer/prsearch-index" -q -d "$tmp/eval.db" "$PR_CORPUS" 2>"$tmp/index.err" || true
if [[ ! -s $tmp/eval.db ]]; then
    echo "eval_compare: indexing $PR_CORPUS failed:" >&2
    cat "$tmp/index.err" >&2
    exit 2
fi
/usr/bin/python3 "$PR_SRCDIR/bench/eval_compare.py" --prsearch "$PR_BUILDDIR/client/prsearch" \
    --index "$tmp/eval.db" --queries "$PR_SRCDIR/tests/eval/queries.tsv" "$@"
