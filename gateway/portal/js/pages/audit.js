// pages/audit.js — the regulators' audit dashboard (gateway-api.md §7):
// report for a date range, charts of accesses per day and per member,
// break-the-glass events to review, denied attempts, unusual-volume
// clinicians, CSV download, and the audit chain verification.
//
// The report endpoint takes the member and clinician filters (`member`,
// `user`), so totals, tables and the CSV follow them; when one is set the
// per-day chart is counted from the AuditEvents matching it
// (GET /fhir/AuditEvent takes `member` and `agent`).

import { h, replace, field, table, download } from '../dom.js';
import { t, tOr, isoDay, fmtDateTime } from '../i18n.js';
import { getJson, postJson, request, withQuery, searchAll, ApiError } from '../api.js';
import { state } from '../state.js';
import { banner, errorText, groupRows, loadOrgs, memberSlot } from './common.js';
import { barChart, memberColour } from '../charts.js';

const EVENT_PAGES_FOR_CHART = 1000; // AuditEvents per page when counting a filtered chart
const EVENTS_SHOWN = 200;           // the newest AuditEvents listed one by one

function periodParams(from, to) {
  // The report takes ISO 8601 instants; the range is whole local days.
  const f = new Date(`${from}T00:00:00`);
  const e = new Date(`${to}T00:00:00`);
  e.setDate(e.getDate() + 1);
  return { from: f.toISOString(), to: e.toISOString() };
}

// Only the filters that are set: an empty `member=` would mean "no member".
function reportFilters(member, user) {
  const f = {};
  if (member) f.member = member;
  if (user) f.user = user;
  return f;
}

