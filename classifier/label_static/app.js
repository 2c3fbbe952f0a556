// newsfilter label: the app's only script. The labelled page runs none: it is
// shown in a sandboxed frame without allow-scripts and under script-src 'none';
// this script (same origin) marks its blocks and listens to its clicks.
'use strict';
(() => {
  const LABELS = ['article', 'teaser', 'chrome'];
  const token = document.querySelector('meta[name=label-token]').content;
  const frame = document.getElementById('frame');
  const $ = (id) => document.getElementById(id);
  const state = {
    pages: [], current: null, labels: new Map(), units: new Map(),
    history: [], container: false, hover: null, hoverUnits: [], dirty: false,
    badges: true, doc: null, busy: false,
  };

  function status(text, kind) {
    const el = $('status');
    el.textContent = text;
    el.className = kind || '';
  }

  async function getJSON(url) {
    const r = await fetch(url, {cache: 'no-store'});
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  async function loadPages() {
    const j = await getJSON('/api/pages');
    state.pages = j.pages;
    const q = $('queue');
    q.textContent = '';
    j.pages.forEach((p) => {
      const li = document.createElement('li');
      li.textContent = `${p.site}/${p.slug} · ${p.confidence.toFixed(2)}` +
        (p.unsure ? ` · ${p.unsure} unsure` : '') + (p.self_labels ? ' · metadata' : '');
      li.title = p.name;
      li.dataset.id = p.id;
      if (p.saved) li.classList.add('saved');
      if (state.current && p.id === state.current.id) li.classList.add('current');
      li.addEventListener('click', () => openPage(p.id));
      q.appendChild(li);
    });
    const r = j.refit;
    $('model-info').textContent = `model: ${j.model}` +
      (r.state === 'off' ? '' : ` · refit: ${r.state}` +
        (r.last_seconds != null ? ` (last ${r.last_seconds} s)` : '') + (r.error ? ` ${r.error}` : ''));
    return j;
  }

  async function openPage(id) {
    if (state.dirty && !confirm('This page has unsaved labels. Leave it?')) return;
    const p = await getJSON('/api/page/' + encodeURIComponent(id));
    state.current = p;
    state.labels = new Map(p.units.map((u) => [u.element, u.label]));
    state.units = new Map(p.units.map((u) => [u.element, u]));
    state.history = [];
    state.dirty = false;
    state.doc = null;
    const pos = state.pages.findIndex((x) => x.id === id);
    $('position').textContent = `page ${pos + 1} of ${state.pages.length}`;
    $('page-name').textContent = p.name;
    $('page-info').textContent = `${p.units.length} blocks · saves to ${p.out}` +
      ` · confidence ${p.confidence.toFixed(2)} (mean margin of the top two labels)` +
      (p.saved ? ' · saved' : '');
    $('self-info').textContent = p.self_labels
      ? `Pre-labels from the page's own metadata (${p.self_labels}, ${(p.self_coverage * 100).toFixed(0)}% aligned); teaser/chrome from the model.`
      : '';
    document.querySelectorAll('#queue li').forEach((li) =>
      li.classList.toggle('current', li.dataset.id === id));
    status('');
    frame.src = '/frame/' + encodeURIComponent(id);
  }

  function badge(u, label) {
    const p = u.p[label];
    let text = `${label} ${p.toFixed(2)}`;
    if (u.unsure) text += ' ?';
    if (u.metadata) text += ' · metadata';
    return text;
  }

  function paint(element) {
    const doc = state.doc;
    if (!doc) return;
    const el = doc.querySelector(`[data-nf="${element}"]`);
    const u = state.units.get(element);
    if (!el || !u) return;
    const label = state.labels.get(element);
    el.setAttribute('data-nf-u', String(element));
    el.setAttribute('data-nf-label', label);
    el.setAttribute('data-nf-badge', badge(u, label));
    if (u.unsure) el.setAttribute('data-nf-unsure', ''); else el.removeAttribute('data-nf-unsure');
    if (label !== u.label) el.setAttribute('data-nf-edited', ''); else el.removeAttribute('data-nf-edited');
    el.title = `${label} · model: ${u.predicted} ${u.probability.toFixed(2)}` +
      (u.metadata ? ' · from the page\'s own metadata' : '');
  }

  function unitsIn(el) {
    const out = [];
    if (el.hasAttribute('data-nf-u')) out.push(Number(el.getAttribute('data-nf-u')));
    el.querySelectorAll('[data-nf-u]').forEach((c) => out.push(Number(c.getAttribute('data-nf-u'))));
    return out;
  }

  // what a pointer on `node` designates: its block, or (container mode) the
  // nearest element holding two blocks or more
  function targetOf(node, container) {
    let el = node && node.nodeType === 1 ? node : node && node.parentElement;
    if (!el) return null;
    if (!container) return el.closest('[data-nf-u]');
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.hasAttribute('data-nf') && unitsIn(e).length >= 2) return e;
    }
    return el.closest('[data-nf-u]');
  }

  function setHover(el) {
    if (state.hover) state.hover.removeAttribute('data-nf-hover');
    state.hover = el;
    state.hoverUnits = el ? unitsIn(el) : [];
    if (el) el.setAttribute('data-nf-hover', '');
    const info = $('hover-info');
    info.textContent = '';
    if (!el || !state.hoverUnits.length) { info.innerHTML = '<em>point at a block</em>'; return; }
    if (state.hoverUnits.length > 1 || !el.hasAttribute('data-nf-u')) {
      info.textContent = `container <${el.tagName.toLowerCase()}> with ${state.hoverUnits.length} blocks`;
      return;
    }
    const u = state.units.get(state.hoverUnits[0]);
    const lab = document.createElement('span');
    const label = state.labels.get(u.element);
    lab.className = 'lab ' + label;
    lab.textContent = label;
    const p = document.createElement('div');
    p.className = 'small';
    p.textContent = `<${u.tag}> model: ` + LABELS.map((l) => `${l} ${u.p[l].toFixed(2)}`).join(', ') +
      ` · pre-label from ${u.origin === 'metadata' ? "the page's own metadata" : u.origin}`;
    const t = document.createElement('div');
    t.textContent = u.text;
    info.append(lab, p, t);
    if (u.unsure) {
      const w = document.createElement('div');
      w.className = 'unsure-note';
      w.textContent = `uncertain: top two labels within ${state.current.unsure_margin}`;
      info.append(w);
    }
  }

  function apply(elements, label) {
    const changes = [];
    elements.forEach((e) => {
      const old = state.labels.get(e);
      if (old !== undefined && old !== label) {
        changes.push([e, old]);
        state.labels.set(e, label);
        paint(e);
      }
    });
    if (changes.length) {
      state.history.push(changes);
      state.dirty = true;
      status(`${changes.length} block(s) → ${label}`);
    }
    if (state.hover) setHover(state.hover);
  }

  function cycle(elements) {
    if (!elements.length) return;
    const first = state.labels.get(elements[0]);
    apply(elements, LABELS[(LABELS.indexOf(first) + 1) % LABELS.length]);
  }

  function undo() {
    const changes = state.history.pop();
    if (!changes) { status('nothing to undo'); return; }
    changes.forEach(([e, old]) => { state.labels.set(e, old); paint(e); });
    state.dirty = state.history.length > 0;
    status(`undone (${changes.length} block(s))`);
  }

  async function save() {
    const p = state.current;
    if (!p || state.busy) return;
    state.busy = true;
    status('saving…');
    try {
      const r = await fetch('/api/save/' + encodeURIComponent(p.id), {
        method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-Label-Token': token},
        body: JSON.stringify({labels: Object.fromEntries(state.labels)}),
      });
      const j = await r.json();
      if (j.ok) {
        state.dirty = false;
        p.saved = j.path;
        status('saved ' + j.path + (j.refit && j.refit.state === 'running' ? ' · refitting…' : ''), 'ok');
        await loadPages();
      } else {
        status('not saved:\n' + j.errors.join('\n'), 'error');
      }
    } catch (err) {
      status('not saved: ' + err, 'error');
    } finally {
      state.busy = false;
    }
  }

  function step(delta) {
    if (!state.current) return;
    const i = state.pages.findIndex((x) => x.id === state.current.id);
    const next = state.pages[(i + delta + state.pages.length) % state.pages.length];
    if (next) openPage(next.id);
  }

  function toggleMode() {
    state.container = !state.container;
    $('mode').textContent = 'mode: ' + (state.container ? 'container' : 'block');
    setHover(null);
  }

  function onKey(e) {
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && k.toLowerCase() === 'z') { e.preventDefault(); undo(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
    const label = {a: 'article', t: 'teaser', c: 'chrome'}[k];
    if (label) { apply(state.hoverUnits, label); }
    else if (k === 'u') undo();
    else if (k === 's') save();
    else if (k === 'n') step(1);
    else if (k === 'p') step(-1);
    else if (k === 'x') toggleMode();
    else if (k === 'b') {
      state.badges = !state.badges;
      if (state.doc) state.doc.documentElement.classList.toggle('nf-nobadges', !state.badges);
    } else if (k === 'w' && state.hover) {
      const up = targetOf(state.hover.parentElement, true);
      if (up) setHover(up);
    } else return;
    e.preventDefault();
  }

  frame.addEventListener('load', () => {
    const doc = frame.contentDocument;
    if (!doc || !state.current || !doc.querySelector('[data-nf]')) return;
    state.doc = doc;
    state.current.units.forEach((u) => paint(u.element));
    doc.documentElement.classList.toggle('nf-nobadges', !state.badges);
    // capture: the page's own links, buttons and forms never act
    doc.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      const t = targetOf(e.target, state.container || e.shiftKey);
      if (t) { setHover(t); cycle(unitsIn(t)); }
    }, true);
    doc.addEventListener('mouseover', (e) => setHover(targetOf(e.target, state.container || e.shiftKey)));
    doc.addEventListener('submit', (e) => e.preventDefault(), true);
    doc.addEventListener('keydown', onKey);
    frame.dataset.ready = state.current.id;
    document.body.dataset.ready = state.current.id;
  });

  document.addEventListener('keydown', onKey);
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  $('undo').addEventListener('click', undo);
  $('save').addEventListener('click', save);
  $('mode').addEventListener('click', toggleMode);
  window.addEventListener('beforeunload', (e) => { if (state.dirty) e.preventDefault(); });
  setInterval(() => { loadPages().catch(() => {}); }, 5000);
  loadPages().then((j) => { if (j.pages.length) openPage(j.pages[0].id); })
    .catch((err) => status('cannot load pages: ' + err, 'error'));
})();
