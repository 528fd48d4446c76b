// pages/admin.js — administrators: members with their health (up/down,
// latency, last seen), register / approve / disable / enable; users: list,
// add, disable / enable / unlock (gateway-api.md §8, §9); the patient index's
// queue of possible matches, each decided "same person" or "not the same"
// (/admin/mpi/reviews, docs/design/mpi.md).

import { h, replace, field, table } from '../dom.js';
import { t, tOr, fmtDateTime } from '../i18n.js';
import { getJson, postJson } from '../api.js';
import { banner, errorText, loadOrgs, memberBadge, tabs } from './common.js';
import { state } from '../state.js';

export function render(main) {
  main.append(h('h1', null, t('admin.title')), tabs(t('admin.sections'), [
    { id: 'members', label: t('admin.members'), render: membersPanel },
    { id: 'users', label: t('admin.users'), render: usersPanel },
    { id: 'index', label: t('admin.index'), render: indexPanel },
  ]));
}

// ------------------------------------------------------------ members --

// A managed list (members or users): load it, draw it with actions, run an
// action (POST {base}/{id}/{action}) and say what happened.  Returns
// {list, msg, refresh} to place in the panel.
function managedList({ url, key, base, table: draw, done, before }) {
  const list = h('div', { class: `${key}-list`, 'aria-live': 'polite' });
  const msg = h('div', { role: 'status' });
  const refresh = async () => {
    replace(list, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const body = await getJson(url);
      if (before) await before();
      replace(list, draw((body && body[key]) || [], act));
    } catch (e) {
      replace(list, banner('error', t('admin.loadFailed'), errorText(e)));
    }
  };
  const act = async (id, action) => {
    try {
      await postJson(`${base}/${encodeURIComponent(id)}/${action}`, {});
      replace(msg, banner('success', t(`${done}.${action}`, { id })));
      refresh();
    } catch (e) {
      replace(msg, banner('error', t('admin.actionFailed'), errorText(e)));
    }
  };
  return { list, msg, refresh };
}

function membersPanel(panel) {
  const m = managedList({
    url: '/admin/members', key: 'members', base: '/admin/members', table: membersTable, done: 'admin.done',
    before: async () => {
      state.orgs = null; // names may have changed
      await loadOrgs();
    },
  });
  const again = h('button', { type: 'button', class: 'secondary small refresh', onclick: () => m.refresh() }, t('admin.refresh'));
  replace(panel, h('div', { class: 'panel-head' }, h('h2', null, t('admin.members')), again), m.msg, m.list, registerForm(m.msg, m.refresh));
  m.refresh();
}

// Health from the /metadata probes (`health`) and the federation engine's
// counters (`federation`); either is null before its first data.  Older
// gateways put the breaker and error rate in `health`.
function healthOf(m) {
  const hl = m.health || {};
  const fed = m.federation || {};
  return {
    probed: m.health ? hl.probed !== false : false,
    up: Boolean(hl.up),
    breaker: fed.breaker || hl.breaker || null,
    latency: hl.latency_ms ?? fed.mean_latency_ms ?? null,
    errorRate: typeof fed.error_rate === 'number' ? fed.error_rate : (typeof hl.error_rate === 'number' ? hl.error_rate : null),
    lastSeen: hl.last_seen || (fed.last_success_ms ? new Date(fed.last_success_ms).toISOString() : null),
    lastError: hl.last_error || fed.last_error || null,
  };
}

function healthCell(m) {
  if (m.status !== 'active') return h('span', { class: 'health off' }, tOr(`memberStatus.${m.status}`, m.status));
  const hl = healthOf(m);
  if (!hl.probed) return h('span', { class: 'health off' }, t('admin.notProbed'));
  return h('span', { class: `health ${hl.up ? 'up' : 'down'}`, title: hl.lastError || '' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), hl.up ? t('admin.up') : t('admin.down'),
    hl.breaker && hl.breaker !== 'closed' ? ` · ${t('admin.breaker', { state: hl.breaker })}` : '');
}