export function render(main) {
  const charts = [];
  const from = h('input', { type: 'date', name: 'from', value: isoDay(-29), required: true });
  const to = h('input', { type: 'date', name: 'to', value: isoDay(0), required: true });
  const member = h('select', { name: 'member' }, h('option', { value: '' }, t('audit.allMembers')));
  const known = h('datalist', { id: 'known-clinicians' });
  const clinician = h('input', { type: 'text', name: 'clinician', autocomplete: 'off', spellcheck: 'false', list: 'known-clinicians' });
  const csv = h('button', { type: 'button', class: 'secondary' }, t('audit.csv'));
  const out = h('div', { class: 'audit-out', 'aria-live': 'polite' });
  const verifyBox = h('section', { class: 'verify', 'aria-labelledby': 'verify-title' },
    h('h2', { id: 'verify-title' }, t('audit.verifyTitle')), h('p', { class: 'muted' }, t('common.loading')));
  const form = h('form', { class: 'card filters-row', 'aria-label': t('audit.filters') },
    field(t('audit.from'), from), field(t('audit.to'), to),
    field(t('audit.member'), member), field(t('audit.clinician'), clinician, t('audit.clinicianHint')), known,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('audit.apply')), csv));

  loadOrgs().then((orgs) => {
    for (const [id, name] of orgs) member.append(h('option', { value: id }, name));
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run();
  });
  csv.addEventListener('click', async () => {
    try {
      const p = { ...periodParams(from.value, to.value), ...reportFilters(member.value, clinician.value.trim()) };
      const res = await request(withQuery('/audit/report', { ...p, format: 'csv' }), { raw: true, accept: 'text/csv' });
      download(await res.blob(), `fhirgate-audit-${from.value}-${to.value}.csv`);
    } catch (e) {
      replace(out, banner('error', t('audit.csvFailed'), errorText(e)));
    }
  });

  async function run() {
    for (const c of charts.splice(0)) c.destroy();
    if (!from.value || !to.value || from.value > to.value) {
      replace(out, banner('error', t('audit.badRange')));
      return;
    }
    replace(out, h('p', { class: 'muted', role: 'status' }, t('common.loading')));
    const p = periodParams(from.value, to.value);
    const filt = { member: member.value, user: clinician.value.trim() };
    try {
      await loadOrgs();
      const [report, queue, counts, events] = await Promise.all([
        getJson(withQuery('/audit/report', { ...p, ...reportFilters(filt.member, filt.user), format: 'json' })),
        getJson(withQuery('/audit/break-glass', { status: 'all', ...p, _count: 200 })),
        filt.member || filt.user ? filteredCounts(p, filt) : Promise.resolve(null),
        getJson(withQuery('/fhir/AuditEvent', eventParams(p, filt, EVENTS_SHOWN))),
      ]);
      show(report, queue, counts, filt);
      out.append(eventsSection(((events && events.entry) || []).map((e) => e.resource).filter(Boolean)));
    } catch (e) {
      replace(out, banner('error', t('audit.failed'), e instanceof ApiError ? errorText(e) : String(e.message || e)));
    }
  }

  function show(report, queue, counts, filt) {
    replace(known, [...new Set((report.per_clinician || []).map((r) => r.user).filter(Boolean))].sort()
      .map((u) => h('option', { value: u })));
    const keep = (r) => (!filt.member || r.member === filt.member) && (!filt.user || r.user === filt.user);
    const tot = report.totals || {};
    const days = everyDay(counts ? counts.days : report.per_day || [], from.value, to.value);
    const perMember = membersWithZero(counts ? counts.members : report.per_member || []).filter((r) => !filt.member || r.member === filt.member);
    const btg = queueItems(queue, report).filter(keep);
    const volume = listSection(report.unusual_volume);
    const hours = listSection(report.unusual_hours);
    const dayCanvas = h('canvas', { role: 'img', 'aria-label': t('audit.perDayDesc') });
    const memCanvas = h('canvas', { role: 'img', 'aria-label': t('audit.perMemberDesc') });
    replace(out,
      filt.member || filt.user ? h('p', { class: 'notice' }, t('audit.filterNote')) : null,
      h('section', { class: 'totals', 'aria-label': t('audit.totals') },
        stat(t('audit.events'), tot.events), stat(t('audit.accesses'), tot.accesses), stat(t('audit.patients'), tot.patients),
        stat(t('audit.denials'), tot.denials, tot.denials ? 'warn' : ''), stat(t('audit.breakGlass'), tot.break_glass, tot.break_glass ? 'warn' : '')),
      h('div', { class: 'two' },
        h('figure', { class: 'chart card' }, h('figcaption', null, t('audit.perDay')), h('div', { class: 'canvas-wrap' }, dayCanvas)),
        h('figure', { class: 'chart card' }, h('figcaption', null, t('audit.perMember')), h('div', { class: 'canvas-wrap' }, memCanvas))),
      breakGlassSection(btg, run),
      section('denials', t('audit.denialsTitle'), groupRows((report.denials || []).filter(keep), (r) => `${r.user}|${r.member}|${r.patient}|${r.status}|${r.reason}`), [
        { label: t('audit.time'), cell: (g) => timeSpan(g) },
        { label: t('audit.user'), cell: (g) => g.first.user || '' },
        { label: t('audit.member'), cell: (g) => memberName(g.first.member) },
        { label: t('audit.patient'), class: 'mono small', cell: (g) => g.first.patient || '' },
        { label: t('audit.status'), cell: (g) => String(g.first.status || '') },
        { label: t('audit.reason'), cell: (g) => tOr(`denial.${g.first.reason}`, g.first.reason) },
        { label: t('audit.requests'), class: 'num', cell: (g) => String(g.items.length) },
      ]),
      section('unusual', t('audit.unusualTitle'), volume.users.filter(keep), [
        { label: t('audit.user'), cell: (r) => r.user || '' },
        { label: t('audit.member'), cell: (r) => memberName(r.member) },
        { label: t('audit.accesses'), class: 'num', cell: (r) => String(r.accesses ?? '') },
        { label: t('audit.median'), class: 'num', cell: (r) => String(r.median ?? volume.median ?? '') },
      ]),
      section('night', t('audit.nightTitle', { from: hours.from ?? 22, to: hours.to ?? 6 }), hours.users.filter(keep), [
        { label: t('audit.user'), cell: (r) => r.user || '' },
        { label: t('audit.member'), cell: (r) => memberName(r.member) },
        { label: t('audit.accesses'), class: 'num', cell: (r) => String(r.accesses ?? '') },
        { label: t('audit.firstLast'), cell: (r) => (r.first ? `${fmtDateTime(r.first)} – ${fmtDateTime(r.last)}` : '') },
      ]),
      // Every agent the trail names (clinicians, administrators, patients,
      // member hospitals' machine accounts): the role says which is which.
      section('clinicians', t('audit.cliniciansTitle'), (report.per_clinician || []).filter(keep), [
        { label: t('audit.user'), cell: (r) => r.user || '' },
        { label: t('audit.role'), cell: (r) => (r.role ? tOr(`role.${r.role}`, r.role) : '—') },
        { label: t('audit.member'), cell: (r) => memberName(r.member) },
        { label: t('audit.accesses'), class: 'num', cell: (r) => String(r.accesses ?? '') },
        { label: t('audit.patients'), class: 'num', cell: (r) => String(r.patients ?? '') },
      ]));
    charts.push(barChart(dayCanvas, {
      labels: days.map((d) => d.day),
      datasets: [
        { label: t('audit.accesses'), data: days.map((d) => d.accesses || 0), colour: memberColour(0) },
        { label: t('audit.denials'), data: days.map((d) => d.denials || 0), colour: getComputedStyle(document.documentElement).getPropertyValue('--abnormal').trim() || '#b00020' },
      ],
      stacked: true,
    }));
    charts.push(barChart(memCanvas, {
      labels: perMember.map((m) => memberName(m.member)),
      datasets: [
        { label: t('audit.accesses'), data: perMember.map((m) => m.accesses || 0), colour: perMember.map((m) => memberColour(memberSlot(m.member))) },
        { label: t('audit.denials'), data: perMember.map((m) => m.denials || 0), colour: getComputedStyle(document.documentElement).getPropertyValue('--abnormal').trim() || '#b00020' },
      ],
    }));
  }

  replace(main,
    h('h1', null, t('audit.title')),
    form,
    verifyBox,
    out);
  verify(verifyBox);
  run();
  return () => { for (const c of charts) c.destroy(); };
}

