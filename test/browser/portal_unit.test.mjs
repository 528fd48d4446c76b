// portal_unit.test.mjs — the portal's pure FHIR readers (gateway/portal/js/
// fhir.js) under Node, without a browser: the cases the fixtures of the
// browser tests do not reach (other interpretation codes, partial dates,
// outcome shapes, malformed identifiers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  residentIdValid, nameText, patientName, abnormalFlag, refRangeText, obsValueText, kindOf, dateOf,
  readOutcomes, memberOf, testKey, summaryOf,
} from '../../gateway/portal/js/fhir.js';
import { fmtDate, age } from '../../gateway/portal/js/i18n.js';
import { residentId } from './fixtures.mjs';

test('GB 11643 check character', () => {
  assert.equal(residentIdValid('11010519491231002X'), true); // the standard's example
  assert.equal(residentIdValid('11010519491231002x'), true);
  assert.equal(residentIdValid('110105194912310021'), false); // wrong check character
  assert.equal(residentIdValid('11010519491231002'), false); // 17 characters
  assert.equal(residentIdValid('1101051949123100XX'), false); // X only last
  assert.equal(residentIdValid(''), false);
  assert.equal(residentIdValid(null), false);
  assert.equal(residentIdValid(residentId('210302', '1958-03-12', 117)), true);
});

test('names: family first, Han without spaces, pinyin in capitals', () => {
  assert.equal(nameText({ family: '王', given: ['建国'] }), '王建国');
  assert.equal(nameText({ family: '欧阳', given: ['娜', '娜'] }), '欧阳娜娜');
  assert.equal(nameText({ family: 'Wang', given: ['Jian', 'Guo'] }), 'WANG Jian Guo');
  assert.equal(nameText({ text: '张三' }), '张三');
  assert.equal(nameText(null), '');
  const EXT = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';
  const p = {
    name: [
      { family: 'LI', given: ['Xiuying'], extension: [{ url: EXT, valueCode: 'SYL' }] },
      { family: '李', given: ['秀英'], extension: [{ url: EXT, valueCode: 'IDE' }] },
    ],
  };
  assert.deepEqual(patientName(p), { main: '李秀英', alt: 'LI Xiuying' });
  // An ended name is not shown when a current one exists.
  const q = { name: [{ family: '赵', given: ['旧'], period: { end: '2000-01-01' } }, { family: '赵', given: ['敏'] }] };
  assert.equal(patientName(q).main, '赵敏');
  assert.equal(patientName({}).main.length > 0, true);
});

test('abnormal flags: interpretation first, else value against the range', () => {
  const I = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
  const obs = (code, value, low, high) => ({
    resourceType: 'Observation',
    interpretation: code ? [{ coding: [{ system: I, code }] }] : undefined,
    valueQuantity: value === undefined ? undefined : { value, unit: '%' },
    referenceRange: low === undefined ? undefined : [{ low: low === null ? undefined : { value: low }, high: high === null ? undefined : { value: high } }],
  });
  assert.equal(abnormalFlag(obs('H')).level, 'high');
  assert.equal(abnormalFlag(obs('LL')).level, 'critical');
  assert.equal(abnormalFlag(obs('A')).level, 'abnormal');
  assert.equal(abnormalFlag(obs('N', 9, 4, 6)).level, '', 'interpretation N wins over the range');
  assert.equal(abnormalFlag(obs(null, 9, 4, 6)).level, 'high');
  assert.equal(abnormalFlag(obs(null, 3, 4, 6)).level, 'low');
  assert.equal(abnormalFlag(obs(null, 5, 4, 6)).level, '');
  assert.equal(abnormalFlag(obs(null, 0.08, null, 0.04)).level, 'high');
  assert.equal(abnormalFlag(obs(null, 5)).level, '');
  assert.equal(refRangeText(obs(null, 5, 4, 6)), '4–6');
  assert.equal(refRangeText(obs(null, 5, null, 0.04)), '≤0.04');
  assert.equal(refRangeText({ referenceRange: [{ text: '阴性' }] }), '阴性');
});

