#!/usr/bin/python3
"""bench/eval_compare.py - side-by-side search quality: prsearch, SQLite FTS5
(unicode61 remove_diacritics 2) and Xapian (French Snowball), on the same
evaluation set (tests/eval/queries.tsv), in the same run.

All three engines index the same text: the fields prsearch stored for each
page (title, headings, chapeau, body, taxonomy, read from its index file),
so only the search engines differ, not the Markdown parsing. Each is set up
as a competent user would:

  fts5    one FTS5 table over the five fields, tokenizer unicode61 with
          remove_diacritics 2; bm25 with the weights of SPEC section 4
          (10, 5, 4, 1, 3); the query's words quoted and ANDed, the last
          one as "word"* for the prefix kind.
  xapian  TermGenerator and QueryParser with the French Snowball stemmer,
          STEM_SOME, default operator AND, FLAG_PARTIAL for the prefix kind;
          field weights as within-document frequency increments (10, 5, 4,
          1, 3); accents and case folded on both sides by the same
          normalisation step (NFKD, combining marks dropped, lower case),
          because Snowball stems accented and plain spellings differently.
  prsearch  `prsearch -d INDEX --json -n 10` (with --prefix for the prefix
          kind), exactly as tests/eval/eval.py runs it.

Prints a table engines x kinds with MRR@10 and success@10, and with
--verbose the queries each engine misses. Run through bench/eval_compare.sh.
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from collections import OrderedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'eval'))
import eval as pr_eval  # noqa: E402  (tests/eval/eval.py: load_queries, scores)

FIELDS = ('title', 'headings', 'chapeau', 'body', 'taxonomy')
WEIGHTS = (10, 5, 4, 1, 3)


def load_pages(index):
    db = sqlite3.connect('file:%s?mode=ro' % index, uri=True)
    rows = db.execute('SELECT path, %s FROM documents ORDER BY id' % ', '.join(FIELDS)).fetchall()
    db.close()
    return rows


# ---- prsearch ----------------------------------------------------------------

def prsearch_ranker(prsearch, index):
    def rank(query, kind):
        cmd = [prsearch, '-d', index, '--json', '-n', '10']
        if kind == 'prefix':
            cmd.append('--prefix')
        p = subprocess.run(cmd + ['--', query], capture_output=True)
        if p.returncode not in (0, 1):
            sys.exit('prsearch failed on %r: %s' % (query, p.stderr.decode(errors='replace')))
        return [h['path'] for h in json.loads(p.stdout)['hits']]
    return rank


# ---- SQLite FTS5 ---------------------------------------------------------------

def fts5_ranker(pages):
    db = sqlite3.connect(':memory:')
    db.execute("CREATE VIRTUAL TABLE f USING fts5(path UNINDEXED, %s,"
               " tokenize = 'unicode61 remove_diacritics 2')" % ', '.join(FIELDS))
    db.executemany('INSERT INTO f VALUES (?, ?, ?, ?, ?, ?)', pages)
    sql = ('SELECT path FROM f WHERE f MATCH ? ORDER BY bm25(f, 0, %s) LIMIT 10'
           % ', '.join(str(w) for w in WEIGHTS))

    def rank(query, kind):
        words = [w for w in query.split() if re.search(r'\w', w)]
        if not words:
            return []
        terms = ['"%s"' % w.replace('"', '""') for w in words]
        if kind == 'prefix':
            terms[-1] += '*'
        try:
            return [r[0] for r in db.execute(sql, (' AND '.join(terms),))]
        except sqlite3.OperationalError:
            return []
    return rank


# ---- Xapian --------------------------------------------------------------------

def fold(text):
    """The normalisation a user adds around Xapian: no accents, lower case."""
    d = unicodedata.normalize('NFKD', text or '')
    return ''.join(c for c in d if not unicodedata.combining(c)).lower()


def xapian_ranker(pages):
    import xapian
    db = xapian.WritableDatabase('', xapian.DB_BACKEND_INMEMORY)
    stem = xapian.Stem('french')
    tg = xapian.TermGenerator()
    tg.set_stemmer(stem)
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    for row in pages:
        doc = xapian.Document()
        tg.set_document(doc)
        for text, w in zip(row[1:], WEIGHTS):
            tg.index_text(fold(text), w)
            tg.increase_termpos()
        doc.set_data(row[0])
        db.add_document(doc)
    qp = xapian.QueryParser()
    qp.set_stemmer(stem)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_AND)
    qp.set_database(db)
    enquire = xapian.Enquire(db)

    def rank(query, kind):
        flags = xapian.QueryParser.FLAG_DEFAULT
        if kind == 'prefix':
            flags |= xapian.QueryParser.FLAG_PARTIAL
        try:
            q = qp.parse_query(fold(query), flags)
        except xapian.QueryParserError:
            return []
        enquire.set_query(q)
        return [m.document.get_data().decode() for m in enquire.get_mset(0, 10)]
    return rank


# ---- the table -------------------------------------------------------------------

def first_rank(paths, expected):
    for i, p in enumerate(paths, 1):
        if p in expected:
            return i
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prsearch', required=True)
    ap.add_argument('--index', required=True)
    ap.add_argument('--queries', required=True)
    ap.add_argument('--verbose', action='store_true')
    a = ap.parse_args()

    queries = pr_eval.load_queries(a.queries)
    pages = load_pages(a.index)
    engines = OrderedDict([('prsearch', prsearch_ranker(a.prsearch, a.index)),
                           ('fts5', fts5_ranker(pages)),
                           ('xapian', xapian_ranker(pages))])
    kinds = list(OrderedDict.fromkeys(k for k, _, _ in queries))
    ranks = {e: OrderedDict((k, []) for k in kinds) for e in engines}
    misses = {e: [] for e in engines}
    for kind, query, expected in queries:
        for name, rank in engines.items():
            r = first_rank(rank(query, kind), expected)
            ranks[name][kind].append(r)
            if r == 0:
                misses[name].append((kind, query))

    print('%d queries, %d pages; MRR@10 / success@10' % (len(queries), len(pages)))
    print('%-10s' % 'kind' + ''.join('%20s' % e for e in engines))
    for kind in kinds + ['overall']:
        cells = []
        for e in engines:
            rs = sum(ranks[e].values(), []) if kind == 'overall' else ranks[e][kind]
            mrr, _, s10 = pr_eval.scores(rs)
            cells.append('%12.3f / %5.3f' % (mrr, s10))
        n = len(queries) if kind == 'overall' else len(ranks['prsearch'][kind])
        print('%-10s' % ('%s(%d)' % (kind, n)) + ''.join('%20s' % c for c in cells))
    if a.verbose:
        for e in engines:
            print('%s misses (%d): %s' % (e, len(misses[e]),
                                          '; '.join('%s %r' % m for m in misses[e])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
