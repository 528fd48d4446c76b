// pages/labs.js — lab results as a table and as a trend chart of one test
// across hospitals, with the reference range drawn as a band and abnormal
// values marked (shape and text, not colour alone).

import { h, append, replace, field, table } from '../dom.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { ccText, testKey, obsValueText, refRangeText, abnormalFlag, unitText } from '../fhir.js';
import { memberBadge, memberSlot } from './common.js';
import { trendChart } from '../charts.js';

// Tests a clinician most often follows over years; preferred as the first
// chart when the record has them (LOINC).
const PREFERRED = ['4548-4', '17856-6', '2160-0', '38483-4', '2345-7', '2093-3', '13457-7', '718-7'];

function isLab(o) {
  if (o.resourceType !== 'Observation') return false;
  const cats = (o.category || []).flatMap((c) => c.coding || []).map((c) => c.code);
  return !cats.length || cats.includes('laboratory');
}

// Group lab Observations by test: [{key, label, obs[], members:Set}]
function groupTests(entries) {
  const groups = new Map();
  for (const e of entries) {
    const o = e.resource;
    if (!isLab(o)) continue;
    const key = testKey(o);
    if (!groups.has(key)) groups.set(key, { key, label: ccText(o.code), items: [], members: new Set() });
    const g = groups.get(key);
    g.items.push(e);
    g.members.add(e.member.code);
  }
  for (const g of groups.values()) g.items.sort((a, b) => (a.date || '').localeCompare(b.date || ''));
  return [...groups.values()].sort((a, b) => b.items.length - a.items.length);
}

function firstTest(groups) {
  for (const code of PREFERRED) {
    const g = groups.find((x) => x.key === `http://loinc.org|${code}` && x.items.length > 1);
    if (g) return g.key;
  }
  const numeric = groups.find((g) => g.items.some((e) => e.resource.valueQuantity));
  return numeric ? numeric.key : (groups[0] && groups[0].key);
}

export function renderLabs(panel, rec) {
  const groups = groupTests(rec.entries);
  if (!groups.length) {
    replace(panel, h('p', { class: 'muted' }, t('labs.none')));
    return;
  }
  if (!rec.labTest || !groups.some((g) => g.key === rec.labTest)) rec.labTest = firstTest(groups);
  const select = h('select', { name: 'test', class: 'test-select' }, groups.map((g) => h('option', {
    value: g.key, selected: g.key === rec.labTest,
  }, t('labs.option', { name: g.label, n: g.items.length, m: g.members.size }))));
  const chartBox = h('div', { class: 'chart-box' });
  const testTable = h('div', { class: 'test-table' });
  let chart = null;

  function draw() {
    const g = groups.find((x) => x.key === rec.labTest);
    if (chart) chart.destroy();
    chart = null;
    replace(chartBox);
    replace(testTable);
    if (!g) return;
    chart = drawTrend(chartBox, g);
    testTable.append(labTable(t('labs.tableOf', { name: g.label }), g.items));
  }

  select.addEventListener('change', () => {
    rec.labTest = select.value;
    draw();
  });

  const all = groups.flatMap((g) => g.items).sort((a, b) => (b.date || '').localeCompare(a.date || ''));
  replace(panel,
    h('div', { class: 'labs' },
      h('h2', null, t('labs.trend')),
      field(t('labs.test'), select),
      chartBox,
      testTable,
      h('details', { class: 'all-labs' },
        h('summary', null, t('labs.all', { n: all.length })),
        labTable(t('labs.allCaption'), all))));
  draw();
}

function drawTrend(box, g) {
  // One unit per chart: values in other units are listed in the table only.
  const units = new Map();
  for (const e of g.items) {
    const q = e.resource.valueQuantity;
    if (q && typeof q.value === 'number') {
      const u = q.unit || q.code || '';
      units.set(u, (units.get(u) || 0) + 1);
    }
  }
  if (!units.size) {
    box.append(h('p', { class: 'muted' }, t('labs.notNumeric')));
    return null;
  }
  const unit = [...units.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const series = new Map();
  let range = null;
  for (const e of g.items) {
    const o = e.resource;
    const q = o.valueQuantity;
    if (!q || typeof q.value !== 'number' || (q.unit || q.code || '') !== unit || !e.date) continue;
    const x = Date.parse(e.date.length === 10 ? `${e.date}T00:00:00` : e.date);
    if (Number.isNaN(x)) continue;
    if (!series.has(e.member.code)) series.set(e.member.code, { name: e.member.display, slot: memberSlot(e.member.code), points: [] });
    const flag = abnormalFlag(o);
    series.get(e.member.code).points.push({ x, y: q.value, flag: flag.level, label: flag.label, date: fmtDateTime(e.date) });
    const rr = (o.referenceRange || [])[0];
    if (!range && rr && (rr.low || rr.high)) {
      range = { low: rr.low ? rr.low.value : null, high: rr.high ? rr.high.value : null };
    }
  }
  const shown = unitText(unit);
  const desc = t('labs.chartDesc', { name: g.label, unit: shown, n: [...series.values()].reduce((s, x) => s + x.points.length, 0), m: series.size });
  const canvas = h('canvas', { role: 'img', 'aria-label': desc, class: 'trend' });
  const legendNote = h('p', { class: 'muted small' },
    range ? t('labs.rangeNote', { low: range.low ?? '—', high: range.high ?? '—', unit: shown }) : t('labs.noRange'),
    ' ', t('labs.flagNote'));
  append(box, [h('figure', { class: 'chart' }, h('div', { class: 'canvas-wrap' }, canvas), h('figcaption', null, desc), legendNote),
    units.size > 1 ? h('p', { class: 'notice' }, t('labs.otherUnits', { unit: shown })) : null]);
  return trendChart(canvas, { series: [...series.values()], range, unit: shown, yLabel: `${g.label} (${shown})`, allLabel: t('labs.allHospitals') });
}

function labTable(caption, items) {
  return table(caption, [
    { label: t('labs.date'), cell: (e) => fmtDate(e.date) },
    { label: t('labs.testCol'), cell: (e) => ccText(e.resource.code) },
    { label: t('labs.value'), class: 'num', cell: (e) => obsValueText(e.resource) },
    { label: t('labs.range'), cell: (e) => refRangeText(e.resource) },
    {
      label: t('labs.flag'), cell: (e) => {
        const f = abnormalFlag(e.resource);
        return f.level ? h('span', { class: `flag ${f.level}` }, f.label) : '';
      },
    },
    { label: t('ident.hospital'), cell: (e) => memberBadge(e.member) },
  ], items, { rowClass: (e) => (abnormalFlag(e.resource).level ? 'abnormal' : null) });
}