test('values of every Observation shape', () => {
  assert.equal(obsValueText({ valueQuantity: { value: 7.2, unit: '%' } }), '7.2 %');
  assert.equal(obsValueText({ valueQuantity: { value: 5, comparator: '<', unit: 'mmol/L' } }), '<5 mmol/L');
  assert.equal(obsValueText({ valueCodeableConcept: { text: '阳性' } }), '阳性');
  assert.equal(obsValueText({ valueString: 'see report' }), 'see report');
  assert.equal(obsValueText({ valueInteger: 0 }), '0');
  assert.equal(obsValueText({ valueRatio: { numerator: { value: 1 }, denominator: { value: 320 } } }), '1/320');
  assert.equal(obsValueText({ component: [{ code: { text: 'SBP' }, valueQuantity: { value: 140, unit: 'mmHg' } }] }), 'SBP 140 mmHg');
  assert.equal(obsValueText({}), '');
});

test('timeline kinds and dates', () => {
  assert.equal(kindOf({ resourceType: 'MedicationStatement' }), 'medication');
  assert.equal(kindOf({ resourceType: 'Patient' }), null);
  assert.equal(dateOf({ resourceType: 'Encounter', period: { start: '2024-03-13T09:00:00+08:00' } }), '2024-03-13T09:00:00+08:00');
  assert.equal(dateOf({ resourceType: 'Condition', onsetPeriod: { start: '2019' } }), '2019');
  assert.equal(dateOf({ resourceType: 'Procedure', performedPeriod: { end: '2022-06-14' } }), '2022-06-14');
  assert.equal(fmtDate('2019'), '2019');
  assert.equal(fmtDate('2019-04'), '2019-04');
  assert.equal(fmtDate('not a date'), 'not a date'.slice(0, 10));
  assert.equal(age('1958-03-12', new Date(2026, 2, 11)), 67);
  assert.equal(age('1958-03-12', new Date(2026, 2, 12)), 68);
  assert.equal(age('1958', new Date()), null);
  assert.ok(summaryOf({ resourceType: 'ImagingStudy', modality: [{ code: 'CT' }], numberOfSeries: 3, numberOfInstances: 245 }).detail.includes('CT'));
});

test('member tags, test keys', () => {
  assert.deepEqual(memberOf({ meta: { tag: [{ system: 'urn:fhirgate:member', code: 'hosp-a', display: 'A' }] } }), { code: 'hosp-a', display: 'A' });
  assert.deepEqual(memberOf({ meta: { tag: [{ system: 'other', code: 'x' }] } }), { code: '', display: '' });
  assert.deepEqual(memberOf({}), { code: '', display: '' });
  assert.equal(testKey({ code: { coding: [{ system: 'local', code: 'HBA' }, { system: 'http://loinc.org', code: '4548-4' }] } }), 'http://loinc.org|4548-4');
  assert.equal(testKey({ code: { text: '血常规' } }), 'text|血常规');
});

test('outcome entries: failures by member, consent notice, other warnings', () => {
  const failure = {
    resourceType: 'OperationOutcome',
    issue: [{
      severity: 'warning', code: 'transient',
      diagnostics: 'member hosp-c (hosp-c): refused: connection refused; 1 ms',
      details: { coding: [{ system: 'urn:fhirgate:member', code: 'hosp-c' }] },
      extension: [{ url: 'urn:fhirgate:fed:latency-ms', valueInteger: 1 }, { url: 'urn:fhirgate:fed:error', valueCode: 'refused' }],
    }],
  };
  const byText = { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'timeout', diagnostics: 'member hosp-b (Hospital B): no answer within the deadline' }] };
  const consent = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'suppressed', diagnostics: 'some data withheld by patient consent' }] };
  const costly = { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'too-costly', diagnostics: 'narrow the search' }] };
  const r = readOutcomes([failure, byText, consent, costly]);
  assert.equal(r.withheld, true);
  assert.deepEqual(r.failures.map((f) => [f.member, f.code, f.detail, f.latency]), [['hosp-c', 'transient', 'refused', 1], ['hosp-b', 'timeout', '', null]]);
  assert.equal(r.failures[1].memberName, 'Hospital B');
  assert.deepEqual(r.warnings, ['narrow the search']);
  assert.deepEqual(readOutcomes([]), { failures: [], withheld: false, warnings: [] });
});