// Every day of the period, days without events as zeros, so the chart's
// axis is the period asked for.
function everyDay(days, from, to) {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const out = [];
  const d = new Date(`${from}T00:00:00`);
  const end = new Date(`${to}T00:00:00`);
  for (let i = 0; d <= end && i < 3660; i++) {
    const key = isoOf(d);
    out.push(byDay.get(key) || { day: key, accesses: 0, denials: 0 });
    byDay.delete(key);
    d.setDate(d.getDate() + 1);
  }
  // Days the report has outside the local calendar range (time zones) stay.
  return out.concat([...byDay.values()]).sort((a, b) => a.day.localeCompare(b.day));
}

function isoOf(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// The per-hospital rows of the report, every registered hospital present
// (zero when it had no access); rows without a hospital (administrators,
// regulators) are not a hospital's accesses and are left out of the chart.
function membersWithZero(rows) {
  const out = new Map();
  for (const id of [...(state.orgs || new Map()).keys()].sort()) out.set(id, { member: id, accesses: 0, denials: 0 });
  for (const r of rows) if (r.member) out.set(r.member, r);
  return [...out.values()];
}

// A hospital's name from the registry; accesses without one (administrators,
// regulators) are "—".
function memberName(id) {
  if (!id) return '—';
  return (state.orgs && state.orgs.get(id)) || id;
}

// unusual_hours / unusual_volume: {users: [...], …} as the gateway sends them,
// or a bare list (gateway-api.md §7 shows lists).
function listSection(v) {
  if (Array.isArray(v)) return { users: v };
  if (v && typeof v === 'object') {
    return { users: Array.isArray(v.users) ? v.users : [], median: v.median, from: v.from_hour, to: v.to_hour };
  }
  return { users: [] };
}

// The queue's wrapper is not fixed by gateway-api.md §7 (it lists the item
// fields only): accept a bare array or the first array member of the object;
// without a queue answer, the report's break_glass section.
function queueItems(queue, report) {
  if (Array.isArray(queue)) return queue;
  if (queue && typeof queue === 'object') {
    for (const k of ['items', 'break_glass', 'events', 'queue']) if (Array.isArray(queue[k])) return queue[k];
  }
  return report.break_glass || [];
}

function stat(label, value, cls) {
  return h('div', { class: `stat ${cls || ''}` }, h('span', { class: 'stat-value' }, String(value ?? 0)), h('span', { class: 'stat-label' }, label));
}

function section(key, title, rows, cols) {
  return h('section', { class: `card audit-${key}`, 'aria-labelledby': `audit-${key}-title` },
    h('h2', { id: `audit-${key}-title` }, title, h('span', { class: 'count' }, ` (${rows.length})`)),
    rows.length ? table(null, cols, rows) : h('p', { class: 'muted' }, t('audit.noneRows')));
}

// Break-the-glass events to review, one row per emergency access (the
// requests of one look at one record with one reason); a review decision
// applies to every event of the row that is still open.
function breakGlassSection(items, refresh) {
  const groups = groupRows(items, (it) => `${it.user}|${it.member}|${it.patient}|${it.reason}`);
  const rows = groups.map((g) => {
    const open = g.items.filter((it) => !it.review);
    const note = h('input', { type: 'text', name: 'note', 'aria-label': t('audit.reviewNote'), class: 'note' });
    const decide = async (decision, btn) => {
      btn.disabled = true;
      try {
        for (const it of open) {
          await postJson('/audit/break-glass/review', { chain: it.chain, seq: it.seq, decision, note: note.value.trim() });
        }
        refresh();
      } catch (e) {
        btn.disabled = false;
        btn.parentElement.append(h('span', { class: 'error', role: 'alert' }, ` ${errorText(e)}`));
      }
    };
    const done = g.items.find((it) => it.review);
    const review = !open.length
      ? h('span', { class: `review ${done.review.decision}` }, [tOr(`audit.${done.review.decision}`, done.review.decision), done.review.reviewer, done.review.note].filter(Boolean).join(' · '))
      : h('div', { class: 'review-actions' }, note,
        h('button', { type: 'button', class: 'secondary small', onclick: (ev) => decide('justified', ev.currentTarget) }, t('audit.justified')),
        h('button', { type: 'button', class: 'danger small', onclick: (ev) => decide('unjustified', ev.currentTarget) }, t('audit.unjustified')));
    return { g, review, open: open.length > 0 };
  });
  return h('section', { class: 'card audit-btg', 'aria-labelledby': 'audit-btg-title' },
    h('h2', { id: 'audit-btg-title' }, t('audit.btgTitle'), h('span', { class: 'count' }, ` (${rows.filter((r) => r.open).length} / ${rows.length})`)),
    rows.length ? table(null, [
      { label: t('audit.time'), cell: (r) => timeSpan(r.g) },
      { label: t('audit.user'), cell: (r) => r.g.first.user || '' },
      { label: t('audit.member'), cell: (r) => memberName(r.g.first.member) },
      { label: t('audit.patient'), class: 'mono small', cell: (r) => r.g.first.patient || '' },
      { label: t('audit.btgReason'), class: 'reason', cell: (r) => r.g.first.reason || '' },
      { label: t('audit.requests'), class: 'num', cell: (r) => String(r.g.items.length) },
      { label: t('audit.review'), cell: (r) => r.review },
    ], rows, { rowClass: (r) => (r.open ? 'open' : null) }) : h('p', { class: 'muted' }, t('audit.noneRows')));
}

function timeSpan(g) {
  const a = fmtDateTime(g.first.time);
  const b = fmtDateTime(g.last.time);
  return a === b ? a : `${a} – ${b.slice(11)}`;
}

async function verify(box) {
  try {
    const v = await getJson('/audit/verify');
    const body = v.intact
      ? banner('success', t('audit.intact'), t('audit.intactDetail', { chains: v.chains ?? '?', rows: v.rows ?? '?', checkpoints: v.checkpoints ?? '?' }))
      : banner('error', t('audit.broken'), v.first_problem
        ? t('audit.brokenDetail', { kind: v.first_problem.kind || '?', chain: v.first_problem.chain || '?', seq: v.first_problem.seq ?? '?', time: fmtDateTime(v.first_problem.time) })
        : '');
    replace(box, h('h2', { id: 'verify-title' }, t('audit.verifyTitle')), body);
  } catch (e) {
    replace(box, h('h2', { id: 'verify-title' }, t('audit.verifyTitle')), banner('error', t('audit.verifyFailed'), errorText(e)));
  }
}

function eventParams(p, filt, count) {
  const params = [['date', `ge${p.from}`], ['date', `lt${p.to}`], ['_count', count]];
  if (filt.member) params.push(['member', filt.member]);
  if (filt.user) params.push(['agent', filt.user]);
  return params;
}

// Accesses and denials per day and per hospital, counted from the
// AuditEvents that match the member/clinician filter.
async function filteredCounts(p, filt) {
  const res = await searchAll(withQuery('/fhir/AuditEvent', eventParams(p, filt, EVENT_PAGES_FOR_CHART)));
  const days = new Map();
  const members = new Map();
  const bump = (map, key, init, denied) => {
    if (!map.has(key)) map.set(key, { ...init, accesses: 0, denials: 0 });
    map.get(key)[denied ? 'denials' : 'accesses'] += 1;
  };
  for (const e of res.entries) {
    const ev = e.resource;
    const d = (ev.recorded || '').slice(0, 10);
    const denied = Boolean(ev.outcome && ev.outcome !== '0');
    if (d) bump(days, d, { day: d }, denied);
    const m = eventMember(ev);
    if (m) bump(members, m, { member: m }, denied);
  }
  return {
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
    members: [...members.values()],
  };
}

// The fields of a BALP AuditEvent (as fhir/event writes them) a regulator
// reads in a list.
function eventRow(ev) {
  const user = (ev.agent || []).find((a) => a.requestor) || {};
  const who = user.who || {};
  const purpose = ((user.purposeOfUse || []).flatMap((c) => c.coding || [])[0] || {}).code || '';
  const patient = (ev.entity || []).find((x) => x.role && x.role.code === '1');
  let type = '';
  const q = (ev.entity || []).find((x) => x.query);
  if (q) {
    try {
      const m = /^[A-Z]+ \/fhir\/([A-Za-z]+)/.exec(atob(q.query));
      type = m ? m[1] : '';
    } catch (_) {
      type = '';
    }
  }
  return {
    time: ev.recorded,
    user: (who.identifier && who.identifier.value) || who.display || '',
    name: who.display || user.name || '',
    member: eventMember(ev),
    patient: patient && patient.what ? patient.what.reference || '' : '',
    what: [subtypeText((ev.subtype || [])[0]), type].filter(Boolean).join(' '),
    purpose,
    ok: !ev.outcome || ev.outcome === '0',
    btg: ['ETREAT', 'BTG', 'ERTREAT'].includes(purpose),
  };
}

function subtypeText(c) {
  if (!c) return '';
  return tOr(`subtype.${c.code}`, c.display || c.code || '');
}

function eventsSection(events) {
  const rows = events.map(eventRow);
  return h('section', { class: 'card audit-events', 'aria-labelledby': 'audit-events-title' },
    h('details', null,
      h('summary', null, h('h2', { id: 'audit-events-title' }, t('audit.eventsTitle', { n: rows.length }))),
      rows.length ? table(null, [
        { label: t('audit.time'), cell: (r) => fmtDateTime(r.time) },
        { label: t('audit.user'), cell: (r) => [r.user, r.name && r.name !== r.user ? h('span', { class: 'muted small' }, ` ${r.name}`) : null] },
        { label: t('audit.member'), cell: (r) => memberName(r.member) },
        { label: t('audit.patient'), class: 'mono small', cell: (r) => r.patient },
        { label: t('audit.what'), cell: (r) => r.what },
        { label: t('audit.purpose'), cell: (r) => [tOr(`purpose.${r.purpose}`, r.purpose), r.btg ? h('span', { class: 'flag critical' }, t('me.breakGlass')) : null] },
        { label: t('audit.outcome'), cell: (r) => (r.ok ? t('me.granted') : t('me.denied')) },
      ], rows, { rowClass: (r) => (r.btg ? 'btg' : r.ok ? null : 'abnormal') }) : h('p', { class: 'muted' }, t('audit.noneRows'))));
}

// The member organization an AuditEvent's user acted for: the agent typed
// PROV (v3 RoleClass healthcare provider) that fhir/event writes.
function eventMember(ev) {
  for (const a of ev.agent || []) {
    const prov = ((a.type && a.type.coding) || []).some((c) => c.code === 'PROV');
    const ref = a.who && a.who.reference;
    if (prov && ref && ref.startsWith('Organization/')) return ref.slice('Organization/'.length);
  }
  return null;
}