function membersTable(members, act) {
  if (!members.length) return h('p', { class: 'muted' }, t('admin.noMembers'));
  return table(t('admin.membersCaption'), [
    { label: t('admin.member'), cell: (m) => [memberBadge({ code: m.id, display: m.name }), h('div', { class: 'muted small mono' }, m.id)] },
    { label: t('admin.base'), class: 'mono small', cell: (m) => m.base || '' },
    { label: t('admin.status'), cell: (m) => tOr(`memberStatus.${m.status}`, m.status) },
    { label: t('admin.health'), cell: healthCell },
    { label: t('admin.latency'), class: 'num', cell: (m) => { const x = healthOf(m).latency; return x === null ? '—' : `${x} ms`; } },
    { label: t('admin.errorRate'), class: 'num', cell: (m) => { const x = healthOf(m).errorRate; return x === null ? '—' : `${(x * 100).toFixed(1)}%`; } },
    { label: t('admin.lastSeen'), cell: (m) => { const x = healthOf(m).lastSeen; return x ? fmtDateTime(x) : '—'; } },
    {
      label: t('common.action'), cell: (m) => h('div', { class: 'row-actions' },
        m.status === 'pending' ? h('button', { type: 'button', class: 'primary small', onclick: () => act(m.id, 'approve') }, t('admin.approve')) : null,
        m.status === 'active' ? h('button', { type: 'button', class: 'danger small', onclick: () => act(m.id, 'disable') }, t('admin.disable')) : null,
        m.status !== 'active' && m.status !== 'pending' ? h('button', { type: 'button', class: 'secondary small', onclick: () => act(m.id, 'enable') }, t('admin.enable')) : null),
    },
  ], members, { rowClass: (m) => `member-row member-${m.id}` });
}

