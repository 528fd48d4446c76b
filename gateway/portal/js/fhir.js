// fhir.js — reading FHIR R4 resources for display (pure functions, no DOM).

import { t, tOr, has, fmtDate } from './i18n.js';

export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
export const PERSON_SYSTEM = 'urn:fhirgate:mpi:person';
export const MEMBER_TAG_SYSTEM = 'urn:fhirgate:member';
const EN_REPRESENTATION = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

// GB 11643-1999: 17 digits, then the ISO 7064 MOD 11-2 check character.
export function residentIdValid(id) {
  const s = String(id || '').trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
  return '10X98765432'[sum % 11] === s[17];
}

// The source hospital of a federated entry: {code, display} from
// meta.tag urn:fhirgate:member (gateway-api.md §5).
export function memberOf(resource) {
  const tags = (resource && resource.meta && resource.meta.tag) || [];
  const tag = tags.find((x) => x.system === MEMBER_TAG_SYSTEM);
  return tag ? { code: tag.code, display: tag.display || tag.code } : { code: '', display: '' };
}

// ------------------------------------------------------------ names --

function isHan(s) {
  return HAN.test(s || '');
}

function representation(n) {
  const ext = (n.extension || []).find((e) => e.url === EN_REPRESENTATION);
  return ext ? ext.valueCode : null;
}

// A HumanName as a Chinese reader expects it: family name first; Han
// characters without spaces (王小东); pinyin as "WANG Xiaodong".
export function nameText(n) {
  if (!n) return '';
  const family = n.family || '';
  const given = n.given || [];
  if (isHan(family) || given.some(isHan)) return family + given.join('');
  if (!family && !given.length) return n.text || '';
  const fam = family ? family.toUpperCase() : '';
  return [fam, given.join(' ')].filter(Boolean).join(' ');
}

// The best name of a Patient for display: {main, alt} where main is the Han
// (ideographic) form when there is one and alt the alphabetic form.
export function patientName(p) {
  const names = (p && p.name) || [];
  const active = names.filter((n) => !n.period || !n.period.end);
  const pool = active.length ? active : names;
  const han = pool.find((n) => representation(n) === 'IDE') ||
    pool.find((n) => isHan(n.family) || (n.given || []).some(isHan) || isHan(n.text));
  const latin = pool.find((n) => n !== han && (representation(n) === 'ABC' || representation(n) === 'SYL' ||
    (!isHan(n.family) && n.family)));
  const main = han ? (nameText(han) || han.text) : nameText(pool.find((n) => n.use === 'official') || pool[0]);
  const alt = han && latin ? nameText(latin) : '';
  return { main: main || t('common.unknownName'), alt };
}

export function genderText(g) {
  return g ? t(`gender.${g}`) : '';
}

// ------------------------------------------------------------ codes --

// Display text of a CodeableConcept (text, else the first coding's display, else code).
export function ccText(cc) {
  if (!cc) return '';
  if (Array.isArray(cc)) return cc.map(ccText).filter(Boolean).join(', ');
  if (cc.text) return cc.text;
  const c = (cc.coding || []).find((x) => x.display) || (cc.coding || [])[0];
  return c ? (c.display || c.code || '') : '';
}

// A document's type: our name for the common LOINC document codes (their
// displays are English), else the text or display the hospital sent.
export function docTypeText(cc) {
  const loinc = codingOf(cc, 'http://loinc.org');
  if (loinc && has(`docType.${loinc.code}`) && !(cc.text && HAN.test(cc.text))) return t(`docType.${loinc.code}`);
  return ccText(cc);
}

export function codingOf(cc, system) {
  return ((cc && cc.coding) || []).find((c) => !system || c.system === system) || null;
}

// A stable key for "the same test" across hospitals: LOINC when present, else
// the first coding, else the text.
export function testKey(obs) {
  const code = obs.code || {};
  const loinc = codingOf(code, 'http://loinc.org');
  if (loinc) return `http://loinc.org|${loinc.code}`;
  const c = (code.coding || [])[0];
  if (c) return `${c.system || ''}|${c.code || ''}`;
  return `text|${code.text || ''}`;
}

// A unit as people write it.  Lab systems send UCUM codes as the unit text
// (HL7 v2 OBX-6, CSV exports): powers of ten are written 10*9 and
// annotations in braces (UCUM §2.4 "10*", §2.11 annotations), so
// "10*9/L" reads ×10⁹/L and "mL/min/{1.73_m2}" reads mL/min/1.73 m².
const SUPERSCRIPT = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
export function unitText(u) {
  if (!u) return '';
  return String(u)
    .replace(/^10[*^](-?\d+)/, (m, e) => `×10${[...e].map((c) => SUPERSCRIPT[c]).join('')}`)
    .replace(/\{([^{}]*)\}/g, (m, a) => a.replace(/_/g, ' ').replace(/m2$/, 'm²'));
}

