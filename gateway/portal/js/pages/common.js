// pages/common.js — pieces several pages share: error text, banners,
// hospital badges, tabs with keyboard support, the member name table.

import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { searchAll } from '../api.js';
import { state } from '../state.js';

// A user-facing sentence for an ApiError (never the raw server text alone:
// it is English and may be technical; it is added as detail when useful).
export function errorText(e) {
  if (!e) return t('error.generic', { status: '?' });
  if (e.status === 0) return t('error.network');
  if (e.status === 401) return t('login.expired');
  if (e.status === 403) return `${t('error.forbidden')}${e.message ? ` (${e.message})` : ''}`;
  if (e.status === 404) return t('error.notFound');
  if (e.status === 400) return `${t('error.badRequest')}${e.message ? ` (${e.message})` : ''}`;
  if (e.status === 503) return t('error.unavailable');
  return t('error.generic', { status: e.status });
}

// A banner: kind is 'error' | 'warning' | 'info' | 'success'.
export function banner(kind, title, ...body) {
  return h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('strong', null, title), body.length ? h('div', null, body) : null);
}

// Colour slot (0–7) of a hospital, the same on every page so its badge and
// chart series match: its rank among the registry's members when known,
// else a hash of its id.
export function memberSlot(code) {
  if (state.orgs && state.orgs.has(code)) return [...state.orgs.keys()].sort().indexOf(code) % 8;
  let x = 0;
  for (const ch of String(code)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x % 8;
}

export function memberBadge(m) {
  if (!m || !m.code) return h('span', { class: 'badge' }, t('common.unknownHospital'));
  return h('span', { class: `badge m${memberSlot(m.code)}`, title: m.code }, m.display || m.code);
}

// Member id → display name, from GET /fhir/Organization (cached per
// session once it succeeded; on failure names fall back to member ids).
export async function loadOrgs() {
  if (state.orgs) return state.orgs;
  const map = new Map();
  try {
    const res = await searchAll('/fhir/Organization');
    for (const e of res.entries) {
      const o = e.resource;
      if (o && o.resourceType === 'Organization') map.set(o.id, o.name || o.id);
    }
    state.orgs = map;
  } catch (_) {
    /* not cached: the next page asks again */
  }
  return map;
}

// Tabs (WAI-ARIA Authoring Practices "Tabs"): arrow keys move between tabs,
// Home/End jump, the selected tab is the only one in the tab order.
// tabs: [{id, label, render(panel)}]; returns the container element.
export function tabs(label, list, selectedId, onSelect) {
  const tablist = h('div', { role: 'tablist', 'aria-label': label, class: 'tabs' });
  const panels = h('div', { class: 'panels' });
  const buttons = [];
  let selected = selectedId || list[0].id;

  function select(id, focus) {
    selected = id;
    for (const b of buttons) {
      const on = b.dataset.tab === id;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    for (const p of panels.children) p.hidden = p.dataset.tab !== id;
    const tab = list.find((x) => x.id === id);
    const panel = [...panels.children].find((p) => p.dataset.tab === id);
    if (tab && panel && !panel.dataset.rendered) {
      panel.dataset.rendered = '1';
      tab.render(panel);
    }
    if (onSelect) onSelect(id);
  }

  for (const tab of list) {
    const tid = uid('tab');
    const pid = uid('panel');
    const b = h('button', {
      type: 'button', role: 'tab', id: tid, 'aria-controls': pid, 'data-tab': tab.id, class: 'tab',
      onclick: () => select(tab.id, true),
    }, tab.label);
    buttons.push(b);
    tablist.append(b);
    panels.append(h('div', { role: 'tabpanel', id: pid, 'aria-labelledby': tid, 'data-tab': tab.id, tabindex: '0', hidden: true }));
  }
  tablist.addEventListener('keydown', (ev) => {
    const i = buttons.findIndex((b) => b.dataset.tab === selected);
    let j = null;
    if (ev.key === 'ArrowRight') j = (i + 1) % buttons.length;
    else if (ev.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = buttons.length - 1;
    if (j !== null) {
      ev.preventDefault();
      select(buttons[j].dataset.tab, true);
    }
  });
  const root = h('div', { class: 'tabbed' }, tablist, panels);
  select(selected, false);
  return root;
}

// A <dialog> opened modally: focus goes to `initial`, Escape or Cancel closes
// it, and focus returns to whatever had it before.  content(close) builds
// the body.  Returns a promise of the value passed to close().
export function modal(titleText, content, initial) {
  const dlg = document.getElementById('dialog');
  const before = document.activeElement;
  return new Promise((resolve) => {
    let done = false;
    const onCancel = (ev) => {
      ev.preventDefault();
      close(null);
    };
    const close = (value) => {
      if (done) return;
      done = true;
      dlg.removeEventListener('cancel', onCancel);
      dlg.close();
      dlg.replaceChildren();
      if (before && before.focus) before.focus();
      resolve(value);
    };
    const titleId = uid('dlg');
    dlg.replaceChildren(h('h2', { id: titleId }, titleText), content(close));
    dlg.setAttribute('aria-labelledby', titleId);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    const first = initial ? dlg.querySelector(initial) : null;
    if (first) first.focus();
  });
}

// Group audit rows that are one user action: the patient page asks each
// hospital once per resource type, so one look at a record is several
// audited requests (and one break-the-glass is several flagged events).
// Rows with the same key, each within `gapMs` of the previous one, become
// one group {first, last, items}.  `rows` may come in any order; groups are
// returned newest (last request) first.
export function groupRows(rows, keyOf, gapMs = 30 * 1000) {
  const sorted = [...rows].sort((a, b) => String(a.time).localeCompare(String(b.time)));
  const open = new Map();
  const groups = [];
  for (const r of sorted) {
    const k = keyOf(r);
    const ts = Date.parse(r.time);
    const g = open.get(k);
    if (g && Number.isFinite(ts) && ts - g.lastTs <= gapMs) {
      g.items.push(r);
      g.last = r;
      g.lastTs = ts;
    } else {
      const ng = { key: k, first: r, last: r, lastTs: ts, items: [r] };
      open.set(k, ng);
      groups.push(ng);
    }
  }
  return groups.sort((a, b) => String(b.last.time).localeCompare(String(a.last.time)));
}
