// pages/patient.js — one patient's record across hospitals.
//
// The record is read with one federated search per resource type
// (gateway-api.md §5), the first alone, then the others in parallel.  The
// gateway answers each search when every member answered or the deadline
// passed, so progress is counted per type; each answer's outcome entries say
// which members failed.  After: a banner per member that failed or timed out,
// and one when consent withheld data.
// A consent denial (403) opens the break-the-glass dialog; the retry carries
// X-Purpose-Of-Use: ETREAT and the reason, for this patient only.

import { h, replace, table } from '../dom.js';
import { t, tOr, fmtDate, age } from '../i18n.js';
import { searchAll, withQuery, ApiError } from '../api.js';
import { state } from '../state.js';
import {
  patientName, genderText, identifierLabel, identifierMember, memberOf, readOutcomes, dateOf, ccText,
} from '../fhir.js';
import { banner, errorText, loadOrgs, memberBadge, tabs } from './common.js';
import { askBreakGlass } from './btg.js';
import { renderTimeline } from './timeline.js';
import { renderLabs } from './labs.js';
import { renderImaging } from './imaging.js';
import { renderDocuments } from './documents.js';

export const RECORD_TYPES = ['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'ImagingStudy',
  'MedicationRequest', 'MedicationStatement', 'AllergyIntolerance', 'Procedure', 'Immunization',
  'DocumentReference', 'FamilyMemberHistory', 'Goal', 'CareTeam'];