export function quantityText(q) {
  if (!q || q.value === undefined) return '';
  const cmp = q.comparator || '';
  const unit = unitText(q.unit || q.code || '');
  return `${cmp}${q.value}${unit ? ' ' + unit : ''}`;
}

// The value of an Observation as text.
export function obsValueText(o) {
  if (o.valueQuantity) return quantityText(o.valueQuantity);
  if (o.valueCodeableConcept) return ccText(o.valueCodeableConcept);
  if (o.valueString !== undefined) return o.valueString;
  if (o.valueBoolean !== undefined) return t(o.valueBoolean ? 'common.yes' : 'common.no');
  if (o.valueInteger !== undefined) return String(o.valueInteger);
  if (o.valueRange) return `${quantityText(o.valueRange.low)}–${quantityText(o.valueRange.high)}`;
  if (o.valueRatio) return `${quantityText(o.valueRatio.numerator)}/${quantityText(o.valueRatio.denominator)}`;
  if (o.valueDateTime) return fmtDate(o.valueDateTime);
  if (o.dataAbsentReason) return ccText(o.dataAbsentReason);
  if (o.component && o.component.length) {
    return o.component.map((c) => `${ccText(c.code)} ${obsValueText(c)}`).join('; ');
  }
  return '';
}

export function refRangeText(o) {
  const r = (o.referenceRange || [])[0];
  if (!r) return '';
  if (r.text && !r.low && !r.high) return r.text;
  const lo = r.low && r.low.value !== undefined ? r.low.value : null;
  const hi = r.high && r.high.value !== undefined ? r.high.value : null;
  const unit = unitText((r.low && r.low.unit) || (r.high && r.high.unit) || '');
  if (lo !== null && hi !== null) return `${lo}–${hi}${unit ? ' ' + unit : ''}`;
  if (lo !== null) return `≥${lo}${unit ? ' ' + unit : ''}`;
  if (hi !== null) return `≤${hi}${unit ? ' ' + unit : ''}`;
  return r.text || '';
}

// Abnormal flag of an Observation: {code, label, level} where level is
// 'high', 'low', 'abnormal', 'critical' or '' (normal / unknown).  From the
// interpretation (v3 ObservationInterpretation) when given, else from the
// value against the reference range.
export function abnormalFlag(o) {
  const interp = (o.interpretation || []).flatMap((i) => i.coding || []);
  for (const c of interp) {
    const code = String(c.code || '').toUpperCase();
    if (['HH', 'LL', 'AA', '>', '<'].includes(code)) return { code, level: 'critical', label: t('flag.critical') };
    if (['H', 'HU', 'HX'].includes(code)) return { code: 'H', level: 'high', label: t('flag.high') };
    if (['L', 'LU', 'LX'].includes(code)) return { code: 'L', level: 'low', label: t('flag.low') };
    if (['A', 'POS', 'DET', 'R', 'W'].includes(code)) return { code: 'A', level: 'abnormal', label: t('flag.abnormal') };
    if (['N', 'NEG', 'ND', 'S'].includes(code)) return { code: 'N', level: '', label: '' };
  }
  const v = o.valueQuantity && typeof o.valueQuantity.value === 'number' ? o.valueQuantity.value : null;
  const r = (o.referenceRange || [])[0];
  if (v !== null && r) {
    if (r.high && typeof r.high.value === 'number' && v > r.high.value) return { code: 'H', level: 'high', label: t('flag.high') };
    if (r.low && typeof r.low.value === 'number' && v < r.low.value) return { code: 'L', level: 'low', label: t('flag.low') };
  }
  return { code: '', level: '', label: '' };
}

// ------------------------------------------------------------ timeline --

// Kinds of timeline entries (filter "type"), in display order.
export const KINDS = ['encounter', 'condition', 'lab', 'imaging', 'medication', 'allergy',
  'procedure', 'immunization', 'family', 'goal', 'careteam', 'document'];

export function kindOf(r) {
  switch (r.resourceType) {
    case 'Encounter': return 'encounter';
    case 'Condition': return 'condition';
    case 'Observation': return 'lab';
    case 'DiagnosticReport': return 'lab';
    case 'ImagingStudy': return 'imaging';
    case 'MedicationRequest':
    case 'MedicationStatement':
    case 'MedicationAdministration':
    case 'MedicationDispense': return 'medication';
    case 'AllergyIntolerance': return 'allergy';
    case 'Procedure': return 'procedure';
    case 'Immunization': return 'immunization';
    case 'FamilyMemberHistory': return 'family';
    case 'Goal': return 'goal';
    case 'CareTeam': return 'careteam';
    case 'DocumentReference':
    case 'Composition': return 'document';
    default: return null;
  }
}

