#!/usr/bin/env python3
"""fuzz/make_seeds.py - (re)write the seed corpora of fuzz/seeds/.

Seeds are the starting inputs of each harness and are replayed by
tests/t_fuzz.sh forever. This script writes the generated ones: copies of
data/ pages and tests/fixtures, plus crafted cases (broken YAML, nested HTML,
Liquid and kramdown, tokenizer traps, nasty queries, HTTP requests with
pipelining, huge headers, invalid escapes). Files named bug-* are minimal
reproducers of findings, written by hand; this script never touches them.

    python3 fuzz/make_seeds.py     (from anywhere; writes only fuzz/seeds/)
"""
import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SEEDS = os.path.join(HERE, "seeds")


def put(harness, name, data):
    d = os.path.join(SEEDS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clear_generated(harness):
    d = os.path.join(SEEDS, harness)
    for f in glob.glob(os.path.join(d, "*")):
        if not os.path.basename(f).startswith("bug-"):
            os.remove(f)


def samples():
    """(name, bytes) of the sample pages in data/ and the test fixtures."""
    out = []
    for p in sorted(glob.glob(os.path.join(SRC, "data", "**", "*"), recursive=True)):
        if os.path.isfile(p) and p.endswith((".md", ".markdown")):
            out.append(("data-" + os.path.basename(p), open(p, "rb").read()))
    for p in sorted(glob.glob(os.path.join(SRC, "tests", "fixtures", "*"))):
        if os.path.isfile(p):
            out.append(("fixture-" + os.path.basename(p), open(p, "rb").read()))
    return out


def body_of(page):
    """The part after the front matter, if any."""
    if page.startswith(b"---\n"):
        end = page.find(b"\n---\n", 4)
        if end >= 0:
            return page[end + 5:]
    return page


FRONTMATTER = {
    "empty-block": "---\n---\nCorps.\n",
    "dots-close": "---\ntitle: Fin par points\n...\nCorps.\n",
    "trailing-blanks": "--- \t\ntitle: x\n---  \nCorps\n",
    "crlf": "---\r\ntitle: \"CRLF\"\r\ndate: 2021-03-01\r\n---\r\nCorps\r\n",
    "lone-cr": "---\rtitle: a\r---\rb\r",
    "bom": "\ufeff---\ntitle: BOM\n---\nx\n",
    "unclosed": "---\ntitle: jamais fermé\n",
    "unclosed-quote": "---\ntitle: \"ouvert\ndate: 2021-01-01\n---\n",
    "unclosed-single": "---\ntitle: 'l''État\n---\n",
    "unclosed-flow": "---\ntags: [a, b\ncategories: {x: 1\n---\n",
    "bad-indent": "---\ntitle: a\n  date: b\n c: d\n---\n",
    "tab-indent": "---\ntags:\n\t- a\n---\n",
    "not-mapping-list": "---\n- a\n- b\n---\n",
    "not-mapping-scalar": "---\njuste du texte\n---\n",
    "null-doc": "---\n~\n---\nx\n",
    "two-docs": "---\na: 1\n---\nb: 2\n---\n",
    "doc-marker-inside": "---\na: 1\n--- \nb: 2\n...\n",
    "anchors": "---\nbase: &b [x, y]\ntags: *b\ncategories: *b\ntitle: &t T\nchapeau-text: *t\n---\n",
    "alias-unknown": "---\ntags: *nope\n---\n",
    "merge-key": "---\n<<: {title: fusion}\ntitle: propre\n---\n",
    "nested": "---\ntags:\n  - [a, [b, [c]]]\n  - {k: v}\ncategories:\n  x: y\ntitle: [liste]\n---\n",
    "types": "---\ntitle: 123\ndate: 2021-02-30\npublished: no\npermalink: null\ntags: true\n---\n",
    "dates": "---\ndate: 2021-03-01T13:11:00.123456+05:45\n---\n",
    "date-bad-offset": "---\ndate: 2021-03-01 25:61:61 +99:99\n---\n",
    "date-year-0": "---\ndate: 0000-00-00\n---\n",
    "date-huge": "---\ndate: 99999999-12-31 23:59:59 -23:59\n---\n",
    "date-text": "---\ndate: hier\n---\n",
    "published-false": "---\ntitle: caché\npublished: false\n---\n",
    "published-variants": "---\npublished: False\npublished: 'false'\npublished: 0\n---\n",
    "singular-keys": "---\ncategory: Une\ntag: Deux\ncategories: [Trois]\n---\n",
    "chapeau-md": "---\nchapeau-text: \"**gras** <b>html</b> {% raw %} [lien](u)\\n\\n# titre\"\n---\n",
    "block-scalars": "---\nchapeau-text: |\n  ligne 1\n  ligne 2\ntitle: >-\n  plié\n  sur deux\n---\n",
    "escapes": "---\ntitle: \"\\u00e9t\\xe9 \\U0001F600 \\0 \\a \\e \\N \\_ \\L \\P\"\n---\n",
    "bad-escape": "---\ntitle: \"\\q \\u12\"\n---\n",
    "yaml-directive": "---\n%YAML 1.1\n%TAG ! tag:x:\n---\n",
    "tags-yaml": "---\ntitle: !!binary aGVsbG8=\ntags: !custom [a]\n---\n",
    "complex-key": "---\n? [a, b]\n: c\n? title\n: clé complexe\n---\n",
    "line-separators": "---\ntitle: a\u2028b\u2029c\u0085d\ntags: [x\u2028,\n---\n",
    "long-line": "---\ntitle: " + "é" * 3000 + "\nbad: [\n---\n",
    "deep-flow": "---\ntags: " + "[" * 200 + "]" * 200 + "\n---\n",
    "deep-block": "---\n" + "".join("  " * i + "k%d:\n" % i for i in range(100)) + "---\n",
    "invalid-utf8": b"---\ntitle: \"caf\xe9 \xc3\x28 \xf0\x28\x8c\x28\"\n---\ncorps \xff\xfe\n",
    "invalid-utf8-error": b"---\ntitle: [\xe9\n---\n",
    "nul": b"---\ntitle: a\x00b\n---\n",
    "utf16": b"\xff\xfe-\x00-\x00-\x00\n\x00",
    "no-frontmatter-heading": "Texte avant\n\n# Le vrai titre\n\ncorps\n",
    "dashes-not-first": "\n---\ntitle: pas un bloc\n---\n",
    "only-dashes": "---",
    "only-dashes-nl": "---\n",
}

MARKDOWN = {
    "nested-html": "<div><p>un<div>deux<span>trois</p></div>quatre</span>\n\n<table><tr><td>a<td>b</table>\n",
    "script-style": "<script>alert('x')</script><style>p{}</style><template><b>t</b></template>texte <!-- commentaire --> fin\n",
    "unclosed-script": "<script>var a = '</scr' + 'ipt>';\n\nparagraphe\n",
    "entities": "&eacute;t&eacute; &amp; &lt;b&gt; &#233; &#x1F600; &#0; &#xD800; &#99999999; &bogus; &\n",
    "inline-html": "Un <b>gras</b>, un <a href=\"x\">lien</a>, un <br>saut<br/>, <img alt=\"alt\">.\n",
    "liquid": "{% include a.html param=\"x\" %}texte {{ page.title | upcase }} {% if x %}oui{% else %}non{% endif %} {% raw %}{{ brut }}{% endraw %}\n",
    "liquid-unclosed": "{% include a.html\n\ntexte {{ jamais fermé\n\n{%\n",
    "kramdown": "Bouton{: .btn}\n{: #id .class}\n\n[lien](u){:target=\"_blank\"}\n\n{::comment}\ncaché\n{:/comment}\n\n{::nomarkdown}<b>x</b>{:/}\n\n{:toc}\n",
    "kramdown-unclosed": "texte {: .class\n\n{::options parse_block_html=\"true\" /\n",
    "tables": "| a | b |\n|---|---|\n| 1 | <b>2</b> |\n| `|` | \\| |\n",
    "code": "```html\n<script>garde</script>\n```\n\n    indenté <b>\n\n`inline <i>`\n",
    "links-images": "[texte **gras**](http://x \"titre\") ![alt *texte*](img.png) <http://auto.lien> [ref][1]\n\n[1]: http://ref\n",
    "quotes-lists": "> citation\n> > imbriquée\n\n- un\n  - deux\n    1. trois\n\n* [ ] tâche\n",
    "deep-quotes": ">" * 500 + " profond\n",
    "deep-lists": "".join("  " * i + "- n%d\n" % i for i in range(200)),
    "deep-emphasis": "*" * 300 + "x" + "*" * 300 + "\n",
    "deep-brackets": "[" * 1000 + "x" + "](u)" * 1000 + "\n",
    "headings": "# Un\n## Deux ##\nTrois\n=====\n\n####### pas un titre\n#\n",
    "html-block-heading": "<h1>Titre HTML</h1>\n<h2>Sous <em>titre</em></h2>\n",
    "html-comment-block": "<!--\n# pas un titre\n-->\n\ntexte\n",
    "cdata-pi": "<![CDATA[ x ]]>\n\n<?php echo 1; ?>\n\n<!DOCTYPE html>\n",
    "svg-math": "<svg><title>t</title><text>dans svg</text><foreignObject><p>fo</p></foreignObject></svg><math><mi>x</mi></math>\n",
    "noscript-iframe": "<noscript>ns</noscript><iframe>if</iframe><textarea>ta</textarea><select><option>o</select>\n",
    "frameset": "<frameset><frame></frameset><plaintext>tout le reste <b>\n",
    "invalid-utf8": b"caf\xe9 <b>\xc3\x28</b> \xed\xa0\x80 \xf4\x90\x80\x80\n",
    "nul": b"a\x00b <p>\x00</p>\n",
    "crlf": "# Titre\r\n\r\nLigne\r\n<div>\r\nhtml\r\n</div>\r\n",
    "tabs-spaces": "\t# pas titre\n \t- liste\n\u00a0\u202f espaces\n",
    "setext-html": "<div>\nx\n</div>\n---\n",
    "footnotes": "Texte[^1].\n\n[^1]: Note *en bas*.\n",
    "nfkc": "ﬁnance ＦＵＬＬ ǅ Ⅻ ㎧ ﷺ\n",
}

TOKENIZER = {
    "spec-elision": "l’État d'intérêt qu’il jusqu'à lorsqu'on puisqu'elle quoiqu'il c'est m'a n'y s'est t'as j'ai L'ÉTAT D'INTÉRÊT",
    "spec-hyphens": "porte-parole c'est-à-dire peut-être vis-à-vis -tiret tiret- a--b Saint-Jean-de-Luz",
    "spec-accents": "accessibilité accessibilite Accessibilités données donnees donnée recrute recrutement recrutés Etat état ÉTAT",
    "spec-numbers": "3 500 3\u00a0500 3\u202f500 12 345 678 1 23 1 2345 0,5 3.14 2021-03-01 10h30",
    "spec-acronyms": "E.I.G. d’E.I.G. U.S.A. A.B E.I.G.s a.b.c.d.e.f.g.h.i.j.k",
    "spec-inclusive": "entrepreneur.e.s entrepreneur·e·s salarié·es Futur.e.s agent.e ami·e·s fin.",
    "spec-ordinals": "5e 5ème 5eme 5E 5è 1er 1re 1ère 2nd 2de XXIe 21e siècle 10ᵉ 1ᵉʳ",
    "spec-stopwords": "le la les de du des un une et ou mais donc or ni car à au aux talents du numérique",
    "spec-prefix": "recru etabliss frigorif frigorifi num d’é l’",
    "marks-nfd": "e\u0301te\u0301 E\u0301TAT a\u0300 c\u0327a \u0301seul \u0301\u0301\u0301",
    "nfkc-expansion": "ﷺ" * 40 + " ﬃ ﬄ ＡＢＣ ㍿ ㎧ ⅫⅫ",
    "long-word": "a" * 300 + " " + "é" * 200 + " " + "ﷺ" * 100,
    "long-hyphenated": "-".join(["mot%d" % i for i in range(200)]),
    "long-number": "1" * 300 + " " + " 000" * 100,
    "long-acronym": ".".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 5) + ".",
    "scripts": "中文 日本語 한국어 Ελληνικά русский العربية עברית हिन्दी ไทย 🎉👍🏽 𝔘𝔫𝔦",
    "apostrophes": "l' d’ qu'' ’’ 'l' aujourd'hui prud’homme l’’État l‘État ʼ'ʼ",
    "separators": "a\u00adb a\u200cb a\u200db a\u2060b a\u00ad \u00ad \u200d\u200d x\ufeffy",
    "invalid-utf8": b"caf\xe9 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf \xe0\x80\xaf \xff \xc3",
    "nul": b"a\x00b \x00 l'\x00a",
    "surface-mark": "~etat ~ ~~ ~établissement",
    "mixed-digits": "a1b2 5e-6e 3 500e 1er-2e ①②③ ٣٤٥ ４５",
    "cases": "ǅungla ǈ İstanbul ß ẞ ﬀ ΣΑΣ ς",
}

