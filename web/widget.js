// web/widget.js - the drop-in search box, served by prsearchd as
// /widget.js. It turns an existing <input> of a site into an as-you-type
// search with a dropdown of completions (/suggest) and top pages
// (/search), as a WAI-ARIA 1.2 combobox. Configured by data attributes on
// its own <script> tag:
//
//   <script src="https://search.example.org/widget.js" defer
//           data-input="#search"                  (CSS selector, required)
//           data-api="https://search.example.org"  (default: where this file is)
//           data-page="/recherche/"                (optional: full results page;
//                                                   Enter goes there with ?q=)
//           data-limit="5"></script>
//
// From another origin, the daemon must allow it: cors_origin in
// prsearchd.conf. Its CSS is injected once, every class prefixed "prs-w-".
// Searches are counted (log=1) when the visitor picks a page or submits.
'use strict';

(() => {
  const script = document.currentScript;
  if (!script) return;
  const cfg = script.dataset;
  const base = new URL(cfg.api ? cfg.api.replace(/\/?$/, '/') : '.', script.src || location.href);
  const limit = Math.min(parseInt(cfg.limit || '5', 10) || 5, 20);
  const DEBOUNCE_MS = 150;
  const CSS = `
.prs-w-list{position:absolute;z-index:2147483000;margin:0;padding:0;list-style:none;
 background:#fff;color:#161616;border:1px solid #666;box-shadow:0 4px 12px rgba(0,0,0,.2);
 font:15px/1.4 system-ui,sans-serif;max-height:70vh;overflow:auto;text-align:left}
.prs-w-list[hidden]{display:none}
.prs-w-head{padding:.35rem .75rem;font-weight:700;font-size:.8em;color:#4a4a4a;background:#f3f3f3}
.prs-w-opt{padding:.45rem .75rem;cursor:pointer}
.prs-w-opt small{display:block;color:#4a4a4a}
.prs-w-opt[aria-selected=true]{background:#000091;color:#fff}
.prs-w-opt[aria-selected=true] small{color:#fff}
.prs-w-opt mark{background:#ffe552;color:#161616}
.prs-w-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}`;

  const api = (path, params) => {
    const u = new URL(path, base);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
  };
  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  };
  const dateFmt = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric' });
  const day = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso || '') ? dateFmt.format(new Date(`${iso}T12:00:00Z`)) : '');
  const getJson = (url) => fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));

  function init() {
    const input = document.querySelector(cfg.input || '');
    if (!input) { console.warn('prsearch widget: no element matches data-input'); return; }
    if (!document.getElementById('prs-w-style')) {
      const style = el('style', { id: 'prs-w-style' });
      style.textContent = CSS;
      document.head.append(style);
    }
    attach(input);
  }

  function attach(input) {
    const list = el('ul', { id: 'prs-w-list', role: 'listbox', class: 'prs-w-list', 'aria-label': 'Suggestions de recherche' });
    list.hidden = true;
    const live = el('div', { class: 'prs-w-sr', role: 'status', 'aria-live': 'polite' });
    document.body.append(list, live);
    Object.entries({ role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
      'aria-controls': list.id, autocomplete: 'off' }).forEach(([k, v]) => input.setAttribute(k, v));

    let options = [], current = -1, seq = 0, timer = 0, logged = '';

    // The list hangs under the input in page coordinates: nothing of the
    // site's own layout is changed.
    function place() {
      const r = input.getBoundingClientRect();
      list.style.left = `${r.left + window.scrollX}px`;
      list.style.top = `${r.bottom + window.scrollY}px`;
      list.style.minWidth = `${Math.max(r.width, 280)}px`;
      list.style.maxWidth = `${Math.max(document.documentElement.clientWidth - r.left - 8, 280)}px`;
    }

    function close() {
      list.hidden = true; current = -1;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }

    function logSearch(q) {
      if (!q.trim() || q === logged) return;
      logged = q;
      fetch(api('search', { q, limit: 1, log: 1 }), { keepalive: true }).catch(() => {});
    }

    function choose(i) {
      const o = options[i];
      if (o.url) { logSearch(input.value); location.href = o.url; return; }
      input.value = o.text;
      update();
    }

    function option(o, i, html) {
      const li = el('li', { role: 'option', id: `prs-w-opt-${i}`, class: 'prs-w-opt', 'aria-selected': 'false' });
      if (html) li.innerHTML = html; // title_html: escaped text + <mark> only
      else li.textContent = o.text;
      if (o.sub) li.append(el('small', {}, o.sub));
      li.addEventListener('mousedown', (ev) => { ev.preventDefault(); choose(i); });
      return li;
    }

    function render(sugg, hits, total) {
      options = [];
      list.textContent = '';
      const group = (title, items) => {
        if (!items.length) return;
        list.append(el('li', { role: 'presentation', class: 'prs-w-head' }, title));
        for (const [o, html] of items) { list.append(option(o, options.length, html)); options.push(o); }
      };
      // Completions with a URL are page titles: listed with the hits, once.
      const seen = new Set(hits.map((h) => h.url));
      const pages = hits.map((h) => [{ text: h.title, url: h.url, sub: day(h.date) }, h.title_html])
        .concat(sugg.filter((s) => s.url && !seen.has(s.url)).map((s) => [{ text: s.text, url: s.url }, null]));
      group('Suggestions', sugg.filter((s) => !s.url).map((s) => [{ text: s.text }, null]));
      group('Pages', pages.slice(0, limit));
      current = -1;
      const open = options.length > 0 && document.activeElement === input;
      if (open) place();
      list.hidden = !open;
      input.setAttribute('aria-expanded', String(open));
      live.textContent = total ? `${total} résultat${total > 1 ? 's' : ''}` : 'Aucun résultat';
    }

    async function update() {
      const q = input.value, id = ++seq;
      if (!q.trim()) { close(); return; }
      try {
        const [s, r] = await Promise.all([
          getJson(api('suggest', { q, limit: 5 })),
          getJson(api('search', { q, limit, prefix: 1 })),
        ]);
        if (id === seq) render(s.suggestions || [], r.hits || [], r.total);
      } catch (e) { if (id === seq) close(); }
    }

    function move(delta) {
      const items = list.querySelectorAll('.prs-w-opt');
      if (!items.length) return;
      if (list.hidden) { place(); list.hidden = false; input.setAttribute('aria-expanded', 'true'); }
      current = current < 0 && delta < 0 ? items.length - 1 : (current + delta + items.length) % items.length;
      items.forEach((it, k) => it.setAttribute('aria-selected', String(k === current)));
      input.setAttribute('aria-activedescendant', items[current].id);
      items[current].scrollIntoView({ block: 'nearest' });
    }

    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, DEBOUNCE_MS); });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') { ev.preventDefault(); move(ev.key === 'ArrowDown' ? 1 : -1); }
      else if (ev.key === 'Escape' && !list.hidden) { ev.preventDefault(); close(); }
      else if (ev.key === 'Enter') {
        if (!list.hidden && current >= 0) { ev.preventDefault(); choose(current); return; }
        logSearch(input.value);
        if (cfg.page) { ev.preventDefault(); location.href = `${cfg.page}?${new URLSearchParams({ q: input.value })}`; }
      }
    });
    input.addEventListener('blur', close);
    input.addEventListener('focus', () => { if (options.length && input.value.trim()) update(); });
    window.addEventListener('resize', () => { if (!list.hidden) place(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