function periodStart(p) {
  return p ? (p.start || p.end || '') : '';
}

// The clinically relevant date of a resource (for sorting and the date filter).
export function dateOf(r) {
  switch (r.resourceType) {
    case 'Encounter': return periodStart(r.period);
    case 'Condition': return r.onsetDateTime || (r.onsetPeriod && r.onsetPeriod.start) || r.recordedDate || '';
    case 'Observation': return r.effectiveDateTime || periodStart(r.effectivePeriod) || r.effectiveInstant || r.issued || '';
    case 'DiagnosticReport': return r.effectiveDateTime || periodStart(r.effectivePeriod) || r.issued || '';
    case 'ImagingStudy': return r.started || '';
    case 'MedicationRequest': return r.authoredOn || '';
    case 'MedicationStatement': return r.effectiveDateTime || periodStart(r.effectivePeriod) || r.dateAsserted || '';
    case 'AllergyIntolerance': return r.recordedDate || r.onsetDateTime || '';
    case 'Procedure': return r.performedDateTime || periodStart(r.performedPeriod) || '';
    case 'Immunization': return r.occurrenceDateTime || r.recorded || '';
    case 'FamilyMemberHistory': return r.date || '';
    case 'Goal': return r.startDate || r.statusDate || ((r.target || []).find((x) => x.dueDate) || {}).dueDate || '';
    case 'CareTeam': return periodStart(r.period);
    case 'DocumentReference': return r.date || (r.context && periodStart(r.context.period)) || '';
    case 'Composition': return r.date || '';
    default: return (r.meta && r.meta.lastUpdated) || '';
  }
}

function medicationText(r) {
  if (r.medicationCodeableConcept) return ccText(r.medicationCodeableConcept);
  if (r.medicationReference) return r.medicationReference.display || '';
  return '';
}

function dosageText(r) {
  const d = (r.dosageInstruction || r.dosage || [])[0];
  return d ? (d.text || '') : '';
}

// Title and detail line of a timeline entry.
export function summaryOf(r) {
  switch (r.resourceType) {
    case 'Encounter': {
      // The class is a v3 ActCode: our own name for the code first (the
      // coding's display is the code system's English, e.g. "ambulatory").
      const cls = r.class ? tOr(`encClass.${r.class.code}`, r.class.display || r.class.code) : '';
      const reason = ccText(r.reasonCode);
      const title = ccText(r.type) || cls || t('kind.encounter');
      return { title, detail: [title === cls ? '' : cls, reason, r.status && tOr(`status.${r.status}`, r.status)].filter(Boolean).join(' · ') };
    }
    case 'Condition': {
      const icd = ((r.code && r.code.coding) || []).find((c) => /icd/i.test(c.system || ''));
      const st = r.clinicalStatus ? ccText(r.clinicalStatus) : '';
      return { title: ccText(r.code), detail: [icd ? `ICD-10 ${icd.code}` : '', st].filter(Boolean).join(' · ') };
    }
    case 'Observation': {
      const f = abnormalFlag(r);
      const rr = refRangeText(r);
      return {
        title: ccText(r.code),
        detail: [obsValueText(r), rr ? `${t('labs.range')} ${rr}` : ''].filter(Boolean).join(' · '),
        flag: f,
      };
    }
    case 'DiagnosticReport':
      return { title: ccText(r.code), detail: [r.conclusion, r.result ? t('timeline.results', { n: r.result.length }) : ''].filter(Boolean).join(' · ') };
    case 'ImagingStudy': {
      const mods = (r.modality || []).map((m) => m.code).join('/');
      return {
        title: r.description || ccText(r.procedureCode) || t('kind.imaging'),
        detail: [mods, t('imaging.counts', { s: r.numberOfSeries ?? '?', i: r.numberOfInstances ?? '?' })].join(' · '),
      };
    }
    case 'MedicationRequest':
    case 'MedicationStatement':
      return { title: medicationText(r), detail: [dosageText(r), r.status && tOr(`status.${r.status}`, r.status)].filter(Boolean).join(' · ') };
    case 'AllergyIntolerance': {
      const reaction = (r.reaction || []).map((x) => (x.manifestation || []).map(ccText).join(', ')).filter(Boolean).join('; ');
      return { title: ccText(r.code), detail: [reaction, r.criticality && tOr(`criticality.${r.criticality}`, r.criticality)].filter(Boolean).join(' · ') };
    }
    case 'Procedure':
      return { title: ccText(r.code), detail: [ccText(r.bodySite), r.status && tOr(`status.${r.status}`, r.status)].filter(Boolean).join(' · ') };
    case 'Immunization':
      return { title: ccText(r.vaccineCode), detail: r.status ? tOr(`status.${r.status}`, r.status) : '' };
    case 'FamilyMemberHistory': {
      // "Father: Diabetes mellitus type 2 (onset 57 y)"; a relative's own
      // death is a fact of the history, not a condition.
      const conds = (r.condition || []).map((c) => {
        const age = c.onsetAge && typeof c.onsetAge.value === 'number' ? `${c.onsetAge.value} ${c.onsetAge.unit || ''}`.trim() : '';
        return [ccText(c.code), age && t('family.onset', { age })].filter(Boolean).join(' ');
      }).filter(Boolean).join('; ');
      const rel = ccText(r.relationship) || r.name || t('kind.family');
      return { title: conds ? `${rel}: ${conds}` : rel, detail: [r.name && r.name !== rel ? r.name : '', r.deceasedBoolean || r.deceasedDate ? t('family.deceased') : ''].filter(Boolean).join(' · ') };
    }
    case 'Goal': {
      const due = ((r.target || []).find((x) => x.dueDate) || {}).dueDate;
      return { title: ccText(r.description) || t('kind.goal'), detail: [r.lifecycleStatus && tOr(`status.${r.lifecycleStatus}`, r.lifecycleStatus), ccText(r.achievementStatus), due ? t('goal.due', { date: due }) : ''].filter(Boolean).join(' · ') };
    }
    case 'CareTeam': {
      const who = (r.participant || []).map((p) => [p.member && p.member.display, ccText(p.role)].filter(Boolean).join(' ')).filter(Boolean).join(', ');
      return { title: r.name || ccText(r.category) || t('kind.careteam'), detail: [who, r.status && tOr(`status.${r.status}`, r.status)].filter(Boolean).join(' · ') };
    }
    case 'DocumentReference':
    case 'Composition':
      return { title: r.description || r.title || docTypeText(r.type) || t('kind.document'), detail: docTypeText(r.type) };
    default:
      return { title: r.resourceType, detail: '' };
  }
}

