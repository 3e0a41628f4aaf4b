// web/search.js - behaviour of the search page (web/search.html), served
// as /search.js. Plain JS, no framework. The visitor types; after a short
// pause the page asks /suggest for the dropdown and /search for results.
// The state (q, collection, category, year, page) lives in the URL, so a
// results page can be shared and Back works.
//
// Analytics: a search is counted by the daemon only when the request
// carries log=1. The page adds it once the query is "settled": on Enter,
// on choosing a suggestion or a filter, or after SETTLE_MS without typing;
// never for the keystrokes in between, nor for paging or reloading.
'use strict';

(() => {
  const DEBOUNCE_MS = 150;
  const SETTLE_MS = 1500;
  const PER_PAGE = 10;
  const FACET_VALUES = 8;
  const COLLECTIONS = {
    communiques: 'Communiqués', actualites: 'Actualités', evenements: 'Événements',
    publications: 'Publications', pages: 'Pages',
  };
  const FACETS = [ // [state key, facets key in the JSON, heading]
    ['collection', 'collection', 'Rubrique'],
    ['category', 'categories', 'Catégorie'],
    ['year', 'year', 'Année'],
  ];

  const $ = (id) => document.getElementById(id);
  const main = $('main'), form = $('form'), input = $('q'), list = $('suggestions');
  const status = $('status'), correction = $('correction'), active = $('active');
  const filters = $('filters'), hitsEl = $('hits'), empty = $('empty'), pages = $('pages');

  // The API sits beside the page unless data-api says otherwise, so the
  // page works at / and behind a proxy under a prefix alike.
  const apiBase = new URL(main.dataset.api || '.', location.href);
  const api = (path, params) => {
    const u = new URL(path, apiBase);
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.searchParams.set(k, v);
    return u;
  };
  const dateFmt = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric' });
  const numFmt = new Intl.NumberFormat('fr-FR');

  let state = readUrl();
  let seq = 0;            // answers to older searches are ignored
  let suggestSeq = 0;     // ... and to older /suggest requests
  let options = [];       // current suggestions
  let current = -1;       // index of the highlighted suggestion
  let debounce = 0, settle = 0;
  let lastLogged = '';
  let typingEntry = false; // the history entry of the query being typed exists

  function readUrl() {
    const p = new URLSearchParams(location.search);
    const page = parseInt(p.get('page') || '1', 10);
    return {
      q: p.get('q') || '', collection: p.get('collection') || '',
      category: p.get('category') || '', year: /^\d{4}$/.test(p.get('year') || '') ? p.get('year') : '',
      page: page > 0 ? page : 1,
    };
  }

  function writeUrl(push) {
    const p = new URLSearchParams();
    for (const k of ['q', 'collection', 'category', 'year']) if (state[k]) p.set(k, state[k]);
    if (state.page > 1) p.set('page', String(state.page));
    const url = location.pathname + (p.toString() ? '?' + p : '');
    if (url === location.pathname + location.search) return;
    (push ? history.pushState : history.replaceState).call(history, null, '', url);
  }

  // A key that says which query a log=1 request was for, so one settled
  // query is counted once.
  const stateKey = () => [state.q.trim(), state.collection, state.category, state.year].join('\u0001');

  function searchParams(extra) {
    return Object.assign({
      q: state.q, limit: PER_PAGE, offset: (state.page - 1) * PER_PAGE,
      collection: state.collection, category: state.category,
      after: state.year && state.year + '-01-01', before: state.year && state.year + '-12-31',
    }, extra);
  }

  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new Error((body && body.error && body.error.message) || r.statusText);
    return body;
  }

  // Run the search of `state`. opts: push (new history entry), log (count
  // it), typing (last word is a prefix: results as you type).
  async function run(opts = {}) {
    clearTimeout(settle);
    // Typing makes one history entry, replaced at each keystroke.
    writeUrl(!!opts.push || (!!opts.typing && !typingEntry));
    typingEntry = !!opts.typing;
    const id = ++seq;
    if (!state.q.trim() && !state.collection && !state.category && !state.year) {
      render(null);
      return;
    }
    const extra = {};
    if (opts.typing) extra.prefix = 1;
    if (opts.log && stateKey() !== lastLogged) { extra.log = 1; lastLogged = stateKey(); }
    try {
      const data = await getJson(api('search', searchParams(extra)));
      if (id === seq) render(data);
      if (id === seq && data.suggestion) explainCorrection(data, id);
    } catch (e) {
      if (id === seq) say(`La recherche a échoué : ${e.message}`);
    }
    if (opts.typing) settle = setTimeout(() => run({ log: true, push: true }), SETTLE_MS);
  }

  function say(text) { status.textContent = text; }

  function render(data) {
    hitsEl.textContent = '';
    correction.hidden = true;
    empty.hidden = true;
    renderActive();
    if (!data) { say(''); filters.textContent = ''; pages.hidden = true; return; }
    const n = data.total;
    const shown = data.suggestion && n > 0 ? data.suggestion : state.q;
    say(n === 0 ? `Aucun résultat pour « ${state.q} »`
      : `${numFmt.format(n)} résultat${n > 1 ? 's' : ''}` + (shown.trim() ? ` pour « ${shown} »` : ''));
    data.hits.forEach((h, i) => hitsEl.append(renderHit(h, data.offset + i + 1)));
    hitsEl.start = data.offset + 1;
    empty.hidden = n !== 0;
    renderFacets(data.facets || {});
    renderPages(n);
  }

  function el(tag, attrs = {}, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }

  function formatDate(iso) {
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
    return d ? dateFmt.format(new Date(Date.UTC(+d[1], d[2] - 1, +d[3], 12))) : '';
  }

  function renderHit(h) {
    const li = el('li');
    const h2 = el('h2');
    const a = el('a', { href: h.url });
    a.innerHTML = h.title_html; // escaped text + <mark> only (SPEC 7)
    h2.append(a);
    const meta = el('p', { class: 'meta' });
    const date = formatDate(h.date);
    if (date) meta.append(el('time', { datetime: h.date }, date));
    const label = [COLLECTIONS[h.collection] || h.collection, ...(h.categories || [])]
      .filter(Boolean).join(' · ');
    if (label) meta.append((date ? ' — ' : '') + label);
    const snip = el('p', { class: 'snippet' });
    snip.innerHTML = h.snippet_html; // idem
    li.append(h2, meta, snip);
    if (h.duplicates && h.duplicates.length) {
      const also = el('p', { class: 'also' }, 'Aussi publié à : ');
      h.duplicates.forEach((u, i) => also.append(i ? ', ' : '', el('a', { href: u }, u)));
      li.append(also);
    }
    return li;
  }

  // Hits for a corrected query come with `suggestion` set and no hits for
  // the query as typed; a mere hint keeps the hits of the typed query. The
  // JSON does not say which: ask for the corrected query and compare.
  async function explainCorrection(data, id) {
    let corrected = false;
    if (data.total > 0) {
      try {
        const alt = await getJson(api('search', Object.assign(searchParams(), { q: data.suggestion })));
        corrected = alt.total === data.total &&
          (alt.hits[0] && alt.hits[0].url) === (data.hits[0] && data.hits[0].url);
      } catch (e) { /* keep it a hint */ }
    }
    if (id !== seq) return;
    correction.textContent = '';
    const link = el('a', { href: '?' + new URLSearchParams({ q: data.suggestion }) }, data.suggestion);
    link.addEventListener('click', (ev) => {
      ev.preventDefault();
      input.value = data.suggestion;
      Object.assign(state, { q: data.suggestion, page: 1 });
      run({ push: true, log: true });
    });
    if (corrected) {
      correction.append(`Aucun résultat pour « ${state.q} ». Résultats pour « `, link, ' ».');
      say(`${numFmt.format(data.total)} résultat${data.total > 1 ? 's' : ''} pour « ${data.suggestion} »`);
    } else {
      correction.append('Essayez avec « ', link, ' »');
    }
    correction.hidden = false;
  }

  function setFilter(key, value) {
    state[key] = value;
    state.page = 1;
    run({ push: true, log: true });
  }

  function renderActive() {
    active.textContent = '';
    for (const [key, , heading] of FACETS) {
      if (!state[key]) continue;
      const v = key === 'collection' ? COLLECTIONS[state[key]] || state[key] : state[key];
      const b = el('button', { type: 'button', class: 'chip',
        'aria-label': `Retirer le filtre ${heading} : ${v}` }, `${heading} : ${v} ✕`);
      b.addEventListener('click', () => { setFilter(key, ''); input.focus(); });
      active.append(b);
    }
  }

  function renderFacets(facets) {
    filters.textContent = '';
    for (const [key, jsonKey, heading] of FACETS) {
      let entries = Object.entries(facets[jsonKey] || {});
      if (key === 'year') entries.sort((a, b) => b[0].localeCompare(a[0]));
      else entries.sort((a, b) => b[1] - a[1]);
      entries = entries.filter(([v]) => v !== state[key]).slice(0, FACET_VALUES);
      if (!entries.length) continue;
      const id = 'facet-' + key;
      const ul = el('ul', { 'aria-labelledby': id });
      for (const [value, count] of entries) {
        const label = key === 'collection' ? COLLECTIONS[value] || value : value;
        const b = el('button', { type: 'button', 'data-facet': key, 'data-value': value }, label);
        b.addEventListener('click', () => setFilter(key, value));
        const li = el('li');
        li.append(b, ' ', el('span', { class: 'count' }, `(${numFmt.format(count)})`));
        ul.append(li);
      }
      filters.append(el('h2', { id }, heading), ul);
    }
  }

  function renderPages(total) {
    const last = Math.max(1, Math.ceil(total / PER_PAGE));
    pages.textContent = '';
    pages.hidden = last <= 1;
    if (last <= 1) return;
    const link = (page, text, rel) => {
      const a = el('a', { href: '?' + pageQuery(page), rel }, text);
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        state.page = page;
        run({ push: true }).then(() => $('resultats').focus());
      });
      return a;
    };
    if (state.page > 1) pages.append(link(state.page - 1, '← Page précédente', 'prev'));
    pages.append(el('span', { 'aria-current': 'page' }, `Page ${state.page} sur ${last}`));
    if (state.page < last) pages.append(link(state.page + 1, 'Page suivante →', 'next'));
  }

  function pageQuery(page) {
    const p = new URLSearchParams();
    for (const k of ['q', 'collection', 'category', 'year']) if (state[k]) p.set(k, state[k]);
    p.set('page', page);
    return p;
  }

  // --- the suggestion list (WAI-ARIA 1.2 combobox with a listbox) ------

  async function suggest() {
    const q = input.value;
    const id = ++suggestSeq;
    if (!q.trim()) return closeList();
    try {
      const data = await getJson(api('suggest', { q, limit: 8 }));
      if (id !== suggestSeq || input.value !== q) return;
      showList(data.suggestions || []);
    } catch (e) { closeList(); }
  }

  function showList(items) {
    options = items;
    current = -1;
    list.textContent = '';
    items.forEach((s, i) => {
      // A suggestion with a URL is a page (its title); one without, words.
      const li = el('li', { role: 'option', id: 'sugg-' + i, 'aria-selected': 'false' }, s.text);
      if (s.url) li.append(el('small', {}, 'Page du site'));
      // mousedown, not click: the input must not lose focus first
      li.addEventListener('mousedown', (ev) => { ev.preventDefault(); choose(i); });
      list.append(li);
    });
    const open = items.length > 0 && document.activeElement === input;
    list.hidden = !open;
    input.setAttribute('aria-expanded', String(open));
    input.removeAttribute('aria-activedescendant');
  }

  function closeList() {
    list.hidden = true;
    current = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function highlight(i) {
    const items = list.children;
    if (!items.length) return;
    current = (i + items.length) % items.length;
    for (let k = 0; k < items.length; k++) items[k].setAttribute('aria-selected', String(k === current));
    input.setAttribute('aria-activedescendant', 'sugg-' + current);
    items[current].scrollIntoView({ block: 'nearest' });
  }

  function choose(i) {
    const o = options[i];
    closeList();
    if (o.url) { // a page: count the search that led there, then go
      Object.assign(state, { q: input.value, page: 1 });
      run({ log: true });
      location.href = new URL(o.url, location.href).href;
      return;
    }
    input.value = o.text;
    submit();
  }

  function submit() {
    clearTimeout(debounce);
    Object.assign(state, { q: input.value, page: 1 });
    run({ push: true, log: true });
  }

  input.addEventListener('input', () => {
    clearTimeout(debounce);
    clearTimeout(settle);
    debounce = setTimeout(() => {
      Object.assign(state, { q: input.value, page: 1 });
      suggest();
      run({ typing: true });
    }, DEBOUNCE_MS);
  });

  input.addEventListener('keydown', (ev) => {
    const open = !list.hidden;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!list.children.length) return;
      ev.preventDefault();
      if (!open) { list.hidden = false; input.setAttribute('aria-expanded', 'true'); }
      highlight(current < 0 && ev.key === 'ArrowUp' ? -1 : current + (ev.key === 'ArrowDown' ? 1 : -1));
    } else if (ev.key === 'Enter' && open && current >= 0) {
      ev.preventDefault();
      choose(current);
    } else if (ev.key === 'Escape') {
      if (open) { ev.preventDefault(); closeList(); }
    }
  });

  input.addEventListener('blur', closeList);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); closeList(); submit(); });
  window.addEventListener('popstate', () => {
    state = readUrl();
    input.value = state.q;
    closeList();
    run();
  });

  input.value = state.q;
  run();
})();