QUERIES = [
    (0, "eig recrutement"),
    (0, "\"talents du numérique\""),
    (0, "-webinaire cloud"),
    (0, "-\"appel à projets\" webinaire"),
    (0, "cloud OR souveraineté"),
    (0, "recru*"),
    (1, "frigorifi"),
    (1, "etabliss"),
    (0, "tag:EIG category:\"Communiqué de presse\" collection:communiques"),
    (0, "year:2021 after:2021-01-01 before:2021-12-31"),
    (0, "year:abcd after:2021-13-45 before:0000-00-00"),
    (0, "-tag:EIG -year:2021 -collection:x"),
    (0, "\"unbalanced"),
    (0, "\"\"\"\"\""),
    (0, "OR OR AND NOT"),
    (0, "a OR"),
    (0, "OR b"),
    (0, "- -- ---"),
    (0, "* ** a* *a"),
    (0, "NEAR(a b, 2) col:x ^a title:b {a b}"),
    (0, "' OR 1=1 --"),
    (0, "\"); DROP TABLE documents; --"),
    (0, "le la les du de"),
    (0, "\x01\x02\x7f\t\r\n"),
    (0, b"\xff\xfe caf\xe9"),
    (0, "l’État « talents » “numérique”"),
    (0, " ".join("m%d" % i for i in range(40))),
    (0, "x" * 1100),
    (0, " OR ".join("p%d*" % i for i in range(32))),
    (0, "3 500 5e E.I.G. entrepreneur·e·s porte-parole"),
    (0, ":"),
    (0, "tag:"),
    (0, "tag:\"\""),
    (0, "\"phrase* \" \"*\""),
    (0, "~etat"),
    (0, "a\u2028b\u00a0c\u3000d"),
    (0, "(a OR b) AND (c"),
    (0, "-"),
    (0, "\"-\""),
    (0, "après:2021 avant:2022"),
]


