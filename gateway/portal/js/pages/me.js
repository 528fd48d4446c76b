// pages/me.js — patients: who looked at my record, when, from which
// hospital, and why (GET /me/accesses, gateway-api.md §7).

import { h, replace, field, table } from '../dom.js';
import { t, tOr, isoDay, fmtDateTime } from '../i18n.js';
import { getJson, withQuery } from '../api.js';
import { banner, errorText, groupRows, memberBadge } from './common.js';

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
    // One look at the record is several requests (one per kind of data):
    // shown as one line with their count.
    const groups = groupRows(rows, (r) => `${r.user}|${r.member}|${r.purpose}|${r.break_glass}|${r.outcome}|${r.reason || ''}`);
    const btg = groups.filter((g) => g.first.break_glass).length;
    replace(out,
      btg ? banner('warning', t('me.btgTitle', { n: btg }), t('me.btg')) : null,
      table(t('me.caption', { n: groups.length }), [
        { label: t('me.when'), cell: (g) => fmtDateTime(g.last.time) },
        { label: t('me.who'), cell: (g) => [g.first.user_name || g.first.user || '', h('span', { class: 'muted small' }, ` ${tOr(`role.${g.first.role}`, g.first.role)}`)] },
        { label: t('me.where'), cell: (g) => (g.first.member ? memberBadge({ code: g.first.member, display: g.first.member_name || g.first.member }) : t('me.platform')) },
        {
          label: t('me.why'), cell: (g) => [purposeText(g.first.purpose),
            g.first.break_glass ? [' ', h('span', { class: 'flag critical' }, t('me.breakGlass'))] : null,
            // The reason a clinician gave for an emergency access is the patient's to read.
            g.first.break_glass && g.first.reason ? h('div', { class: 'small' }, t('me.reason', { reason: g.first.reason })) : null],
        },
        { label: t('me.what'), cell: (g) => [...new Set(g.items.map((r) => tOr(`subtype.${r.subtype}`, r.subtype)))].join('、') + (g.items.length > 1 ? ` (${t('me.count', { n: g.items.length })})` : '') },
        { label: t('me.outcome'), cell: (g) => (String(g.first.outcome) === '0' ? t('me.granted') : t('me.denied')) },
      ], groups, { rowClass: (g) => (g.first.break_glass ? 'btg' : null) }));
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