export function render(main) {
  const p = state.patient;
  let alive = true;
  // Progress shows from the first moment (hospital names are still being
  // fetched): "loading" must never look like "loaded, nothing there".
  const status = h('section', { class: 'status', 'aria-label': t('patient.status') },
    h('div', { class: 'progress', role: 'status', 'aria-live': 'polite' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      t('patient.loading', { done: 0, total: RECORD_TYPES.length })));
  const body = h('section', { class: 'record' });
  main.append(header(p, new Map()), status, body);

  // Hospital names come from the registry (GET /fhir/Organization, cached).
  loadOrgs().then((orgs) => {
    if (!alive) return;
    main.querySelector('.identifiers').replaceWith(identifiers(p, orgs));
    const rec = state.record;
    if (rec && rec.patientId === p.id) {
      // Drawn again (language switch, back to this page): a record being
      // loaded goes on loading into the new view; nothing is asked twice.
      rec.view = { status, body };
      showStatus(status, rec);
      if (rec.done) showRecord(body, rec);
    } else {
      load(p, orgs, { status, body });
    }
  });
  return () => { alive = false; };
}

function header(p, orgs) {
  const n = patientName(p);
  const a = age(p.birthDate);
  return h('section', { class: 'card patient-head', 'aria-labelledby': 'patient-title' },
    h('h1', { id: 'patient-title' }, h('span', { lang: /[\u3400-\u9fff]/.test(n.main) ? 'zh-CN' : null }, n.main),
      n.alt ? h('span', { class: 'alt-name' }, n.alt) : null),
    h('dl', { class: 'facts' },
      h('dt', null, t('patient.gender')), h('dd', null, genderText(p.gender) || '—'),
      h('dt', null, t('patient.birthDate')), h('dd', null, p.birthDate ? `${fmtDate(p.birthDate)} (${t('patient.age', { n: a })})` : '—'),
      p.telecom && p.telecom.length ? [h('dt', null, t('patient.phone')), h('dd', null, p.telecom.map((x) => x.value).join(', '))] : null,
      p.address && p.address.length ? [h('dt', null, t('patient.address')), h('dd', null, addressText(p.address[0]))] : null),
    identifiers(p, orgs));
}

// Chinese addresses read from the largest unit down, without separators.
function addressText(a) {
  if (a.text) return a.text;
  return [a.state, a.city, a.district, ...(a.line || [])].filter(Boolean).join('');
}

function identifiers(p, orgs) {
  const rows = p.identifier || [];
  return h('div', { class: 'identifiers' },
    table(t('patient.identifiers'), [
      { label: t('ident.kind'), cell: (i) => identifierLabel(i) },
      { label: t('ident.value'), class: 'mono', cell: (i) => i.value || '' },
      { label: t('ident.hospital'), cell: (i) => { const m = identifierMember(i); return m ? memberBadge({ code: m, display: orgs.get(m) || m }) : '—'; } },
    ], rows, { class: 'grid compact' }));
}

// Members expected to answer: those that hold a record of the person.
function expectedMembers(p, orgs) {
  const set = new Map();
  for (const i of p.identifier || []) {
    const m = identifierMember(i);
    if (m && !set.has(m)) set.set(m, orgs.get(m) || (i.assigner && i.assigner.display) || m);
  }
  return set;
}

// Load the record into `view` ({status, body}; rec.view may be replaced
// while loading, and the record finishes in memory even when the page was
// left, so going back shows it without asking again).
async function load(p, orgs, view) {
  const rec = {
    patientId: p.id, done: false, entries: [], failures: new Map(), withheld: false,
    members: new Map(), typesDone: 0, btg: false, warnings: [], filters: null, truncated: false, view,
  };
  for (const [code, name] of expectedMembers(p, orgs)) rec.members.set(code, { name, state: 'waiting' });
  state.record = rec;
  replace(view.body);
  showStatus(view.status, rec);

  const controller = new AbortController();
  const purpose = state.breakGlass && state.breakGlass.patientId === p.id
    ? { code: 'ETREAT', reason: state.breakGlass.reason } : null;
  let denial = null;
  let fatal = null;

  const fetchType = async (type) => {
    try {
      const res = await searchAll(withQuery(`/fhir/${type}`, { patient: p.id, _count: 200 }),
        { purpose, signal: controller.signal });
      absorb(rec, res);
      rec.typesDone += 1;
      showStatus(rec.view.status, rec);
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      if (e instanceof ApiError && e.isConsentDenial) {
        denial = denial || e;
        controller.abort();
      } else {
        fatal = fatal || e;
      }
      rec.typesDone += 1;
    }
  };
  // One type first: a consent denial then costs one denied request (one
  // audit event), not one per type; the others follow in parallel.
  await fetchType(RECORD_TYPES[0]);
  if (!denial) await Promise.all(RECORD_TYPES.slice(1).map(fetchType));

  if (denial) {
    if (state.record === rec) {
      state.record = null;
      showDenial(rec.view, denial, p);
    }
    return;
  }
  rec.done = true;
  for (const m of rec.members.values()) if (m.state === 'waiting') m.state = fatal ? 'failed' : 'answered';
  rec.fatal = fatal;
  rec.entries.sort((a, b) => (b.date || '').localeCompare(a.date || ''));
  showStatus(rec.view.status, rec);
  showRecord(rec.view.body, rec);
}

// Fold one type's answer into the record.
function absorb(rec, res) {
  const { failures, withheld, warnings } = readOutcomes(res.outcomes);
  rec.withheld = rec.withheld || withheld;
  rec.btg = rec.btg || res.btg;
  rec.truncated = rec.truncated || res.truncated;
  rec.warnings.push(...warnings);
  const failed = new Set();
  for (const f of failures) {
    failed.add(f.member);
    if (!rec.failures.has(f.member)) rec.failures.set(f.member, f);
    const m = rec.members.get(f.member) || { name: f.memberName || f.member };
    m.state = 'failed';
    m.code = f.code;
    rec.members.set(f.member, m);
  }
  for (const e of res.entries) {
    const src = memberOf(e.resource);
    if (src.code && !rec.members.has(src.code)) rec.members.set(src.code, { name: src.display, state: 'answered' });
    rec.entries.push({ resource: e.resource, member: src, fullUrl: e.fullUrl, date: null });
  }
  for (const e of rec.entries) if (e.date === null) e.date = dateOf(e.resource);
  // Members not reported failed in this answer have answered it.
  for (const [code, m] of rec.members) {
    if (!failed.has(code) && m.state === 'waiting') m.state = 'answered';
  }
}

function showStatus(status, rec) {
  const parts = [];
  if (!rec.done) {
    parts.push(h('div', { class: 'progress', role: 'status', 'aria-live': 'polite' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      t('patient.loading', { done: rec.typesDone, total: RECORD_TYPES.length })));
  }
  const chips = [...rec.members].map(([code, m]) => h('li', { class: `chip ${m.state}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    `${m.name || code}: ${t(`member.${m.state}`)}`));
  if (chips.length) {
    parts.push(h('div', { class: 'members-progress' },
      h('span', { class: 'label', id: 'members-progress-label' }, t('patient.hospitals')),
      h('ul', { class: 'chips', 'aria-labelledby': 'members-progress-label' }, chips)));
  }
  if (rec.btg || (state.breakGlass && state.breakGlass.patientId === rec.patientId)) {
    parts.push(banner('warning', t('btg.activeTitle'), t('btg.active', { reason: state.breakGlass ? state.breakGlass.reason : '' })));
  }
  if (rec.done) {
    for (const [code, f] of rec.failures) {
      const name = (rec.members.get(code) || {}).name || f.memberName || code;
      parts.push(h('div', { class: 'banner error member-failed', role: 'alert', 'data-member': code },
        h('strong', null, t('patient.memberFailed', { name })),
        h('div', null, [tOr(`fedError.${f.code}`, f.code), f.detail ? tOr(`fedDetail.${f.detail}`, f.detail) : '',
          f.latency !== null ? t('patient.latency', { ms: f.latency }) : ''].filter(Boolean).join(' · '))));
    }
    if (rec.withheld) {
      parts.push(h('div', { class: 'banner info consent-withheld', role: 'status' },
        h('strong', null, t('patient.withheldTitle')), h('div', null, t('patient.withheld'))));
    }
    if (rec.fatal) parts.push(banner('error', t('patient.loadFailed'), errorText(rec.fatal)));
    if (rec.truncated) parts.push(banner('info', t('patient.truncated')));
    for (const w of new Set(rec.warnings)) parts.push(banner('info', t('patient.gatewayNote'), w));
  }
  replace(status, parts);
}

function showDenial(view, err, p) {
  const again = h('button', { type: 'button', class: 'danger' }, t('btg.open'));
  replace(view.status, h('div', { class: 'banner error consent-denied', role: 'alert' },
    h('strong', null, t('btg.deniedTitle')),
    h('div', null, t('btg.denied')),
    h('div', { class: 'actions' }, again)));
  replace(view.body);
  const ask = async () => {
    const reason = await askBreakGlass(err.message);
    if (!reason || state.patient !== p) return;
    state.breakGlass = { patientId: p.id, reason };
    load(p, state.orgs || new Map(), view);
  };
  again.addEventListener('click', ask);
  ask();
}

// Allergies first: a clinician must see them whatever tab is open (all
// hospitals, active ones, each with its hospital).
function allergyStrip(rec) {
  const items = rec.entries.filter((e) => e.resource.resourceType === 'AllergyIntolerance' &&
    !/inactive|resolved/.test(ccText(e.resource.clinicalStatus) + ((e.resource.clinicalStatus && e.resource.clinicalStatus.coding) || []).map((c) => c.code).join(' ')));
  if (!items.length) return null;
  return h('section', { class: 'allergies', 'aria-labelledby': 'allergy-title' },
    h('strong', { id: 'allergy-title' }, t('patient.allergies')),
    h('ul', null, items.map((e) => h('li', null,
      h('span', { class: 'allergen' }, ccText(e.resource.code) || '—'),
      ((e.resource.reaction || [])[0] || {}).manifestation ? ` (${(e.resource.reaction[0].manifestation || []).map(ccText).join('、')})` : '',
      ' ', memberBadge(e.member)))));
}

function showRecord(body, rec) {
  if (!rec.filters) rec.filters = { members: null, kinds: null, from: '', to: '' };
  replace(body, allergyStrip(rec), tabs(t('patient.sections'), [
    { id: 'timeline', label: t('tab.timeline'), render: (panel) => renderTimeline(panel, rec) },
    { id: 'labs', label: t('tab.labs'), render: (panel) => renderLabs(panel, rec) },
    { id: 'imaging', label: t('tab.imaging'), render: (panel) => renderImaging(panel, rec) },
    { id: 'documents', label: t('tab.documents'), render: (panel) => renderDocuments(panel, rec) },
  ], rec.tab, (id) => { rec.tab = id; }));
}
