// pages/me.js — patients: who looked at my record, when, from which
// hospital, and why (GET /me/accesses, gateway-api.md §7).

import { h, replace, field, table } from '../dom.js';
import { t, tOr, isoDay, fmtDateTime } from '../i18n.js';
import { getJson, withQuery } from '../api.js';
import { banner, errorText, memberBadge } from './common.js';

const PAGE = 100;

export function render(main) {
  const from = h('input', { type: 'date', name: 'from', value: isoDay(-365) });
  const to = h('input', { type: 'date', name: 'to', value: isoDay(0) });
  const out = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('me.more'));
  let rows = [];
  let next = null;

  const form = h('form', { class: 'card filters-row', 'aria-label': t('me.filters') },
    field(t('audit.from'), from), field(t('audit.to'), to),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('audit.apply'))));

  async function fetchPage(url) {
    const body = await getJson(url);
    rows = rows.concat((body && body.accesses) || []);
    next = body && body.next ? body.next : null;
    draw();
  }

  function first() {
    rows = [];
    const f = new Date(`${from.value}T00:00:00`);
    const e = new Date(`${to.value}T00:00:00`);
    e.setDate(e.getDate() + 1);
    replace(out, h('p', { class: 'muted', role: 'status' }, t('common.loading')));
    fetchPage(withQuery('/me/accesses', { from: f.toISOString(), to: e.toISOString(), _count: PAGE }))
      .catch((err) => replace(out, banner('error', t('me.failed'), errorText(err))));
  }

  function draw() {
    more.hidden = !next;
    if (!rows.length) {
      replace(out, h('p', { role: 'status' }, t('me.none')));
      return;
    }
    const btg = rows.filter((r) => r.break_glass).length;
    replace(out,
      btg ? banner('warning', t('me.btgTitle', { n: btg }), t('me.btg')) : null,
      table(t('me.caption', { n: rows.length }), [
        { label: t('me.when'), cell: (r) => fmtDateTime(r.time) },
        { label: t('me.who'), cell: (r) => [r.user_name || r.user || '', h('span', { class: 'muted small' }, ` ${tOr(`role.${r.role}`, r.role)}`)] },
        { label: t('me.where'), cell: (r) => memberBadge({ code: r.member, display: r.member_name || r.member }) },
        { label: t('me.why'), cell: (r) => [purposeText(r.purpose), r.break_glass ? h('span', { class: 'flag critical' }, t('me.breakGlass')) : null] },
        { label: t('me.what'), cell: (r) => tOr(`subtype.${r.subtype}`, r.subtype) },
        { label: t('me.outcome'), cell: (r) => (String(r.outcome) === '0' ? t('me.granted') : t('me.denied')) },
      ], rows, { rowClass: (r) => (r.break_glass ? 'btg' : null) }));
  }

  more.addEventListener('click', () => {
    if (!next) return;
    const u = new URL(next, location.origin);
    if (u.origin !== location.origin) return;
    fetchPage(u.pathname + u.search).catch((err) => replace(out, banner('error', t('me.failed'), errorText(err))));
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    first();
  });

  main.append(h('h1', null, t('me.title')), h('p', { class: 'muted' }, t('me.intro')), form, out, more);
  first();
}

function purposeText(code) {
  const key = `purpose.${code}`;
  const s = t(key);
  return s === key ? (code || '') : s;
}
