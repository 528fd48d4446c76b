// pages/search.js — find a patient in the master patient index (PDQm,
// gateway-api.md §4): by resident identity number, or by name and birth date.

import { h, field, replace, table } from '../dom.js';
import { t, fmtDate, age } from '../i18n.js';
import { getJson, withQuery } from '../api.js';
import { state } from '../state.js';
import { RESIDENT_ID_SYSTEM, residentIdValid, patientName, genderText, identifierMember } from '../fhir.js';
import { errorText } from './common.js';

export function render(main, { go }) {
  const results = h('section', { class: 'results', 'aria-live': 'polite', 'aria-labelledby': 'results-title' });

  const rid = h('input', { type: 'text', name: 'resident-id', inputmode: 'text', maxlength: 18, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const ridMsg = h('p', { class: 'error', role: 'alert', hidden: true });
  const byId = h('form', { class: 'card', 'aria-labelledby': 'by-id-title', novalidate: true },
    h('h2', { id: 'by-id-title' }, t('search.byId')),
    field(t('search.residentId'), rid, t('search.residentIdHint')),
    ridMsg,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('search.submit'))));

  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off' });
  const birth = h('input', { type: 'date', name: 'birthdate', autocomplete: 'off' });
  const gender = h('select', { name: 'gender' },
    h('option', { value: '' }, t('search.anyGender')),
    h('option', { value: 'male' }, t('gender.male')),
    h('option', { value: 'female' }, t('gender.female')));
  const demoMsg = h('p', { class: 'error', role: 'alert', hidden: true });
  const byDemo = h('form', { class: 'card', 'aria-labelledby': 'by-demo-title', novalidate: true },
    h('h2', { id: 'by-demo-title' }, t('search.byName')),
    h('div', { class: 'row' },
      field(t('search.name'), name, t('search.nameHint')),
      field(t('search.birthDate'), birth),
      field(t('search.gender'), gender)),
    demoMsg,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('search.submit'))));

  byId.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ridMsg.hidden = true;
    const v = rid.value.trim().toUpperCase();
    if (!residentIdValid(v)) {
      ridMsg.textContent = t('search.badResidentId');
      ridMsg.hidden = false;
      rid.setAttribute('aria-invalid', 'true');
      rid.focus();
      return;
    }
    rid.removeAttribute('aria-invalid');
    run({ identifier: `${RESIDENT_ID_SYSTEM}|${v}` });
  });

  byDemo.addEventListener('submit', (ev) => {
    ev.preventDefault();
    demoMsg.hidden = true;
    if (!name.value.trim() || !birth.value) {
      demoMsg.textContent = t('search.needNameAndBirth');
      demoMsg.hidden = false;
      (name.value.trim() ? birth : name).focus();
      return;
    }
    run({ name: name.value.trim(), birthdate: birth.value, gender: gender.value || undefined });
  });

  async function run(query) {
    replace(results, h('p', { class: 'muted', role: 'status' }, t('search.searching')));
    try {
      const bundle = await getJson(withQuery('/fhir/Patient', { ...query, _count: 50 }));
      const patients = ((bundle && bundle.entry) || [])
        .map((e) => e.resource)
        .filter((r) => r && r.resourceType === 'Patient');
      state.lastSearch = { patients };
      showResults(patients);
    } catch (e) {
      replace(results, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  function open(p) {
    state.patient = p;
    state.record = null;
    if (!state.breakGlass || state.breakGlass.patientId !== p.id) state.breakGlass = null;
    go('patient');
  }

  function showResults(patients) {
    if (!patients.length) {
      replace(results, h('h2', { id: 'results-title' }, t('search.results')), h('p', { role: 'status' }, t('search.none')));
      return;
    }
    const cols = [
      { label: t('patient.name'), cell: (p) => { const n = patientName(p); return [h('strong', { lang: 'zh-CN' }, n.main), n.alt ? h('span', { class: 'muted' }, ` ${n.alt}`) : null]; } },
      { label: t('patient.gender'), cell: (p) => genderText(p.gender) },
      { label: t('patient.birthDate'), cell: (p) => [fmtDate(p.birthDate), p.birthDate ? h('span', { class: 'muted' }, ` (${t('patient.age', { n: age(p.birthDate) })})`) : null] },
      { label: t('ident.resident'), class: 'mono', cell: (p) => ((p.identifier || []).find((i) => i.system === RESIDENT_ID_SYSTEM) || {}).value || '' },
      { label: t('search.hospitals'), cell: (p) => String(new Set((p.identifier || []).map(identifierMember).filter(Boolean)).size) },
      { label: t('common.action'), cell: (p) => h('button', { type: 'button', class: 'primary small', onclick: () => open(p) }, t('search.open')) },
    ];
    replace(results,
      h('h2', { id: 'results-title' }, t('search.results')),
      h('p', { role: 'status', class: 'muted' }, t('search.found', { n: patients.length })),
      table(null, cols, patients));
  }

  main.append(
    h('h1', null, t('search.title')),
    h('div', { class: 'two' }, byId, byDemo),
    results);
  if (state.lastSearch) showResults(state.lastSearch.patients);
  rid.focus();
}
