#!/usr/bin/env bash
# tests/eval/run.sh - `make eval`: index $PR_CORPUS with prsearch-index into
# a temporary file, then measure the evaluation set (eval.py) with
# `prsearch -d --json`. Extra arguments go to eval.py (--verbose,
# --min-success10 X, --min-mrr X).
set -u
: "${PR_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${PR_BUILDDIR:=$PR_SRCDIR}"
: "${PR_CORPUS:=$PR_SRCDIR/../shared/corpus}"
if [[ ! -d $PR_CORPUS ]]; then
    echo "eval: no corpus at $PR_CORPUS (set PR_CORPUS)" >&2
    exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prsearch-eval.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$PR_BUILDDIR/indexer/prsearch-index" -q -d "$tmp/eval.db" "$PR_CORPUS" 2>"$tmp/index.err"
if [[ ! -s $tmp/eval.db ]]; then
    echo "eval: indexing $PR_CORPUS failed:" >&2
    cat "$tmp/index.err" >&2
    exit 2
fi
python3 "$PR_SRCDIR/tests/eval/eval.py" --prsearch "$PR_BUILDDIR/client/prsearch" \
    --index "$tmp/eval.db" --queries "$PR_SRCDIR/tests/eval/queries.tsv" "$@"