function registerForm(msg, refresh) {
  const id = h('input', { type: 'text', name: 'id', required: true, pattern: '[A-Za-z0-9._-]+', spellcheck: 'false' });
  const name = h('input', { type: 'text', name: 'name', required: true });
  const base = h('input', { type: 'url', name: 'base', required: true, placeholder: 'https://…/fhir' });
  const cert = h('input', { type: 'text', name: 'cert', spellcheck: 'false', pattern: '[0-9a-fA-F:]{64,95}' });
  const active = h('input', { type: 'checkbox', name: 'active', id: 'reg-active', checked: true });
  const form = h('form', { class: 'card', 'aria-labelledby': 'reg-title' },
    h('h3', { id: 'reg-title' }, t('admin.register')),
    h('div', { class: 'row' }, field(t('admin.memberId'), id, t('admin.memberIdHint')), field(t('admin.memberName'), name)),
    h('div', { class: 'row' }, field(t('admin.base'), base), field(t('admin.certSha256'), cert, t('admin.certHint'))),
    h('div', { class: 'check' }, active, h('label', { for: 'reg-active' }, t('admin.activeNow'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('admin.registerSubmit'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    try {
      const body = { id: id.value.trim(), name: name.value.trim(), base: base.value.trim(), status: active.checked ? 'active' : 'pending' };
      if (cert.value.trim()) body.cert_sha256 = cert.value.trim().replace(/:/g, '').toLowerCase();
      await postJson('/admin/members', body);
      replace(msg, banner('success', t('admin.registered', { id: body.id })));
      form.reset();
      refresh();
    } catch (e) {
      replace(msg, banner('error', t('admin.actionFailed'), errorText(e)));
    }
  });
  return form;
}

// ------------------------------------------------------------ users --

function usersPanel(panel) {
  const u = managedList({ url: '/admin/users', key: 'users', base: '/admin/users', table: usersTable, done: 'admin.userDone', before: loadOrgs });
  replace(panel, h('h2', null, t('admin.users')), u.msg, u.list);
  loadOrgs().then((orgs) => panel.append(userForm(u.msg, u.refresh, orgs)));
  u.refresh();
}

function usersTable(users, act) {
  if (!users.length) return h('p', { class: 'muted' }, t('admin.noUsers'));
  return table(t('admin.usersCaption'), [
    { label: t('admin.username'), class: 'mono', cell: (u) => u.username },
    { label: t('admin.displayName'), cell: (u) => u.display_name || '' },
    { label: t('admin.role'), cell: (u) => tOr(`role.${u.role}`, u.role) },
    { label: t('admin.organization'), cell: (u) => (u.organization ? memberBadge({ code: u.organization, display: (state.orgs && state.orgs.get(u.organization)) || u.organization }) : '') },
    { label: t('admin.patient'), class: 'mono small', cell: (u) => u.patient || '' },
    { label: t('admin.enabled'), cell: (u) => (u.enabled ? t('common.yes') : t('common.no')) },
    {
      label: t('common.action'), cell: (u) => h('div', { class: 'row-actions' },
        u.enabled
          ? h('button', { type: 'button', class: 'danger small', onclick: () => act(u.username, 'disable') }, t('admin.disable'))
          : h('button', { type: 'button', class: 'secondary small', onclick: () => act(u.username, 'enable') }, t('admin.enable')),
        h('button', { type: 'button', class: 'secondary small', onclick: () => act(u.username, 'unlock') }, t('admin.unlock'))),
    },
  ], users);
}

function userForm(msg, refresh, orgs) {
  const username = h('input', { type: 'text', name: 'username', required: true, autocomplete: 'off', spellcheck: 'false' });
  const display = h('input', { type: 'text', name: 'display', autocomplete: 'off' });
  const role = h('select', { name: 'role' }, ['clinician', 'regulator', 'admin', 'patient'].map((r) => h('option', { value: r }, tOr(`role.${r}`, r))));
  const org = h('select', { name: 'organization' }, h('option', { value: '' }, '—'),
    [...orgs].map(([id, name]) => h('option', { value: id }, `${name} (${id})`)));
  const patient = h('input', { type: 'text', name: 'patient', spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'user-title' },
    h('h3', { id: 'user-title' }, t('admin.addUser')),
    h('div', { class: 'row' }, field(t('admin.username'), username), field(t('admin.displayName'), display), field(t('admin.role'), role)),
    h('div', { class: 'row' }, field(t('admin.organization'), org, t('admin.orgHint')), field(t('admin.patient'), patient, t('admin.patientHint')),
      field(t('admin.password'), password, t('admin.passwordHint'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('admin.addUserSubmit'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const body = { username: username.value.trim(), password: password.value, role: role.value };
    if (display.value.trim()) body.display_name = display.value.trim();
    if (org.value) body.organization = org.value;
    if (patient.value.trim()) body.patient = patient.value.trim();
    try {
      await postJson('/admin/users', body);
      replace(msg, banner('success', t('admin.userAdded', { name: body.username })));
      form.reset();
      refresh();
    } catch (e) {
      const why = e.status === 422 ? t('admin.weakPassword') : e.status === 409 ? t('admin.nameTaken') : errorText(e);
      replace(msg, banner('error', t('admin.actionFailed'), why));
    } finally {
      password.value = '';
    }
  });
  return form;
}

// ------------------------------------------------------- patient index --

function indexPanel(panel) {
  const list = h('div', { class: 'reviews-list', 'aria-live': 'polite' });
  const msg = h('div', { role: 'status' });
  const refresh = async () => {
    replace(list, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const body = await getJson('/admin/mpi/reviews');
      replace(list, reviewsTable((body && body.reviews) || [], decide));
    } catch (e) {
      replace(list, banner('error', t('admin.loadFailed'), errorText(e)));
    }
  };
  const decide = async (item, decision) => {
    try {
      await postJson(`/admin/mpi/reviews/${encodeURIComponent(item.id)}`, { decision });
      replace(msg, banner('success', t(`admin.reviewDone.${decision}`, { id: item.record.value })));
      refresh();
    } catch (e) {
      replace(msg, banner('error', t('admin.actionFailed'), errorText(e)));
    }
  };
  const again = h('button', { type: 'button', class: 'secondary small refresh', onclick: () => refresh() }, t('admin.refresh'));
  replace(panel, h('div', { class: 'panel-head' }, h('h2', null, t('admin.index')), again),
    h('p', { class: 'muted' }, t('admin.indexIntro')), msg, list);
  refresh();
}

// Each field's agreement as the matcher saw it: "name: exact (+9.6)".
function evidence(fields) {
  return h('ul', { class: 'evidence small' }, (fields || []).map((f) => h('li', { class: `level-${f.level}` },
    `${tOr(`admin.field.${f.field}`, f.field)}: ${tOr(`admin.level.${f.level}`, f.level)}`,
    typeof f.weight === 'number' ? ` (${f.weight > 0 ? '+' : ''}${f.weight.toFixed(1)})` : '')));
}

// One member record as the reviewer compares it: hospital, record number,
// name, birth date, sex.
function recordCell(rec) {
  const who = [rec.name, rec.birthDate, rec.gender ? tOr(`gender.${rec.gender}`, rec.gender) : ''].filter(Boolean).join(' · ');
  return h('div', { class: 'review-record' },
    memberBadge({ code: rec.member, display: (state.orgs && state.orgs.get(rec.member)) || rec.member }),
    h('span', { class: 'mono small' }, ` ${rec.value}`), h('div', { class: 'small' }, who));
}

function reviewsTable(items, decide) {
  if (!items.length) return h('p', { class: 'muted no-reviews' }, t('admin.noReviews'));
  return table(t('admin.reviewsCaption'), [
    { label: t('admin.record'), cell: (it) => recordCell(it.record) },
    { label: t('admin.candidate'), cell: (it) => (it.candidateRecords || []).map(recordCell) },
    { label: t('admin.score'), class: 'num', cell: (it) => [typeof it.score === 'number' ? it.score.toFixed(1) : '—', h('div', { class: 'muted small' }, tOr(`admin.reason.${it.reason}`, it.reason || ''))] },
    { label: t('admin.evidence'), cell: (it) => evidence(it.fields) },
    { label: t('admin.created'), cell: (it) => (it.created ? fmtDateTime(it.created) : '—') },
    {
      label: t('common.action'), cell: (it) => h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'primary small', onclick: () => decide(it, 'same') }, t('admin.same')),
        h('button', { type: 'button', class: 'secondary small', onclick: () => decide(it, 'not-same') }, t('admin.notSame'))),
    },
  ], items, { rowClass: (it) => `review-row review-${it.record.value}` });
}
