// pages/timeline.js — one timeline across hospitals, newest first, each entry
// badged with its source hospital; filters by hospital, type and date range.

import { h, replace, field, uid } from '../dom.js';
import { t, fmtDate } from '../i18n.js';
import { KINDS, kindOf, summaryOf } from '../fhir.js';
import { memberBadge } from './common.js';
import { openDocument } from './documents.js';
import { wadoLink } from './imaging.js';

const PAGE = 200; // entries drawn at once; "show more" adds the next ones

export function renderTimeline(panel, rec) {
  const f = rec.filters;
  const items = rec.entries.filter((e) => kindOf(e.resource));
  const members = [...new Map(items.map((e) => [e.member.code, e.member.display])).entries()]
    .sort((a, b) => a[0].localeCompare(b[0]));
  const kinds = KINDS.filter((k) => items.some((e) => kindOf(e.resource) === k));
  const list = h('ol', { class: 'timeline', 'aria-label': t('tab.timeline') });
  const count = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  let shown = PAGE;

  const memberBoxes = members.map(([code, name]) => checkbox(name, code, !f.members || f.members.includes(code), memberBadge({ code, display: name })));
  const kindBoxes = kinds.map((k) => checkbox(t(`kind.${k}`), k, !f.kinds || f.kinds.includes(k)));
  const from = h('input', { type: 'date', name: 'from', value: f.from });
  const to = h('input', { type: 'date', name: 'to', value: f.to });
  const reset = h('button', { type: 'button', class: 'link' }, t('timeline.reset'));

  const filters = h('form', { class: 'filters', 'aria-label': t('timeline.filters') },
    h('fieldset', null, h('legend', null, t('timeline.byHospital')), memberBoxes.map((b) => b.el)),
    h('fieldset', null, h('legend', null, t('timeline.byType')), kindBoxes.map((b) => b.el)),
    h('fieldset', { class: 'dates' }, h('legend', null, t('timeline.byDate')),
      field(t('timeline.from'), from), field(t('timeline.to'), to)),
    reset);

  function apply() {
    f.members = memberBoxes.filter((b) => b.input.checked).map((b) => b.value);
    f.kinds = kindBoxes.filter((b) => b.input.checked).map((b) => b.value);
    f.from = from.value;
    f.to = to.value;
    draw();
  }

  function draw() {
    const sel = items.filter((e) => {
      const d = fmtDate(e.date);
      return (!f.members || f.members.includes(e.member.code)) &&
        (!f.kinds || f.kinds.includes(kindOf(e.resource))) &&
        (!f.from || (d && d >= f.from)) &&
        (!f.to || (d && d.slice(0, 10) <= f.to));
    });
    count.textContent = t('timeline.count', { n: sel.length, total: items.length });
    replace(list, sel.slice(0, shown).map((e) => entry(e)));
    if (sel.length > shown) {
      list.append(h('li', { class: 'more' }, h('button', {
        type: 'button', class: 'secondary', onclick: () => { shown += PAGE; draw(); },
      }, t('timeline.more', { n: sel.length - shown }))));
    }
  }

  filters.addEventListener('change', apply);
  reset.addEventListener('click', () => {
    for (const b of [...memberBoxes, ...kindBoxes]) b.input.checked = true;
    from.value = '';
    to.value = '';
    apply();
  });
  replace(panel, h('div', { class: 'timeline-wrap' }, filters, h('div', null, count, list)));
  draw();
}

function checkbox(label, value, checked, display) {
  const id = uid('cb');
  const input = h('input', { type: 'checkbox', id, value, checked });
  const el = h('div', { class: 'check' }, input, h('label', { for: id }, display || label));
  return { el, input, value };
}

function entry(e) {
  const r = e.resource;
  const kind = kindOf(r);
  const s = summaryOf(r);
  let action = null;
  if (kind === 'document' && r.resourceType === 'DocumentReference') {
    action = h('button', { type: 'button', class: 'link', onclick: (ev) => openDocument(r, e.member, ev.currentTarget) }, t('documents.read'));
  } else if (kind === 'imaging') {
    action = wadoLink(r);
  }
  const flag = s.flag && s.flag.level ? h('span', { class: `flag ${s.flag.level}` }, s.flag.label) : null;
  return h('li', { class: `entry k-${kind}`, 'data-kind': kind, 'data-member': e.member.code },
    h('time', { datetime: e.date || '' }, fmtDate(e.date) || t('common.noDate')),
    h('div', { class: 'entry-body' },
      h('div', { class: 'entry-head' },
        h('span', { class: `kind k-${kind}` }, t(`kind.${kind}`)),
        memberBadge(e.member),
        flag),
      h('div', { class: 'entry-title' }, s.title || '—'),
      s.detail ? h('div', { class: 'entry-detail' }, s.detail) : null,
      action));
}