// Member failures from the federated Bundle's outcome entries
// (gateway-api.md §5): [{member, code, diagnostics, latency}], plus
// `withheld` when consent removed something.
export function readOutcomes(outcomes) {
  const failures = [];
  let withheld = false;
  const warnings = [];
  for (const oo of outcomes) {
    for (const issue of oo.issue || []) {
      if (issue.code === 'suppressed') {
        withheld = true;
        continue;
      }
      const ext = issue.extension || [];
      const err = ext.find((e) => e.url === 'urn:fhirgate:fed:error');
      const lat = ext.find((e) => e.url === 'urn:fhirgate:fed:latency-ms');
      // The member: issue.details.coding (urn:fhirgate:member) for machines,
      // else the "member ID (NAME)" of the diagnostics.
      const coded = ((issue.details && issue.details.coding) || []).find((c) => c.system === MEMBER_TAG_SYSTEM);
      const re = /member\s+([A-Za-z0-9._-]+)(?:\s+\(([^)]*)\))?/.exec(issue.diagnostics || '');
      const m = coded ? [null, coded.code, coded.display] : re;
      if (err || m) {
        failures.push({
          member: m ? m[1] : '',
          memberName: m && m[2] ? m[2] : '',
          code: issue.code || 'exception',     // timeout | transient | exception | invalid
          detail: err ? err.valueCode : '',    // refused, tls, http-status, circuit-open, …
          diagnostics: issue.diagnostics || '',
          latency: lat ? lat.valueInteger : null,
        });
      } else if (issue.severity !== 'information') {
        warnings.push(issue.diagnostics || issue.code);
      }
    }
  }
  return { failures, withheld, warnings };
}

// The regional id of a Patient from the gateway's PDQm answer.
export function regionalId(p) {
  return p.id;
}

export function identifierLabel(ident) {
  if (ident.system === RESIDENT_ID_SYSTEM) return t('ident.resident');
  if (ident.system === PERSON_SYSTEM) return t('ident.regional');
  // A member's record number: its hospital is shown beside it.
  if (ident.assigner) return ccText(ident.type) || t('ident.mrn');
  return ccText(ident.type) || ident.system || '';
}

// Which member an identifier belongs to (its assigner), or ''.
export function identifierMember(ident) {
  const a = ident.assigner;
  if (!a) return '';
  if (a.identifier && a.identifier.system === MEMBER_TAG_SYSTEM) return a.identifier.value;
  if (a.reference && /^Organization\//.test(a.reference)) return a.reference.split('/')[1];
  return (a.identifier && a.identifier.value) || '';
}