def query_seed(flags, q, fields=None):
    if isinstance(q, str):
        q = q.encode("utf-8")
    parts = [q] + [f.encode("utf-8") if isinstance(f, str) else f for f in (fields or [])]
    return bytes([flags]) + b"\x00".join(parts)


HTTP = {
    "search": "GET /search?q=eig+recrutement&limit=5&offset=0 HTTP/1.1\r\nHost: x\r\n\r\n",
    "search-all-params": "GET /search?q=%C3%A9tat&limit=3&offset=1&tag=EIG&category=Communiqu%C3%A9+de+presse&collection=communiques&after=2020&before=2023-12&prefix=1&distinct=0 HTTP/1.1\r\n\r\n",
    "suggest": "GET /suggest?q=fri&limit=3 HTTP/1.1\r\n\r\n",
    "health-metrics": "GET /health HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n",
    "head": "HEAD /search?q=cloud HTTP/1.1\r\n\r\nHEAD /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    "head-then-error": "HEAD /health HTTP/1.1\r\n\r\nGET /search?q=" + "a" * 1100 + " HTTP/1.1\r\n\r\n",
    "pipelined": "".join("GET /search?q=m%d HTTP/1.1\r\n\r\n" % i for i in range(12)),
    "pipelined-mixed": "GET /health HTTP/1.1\r\n\r\nPOST /search HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /nope HTTP/1.1\r\n\r\nGET /suggest?q=a HTTP/1.1\r\n\r\n",
    "http10": "GET /search?q=a HTTP/1.0\r\n\r\nGET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n",
    "connection-close": "GET /health HTTP/1.1\r\nConnection: close\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    "not-found": "GET / HTTP/1.1\r\n\r\nGET /search/ HTTP/1.1\r\n\r\nGET /SEARCH HTTP/1.1\r\n\r\n",
    "methods": "POST /search?q=a HTTP/1.1\r\nContent-Length: 0\r\n\r\nDELETE /health HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n",
    "connect": "CONNECT example.org:443 HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    "upgrade": "GET /health HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x00\x01binary",
    "absolute-uri": "GET http://x/search?q=a HTTP/1.1\r\n\r\nGET //search HTTP/1.1\r\n\r\n",
    "bad-escapes": "GET /search?q=%G1 HTTP/1.1\r\n\r\nGET /search?q=%4 HTTP/1.1\r\n\r\nGET /search?q=%00 HTTP/1.1\r\n\r\nGET /search?q=% HTTP/1.1\r\n\r\n",
    "invalid-utf8": "GET /search?q=%C3%28%FF%ED%A0%80 HTTP/1.1\r\n\r\n",
    "control-chars": "GET /search?q=a%0D%0ASet-Cookie:+x%09b%7F HTTP/1.1\r\n\r\n",
    "html-injection": "GET /search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27%26 HTTP/1.1\r\n\r\nGET /suggest?q=%3Cb%3E HTTP/1.1\r\n\r\n",
    "bad-params": "GET /search?q=a&limit=0 HTTP/1.1\r\n\r\nGET /search?q=a&limit=999 HTTP/1.1\r\n\r\nGET /search?q=a&limit=-1&offset=x HTTP/1.1\r\n\r\nGET /search?q=a&limit=1e3 HTTP/1.1\r\n\r\n",
    "bad-dates": "GET /search?q=a&after=2021-02-30 HTTP/1.1\r\n\r\nGET /search?q=a&before=x HTTP/1.1\r\n\r\n",
    "repeated-params": "GET /search?q=a&q=b&limit=1&limit=2&&=&x&q HTTP/1.1\r\n\r\n",
    "no-query": "GET /search HTTP/1.1\r\n\r\nGET /search? HTTP/1.1\r\n\r\nGET /suggest?#frag HTTP/1.1\r\n\r\n",
    "long-query": "GET /search?q=" + "a+" * 200 + " HTTP/1.1\r\n\r\n",
    "long-uri": "GET /search?q=" + "x" * 1500 + " HTTP/1.1\r\n\r\n",
    "huge-header": "GET /health HTTP/1.1\r\nX-Big: " + "h" * 3000 + "\r\n\r\n",
    "many-headers": "GET /health HTTP/1.1\r\n" + "".join("X-%d: v\r\n" % i for i in range(30)) + "\r\n",
    "body-too-big": "GET /health HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc",
    "body-small": "GET /health HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /health HTTP/1.1\r\n\r\n",
    "chunked": "GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    "chunked-bad": "GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunked-big": "GET /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + "b" * 1024 + "\r\n0\r\n\r\n",
    "two-content-length": "GET /health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "cl-and-te": "GET /health HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare-lf": "GET /health HTTP/1.1\nHost: x\n\nGET /health HTTP/1.1\n\n",
    "folded-header": "GET /health HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
    "nul-in-head": b"GET /health HTTP/1.1\r\nX: a\x00b\r\n\r\n",
    "nul-in-uri": b"GET /search?q=a\x00b HTTP/1.1\r\n\r\n",
    "crlf-in-uri": "GET /search?q=a\r\nInjected: yes HTTP/1.1\r\n\r\n",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "http2-preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "bad-version": "GET /health HTTP/9.9\r\n\r\nGET /health HTTP/1.1x\r\n\r\n",
    "lowercase-method": "get /health HTTP/1.1\r\n\r\n",
    "incomplete": "GET /search?q=a HTTP/1.1\r\nHost: x\r\n",
    "incomplete-line": "GET /sea",
    "empty-lines": "\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
    "expect": "GET /health HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
    "slow-query": "GET /search?q=" + "+OR+".join("p%d*" % i for i in range(30)) + " HTTP/1.1\r\n\r\n",
}


