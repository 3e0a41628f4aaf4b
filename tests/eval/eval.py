#!/usr/bin/env python3
"""tests/eval/eval.py - search quality on the evaluation set (standard library only).

For each line of queries.tsv (kind, query, expected paths) runs
`prsearch -d INDEX --json -n 10 -- QUERY` (with --prefix for the kind
`prefix`: the last word is cut short, as typed in a search box) and finds the rank of the first
expected path among the hits (any of them counts: the corpus often holds a
page twice). Prints MRR@10, success@1 and success@10 overall and per kind,
and the queries that missed with --verbose.

  eval.py --prsearch client/prsearch --index IDX [--queries FILE] [--verbose]
          [--min-success10 X] [--min-mrr X]

Exit status 1 when a --min-* threshold is not reached (the regression
test, tests/t_eval.sh), 2 on errors.
"""
import argparse
import json
import subprocess
import sys
from collections import OrderedDict


def load_queries(path):
    out = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            parts = line.split('\t')
            if len(parts) != 3:
                sys.exit('%s:%d: want kind<TAB>query<TAB>paths' % (path, n))
            kind, query, paths = parts
            out.append((kind, query, [p for p in paths.split(',') if p]))
    return out


def rank_of(prsearch, index, query, expected, prefix=False):
    """1-based rank of the first expected path in the top 10, 0 if absent.
    PREFIX: as the search box asks while typing (the last word is a prefix)."""
    p = subprocess.run([prsearch, '-d', index, '--json', '-n', '10'] +
                       (['--prefix'] if prefix else []) + ['--', query],
                       capture_output=True)
    if p.returncode not in (0, 1):
        sys.exit('prsearch failed on %r: %s' % (query, p.stderr.decode(errors='replace')))
    hits = json.loads(p.stdout)['hits']
    for i, h in enumerate(hits, 1):
        if h['path'] in expected:
            return i, hits
    return 0, hits


def scores(ranks):
    n = len(ranks)
    if n == 0:
        return 0.0, 0.0, 0.0
    mrr = sum(1.0 / r for r in ranks if r) / n
    s1 = sum(1 for r in ranks if r == 1) / n
    s10 = sum(1 for r in ranks if r) / n
    return mrr, s1, s10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prsearch', required=True)
    ap.add_argument('--index', required=True)
    ap.add_argument('--queries', default=__file__.rsplit('/', 1)[0] + '/queries.tsv')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--min-success10', type=float, default=None)
    ap.add_argument('--min-mrr', type=float, default=None)
    a = ap.parse_args()

    by_kind = OrderedDict()
    allr = []
    misses = []
    for kind, query, expected in load_queries(a.queries):
        r, hits = rank_of(a.prsearch, a.index, query, expected, kind == 'prefix')
        by_kind.setdefault(kind, []).append(r)
        allr.append(r)
        if r != 1:
            misses.append((kind, query, r, hits[0]['path'] if hits else '-', expected[0]))

    print('%-10s %5s %8s %8s %8s' % ('kind', 'n', 'MRR@10', 'succ@1', 'succ@10'))
    for kind, ranks in by_kind.items():
        print('%-10s %5d %8.3f %8.3f %8.3f' % ((kind, len(ranks)) + scores(ranks)))
    mrr, s1, s10 = scores(allr)
    print('%-10s %5d %8.3f %8.3f %8.3f' % ('overall', len(allr), mrr, s1, s10))
    if a.verbose:
        for kind, query, r, got, want in misses:
            print('  %s %-40r rank %s; first: %s; want: %s' % (kind, query, r or '>10', got, want))
    ok = True
    if a.min_success10 is not None and s10 < a.min_success10:
        print('success@10 %.3f is below %.3f' % (s10, a.min_success10))
        ok = False
    if a.min_mrr is not None and mrr < a.min_mrr:
        print('MRR@10 %.3f is below %.3f' % (mrr, a.min_mrr))
        ok = False
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