def main():
    for h in ("frontmatter", "markdown", "tokenizer", "query", "http"):
        clear_generated(h)
    pages = samples()
    for name, data in pages:
        put("frontmatter", name, data)
        put("markdown", name, body_of(data))
    for name, data in FRONTMATTER.items():
        put("frontmatter", "crafted-" + name + ".md", data)
    for name, data in MARKDOWN.items():
        put("markdown", "crafted-" + name + ".md", data)
    for name, data in pages[:6]:
        put("tokenizer", name, body_of(data))
    for name, data in TOKENIZER.items():
        put("tokenizer", "crafted-" + name + ".txt", data)
    for i, (flags, q) in enumerate(QUERIES):
        put("query", "crafted-%02d" % i, query_seed(flags | 0x24, q))
    put("query", "crafted-fields", query_seed(0x2A, "cloud", ["EIG", "Communiqué de presse",
                                                                 "communiques", "2021", "2023-06"]))
    put("query", "crafted-bad-dates", query_seed(0x00, "a", ["", "", "", "2021-02-30", "x"]))
    put("query", "crafted-fields-nasty", query_seed(0xFF, "\"", ["\"", "'", "%", "\xff", "2021-13"]))
    for name, data in HTTP.items():
        put("http", "crafted-" + name + ".http", data)


if __name__ == "__main__":
    main()
