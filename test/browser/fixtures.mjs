// fixtures.mjs — the fixed FHIR data the browser tests' member hospitals
// serve: three members with different strengths (a general hospital with
// labs, a hospital whose records come as CDA documents, an imaging centre)
// and a few patients, the shared one seen at all three.  Deterministic: the
// same files every run, dated relative to a fixed year so trends read
// naturally.

import fs from 'node:fs';
import path from 'node:path';

export const RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
const LOINC = 'http://loinc.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const UCUM = 'http://unitsofmeasure.org';
const INTERP = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const EN_REP = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';

// GB 11643-1999: ISO 7064 MOD 11-2 check character.
export function residentId(region, birth, seq) {
  const body = `${region}${birth.replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * w[i];
  return body + '10X98765432'[sum % 11];
}

export const MEMBERS = [
  { id: 'hosp-a', name: '鞍山市中心医院', en: 'Anshan Central Hospital', mrn: 'https://hosp-a.example.cn/fhir/sid/mrn' },
  { id: 'hosp-b', name: '鞍山市第三人民医院', en: 'Anshan Third People\'s Hospital', mrn: 'https://hosp-b.example.cn/fhir/sid/mrn' },
  { id: 'hosp-c', name: '鞍山影像诊断中心', en: 'Anshan Imaging Centre', mrn: 'https://hosp-c.example.cn/fhir/sid/mrn' },
];

// People.  seq is odd for men, even for women (GB 11643).
export const PEOPLE = {
  shared: { family: '王', given: '建国', pinyin: ['WANG', 'Jianguo'], gender: 'male', birth: '1958-03-12', region: '210302', seq: 117 },
  optout: { family: '李', given: '秀英', pinyin: ['LI', 'Xiuying'], gender: 'female', birth: '1972-07-08', region: '210303', seq: 226 },
  partial: { family: '赵', given: '敏', pinyin: ['ZHAO', 'Min'], gender: 'female', birth: '1985-11-23', region: '210302', seq: 48 },
  single: { family: '张', given: '伟', pinyin: ['ZHANG', 'Wei'], gender: 'male', birth: '1990-01-15', region: '210304', seq: 31 },
};
for (const p of Object.values(PEOPLE)) p.residentId = residentId(p.region, p.birth, p.seq);

const UPDATED = '2026-01-05T08:00:00+08:00';

function patient(member, local, p) {
  return {
    resourceType: 'Patient',
    id: local,
    meta: { lastUpdated: UPDATED },
    identifier: [
      { use: 'official', system: RESIDENT_ID_SYSTEM, value: p.residentId },
      { use: 'usual', system: member.mrn, value: local.toUpperCase(), assigner: { display: member.name } },
    ],
    name: [
      { use: 'official', family: p.family, given: [p.given], extension: [{ url: EN_REP, valueCode: 'IDE' }] },
      { use: 'official', family: p.pinyin[0], given: [p.pinyin[1]], extension: [{ url: EN_REP, valueCode: 'SYL' }] },
    ],
    gender: p.gender,
    birthDate: p.birth,
    telecom: [{ system: 'phone', value: '138' + p.residentId.slice(10, 18).replace('X', '0'), use: 'mobile' }],
    address: [{ state: '辽宁省', city: '鞍山市', district: '铁东区', line: ['胜利南路 ' + p.seq + ' 号'] }],
  };
}

// A registration without a resident identity number (name as text only).
function lookalike(member, local, birth, phone) {
  const p = {
    resourceType: 'Patient',
    id: local,
    meta: { lastUpdated: UPDATED },
    identifier: [{ use: 'usual', system: member.mrn, value: local.toUpperCase(), assigner: { display: member.name } }],
    name: [{ use: 'official', text: '周八' }],
    gender: 'female',
    birthDate: birth,
  };
  if (phone) p.telecom = [{ system: 'phone', value: phone, use: 'mobile' }];
  return p;
}

class Builder {
  constructor(member, local) {
    this.member = member;
    this.local = local;
    this.out = [];
    this.n = 0;
  }

  id(prefix) {
    this.n += 1;
    return `${prefix}-${this.local}-${this.n}`;
  }

  add(r) {
    r.meta = { lastUpdated: UPDATED };
    if (!('subject' in r)) r.subject = { reference: `Patient/${this.local}` };
    this.out.push(r);
    return r;
  }

  encounter(date, cls, typeText, reason, days = 0) {
    const end = new Date(`${date}T11:00:00+08:00`);
    end.setDate(end.getDate() + days);
    return this.add({
      resourceType: 'Encounter', id: this.id('enc'), status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
      type: [{ text: typeText }], reasonCode: reason ? [{ text: reason }] : undefined,
      period: { start: `${date}T09:00:00+08:00`, end: end.toISOString() },
    });
  }

  condition(date, icd, text) {
    return this.add({
      resourceType: 'Condition', id: this.id('cond'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }], text: '活动' },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      code: { coding: [{ system: ICD10, code: icd, display: text }], text },
      onsetDateTime: `${date}T10:00:00+08:00`, recordedDate: `${date}T10:00:00+08:00`,
    });
  }

  lab(date, loinc, display, text, value, ucum, low, high) {
    // Human unit beside the UCUM code, as LIS exports give them.
    const unit = ucum === 'umol/L' ? 'μmol/L' : ucum;
    let flag = null;
    if (high !== null && value > high) flag = 'H';
    else if (low !== null && value < low) flag = 'L';
    const range = {};
    if (low !== null) range.low = { value: low, unit, system: UCUM, code: ucum };
    if (high !== null) range.high = { value: high, unit, system: UCUM, code: ucum };
    return this.add({
      resourceType: 'Observation', id: this.id('obs'), status: 'final',
      category: [{ coding: [{ system: OBS_CAT, code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: LOINC, code: loinc, display }], text },
      effectiveDateTime: `${date}T08:30:00+08:00`, issued: `${date}T15:00:00+08:00`,
      valueQuantity: { value, unit, system: UCUM, code: ucum },
      interpretation: [{ coding: [{ system: INTERP, code: flag || 'N' }] }],
      referenceRange: [range],
    });
  }

  medication(date, text, dose, rx = true) {
    const code = { text, coding: [{ system: 'urn:oid:2.16.156.10011.2.3.3.13', code: text, display: text }] };
    if (rx) {
      return this.add({
        resourceType: 'MedicationRequest', id: this.id('mrx'), status: 'active', intent: 'order',
        medicationCodeableConcept: code, authoredOn: `${date}T10:15:00+08:00`, dosageInstruction: [{ text: dose }],
      });
    }
    return this.add({
      resourceType: 'MedicationStatement', id: this.id('mst'), status: 'active',
      medicationCodeableConcept: code, effectiveDateTime: `${date}T10:15:00+08:00`, dosage: [{ text: dose }],
    });
  }

  allergy(date, text, reaction) {
    return this.add({
      resourceType: 'AllergyIntolerance', id: this.id('alg'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      type: 'allergy', category: ['medication'], criticality: 'high',
      code: { text }, patient: { reference: `Patient/${this.local}` }, recordedDate: `${date}T10:00:00+08:00`,
      reaction: [{ manifestation: [{ text: reaction }], severity: 'severe' }],
      subject: null,
    });
  }

  procedure(date, text, site) {
    return this.add({
      resourceType: 'Procedure', id: this.id('proc'), status: 'completed',
      code: { text }, bodySite: site ? [{ text: site }] : undefined, performedDateTime: `${date}T14:00:00+08:00`,
    });
  }

  immunization(date, text) {
    return this.add({
      resourceType: 'Immunization', id: this.id('imm'), status: 'completed',
      vaccineCode: { text }, patient: { reference: `Patient/${this.local}` }, occurrenceDateTime: `${date}T09:00:00+08:00`,
      subject: null,
    });
  }

  // As the CDA converter writes a C-CDA Family History Organizer.
  familyHistory(date, relCode, relText, condText) {
    return this.add({
      resourceType: 'FamilyMemberHistory', id: this.id('fmh'), status: 'completed',
      patient: { reference: `Patient/${this.local}` }, date,
      relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: relCode }], text: relText },
      condition: [{ code: { text: condText }, onsetAge: { value: 52, unit: '岁', system: UCUM, code: 'a' } }],
      subject: null,
    });
  }

  goal(date, text, due) {
    return this.add({
      resourceType: 'Goal', id: this.id('goal'), lifecycleStatus: 'active',
      description: { text }, startDate: date, target: [{ dueDate: due }],
    });
  }

  document(date, title, typeText, contentType, data) {
    return this.add({
      resourceType: 'DocumentReference', id: this.id('doc'), status: 'current',
      type: { coding: [{ system: LOINC, code: '18842-5', display: 'Discharge summary' }], text: typeText },
      date: `${date}T16:00:00+08:00`, description: title,
      content: [{ attachment: { contentType, language: 'zh-CN', title, data: Buffer.from(data, 'utf8').toString('base64') } }],
    });
  }

  imaging(date, uid, modality, description, series, instances, wado) {
    return this.add({
      resourceType: 'ImagingStudy', id: this.id('img'), status: 'available',
      identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }],
      contained: [{
        resourceType: 'Endpoint', id: 'wado', status: 'active',
        connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
        payloadType: [{ text: 'DICOM' }], payloadMimeType: ['application/dicom'], address: wado,
      }],
      endpoint: [{ reference: '#wado' }],
      modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: modality }],
      started: `${date}T10:20:00+08:00`, numberOfSeries: series, numberOfInstances: instances, description,
    });
  }
}

// Resources with `patient` instead of `subject` must not carry subject.
function tidy(list) {
  for (const r of list) {
    if (r.subject === null) delete r.subject;
    for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  }
  return list;
}

// Shown literally by the portal, never as HTML (test: no <img> appears).
export const MARKUP_TEXT = '血糖异常<img src=x onerror="window.__xss=1">';

// A one-page PDF 1.4 with one line of text (valid cross-reference table).
function tinyPdf(text) {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 14 Tf 24 72 Td (${text}) Tj ET`;
  objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

function cdaDischarge(p, member) {
  // CDA R2 (urn:hl7-org:v3) with a structured body, as the hospital's EMR
  // exports it (WS/T 500 出院小结 layout, simplified).
  return `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="2.16.156.10011.1.1" extension="DS-2024-0313"/>
  <code code="18842-5" codeSystem="2.16.840.1.113883.6.1" displayName="Discharge summary"/>
  <title>出院小结</title>
  <effectiveTime value="20240318160000+0800"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget><patientRole><id root="2.16.156.10011.1.3" extension="${p.residentId}"/>
    <patient><name><family>${p.family}</family><given>${p.given}</given></name></patient></patientRole></recordTarget>
  <author><time value="20240318160000+0800"/><assignedAuthor><id extension="D1024"/>
    <assignedPerson><name><family>刘</family><given>海峰</given></name></assignedPerson></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="2.16.156.10011.1.5" extension="${member.id}"/>
    <name>${member.name}</name></representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody>
    <component><section><title>入院诊断</title><text><list><item>2型糖尿病伴血糖控制不佳</item><item>高血压病2级</item></list></text></section></component>
    <component><section><title>诊疗经过</title><text><paragraph>患者因“多饮、多尿加重2周”入院。入院后予胰岛素强化治疗，监测血糖，调整降压方案。</paragraph><paragraph>住院第5天血糖平稳，空腹血糖6.8 mmol/L。</paragraph></text></section></component>
    <component><section><title>出院时检验结果</title><text><table><thead><tr><th>项目</th><th>结果</th><th>参考范围</th></tr></thead>
      <tbody><tr><td>糖化血红蛋白</td><td>8.1 %</td><td>4.0–6.0</td></tr><tr><td>肌酐</td><td>118 µmol/L</td><td>57–111</td></tr></tbody></table></text></section></component>
    <component><section><title>出院后注意事项</title><text><paragraph>详见<linkHtml href="javascript:window.__xss=2">糖尿病教育手册</linkHtml>。</paragraph></text>
      <component><section><title>饮食</title><text><paragraph>低盐低脂糖尿病饮食。</paragraph></text></section></component></section></component>
    <component><section><title>出院医嘱</title><text><list listType="ordered"><item>二甲双胍 0.5 g 每日三次</item><item>氨氯地平 5 mg 每日一次</item><item>两周后内分泌科门诊复诊</item></list></text></section></component>
  </structuredBody></component>
</ClinicalDocument>
`;
}

// The data of each member: {memberId: [resources]}.  `wadoBase` is the
// imaging centre's WADO-RS root (linked from its studies).
export function buildData(wadoBase) {
  const [A, B, C] = MEMBERS;
  const data = { 'hosp-a': [], 'hosp-b': [], 'hosp-c': [] };
  const P = PEOPLE;

  // Shared patient, general hospital: diabetes and hypertension follow-up since 2019.
  let b = new Builder(A, 'a1001');
  data['hosp-a'].push(patient(A, 'a1001', P.shared));
  b.condition('2019-04-02', 'E11.9', '2型糖尿病');
  b.condition('2019-04-02', 'I10', '原发性高血压');
  const hba1cA = [['2019-04-02', 8.9], ['2019-10-15', 7.8], ['2020-05-20', 7.1], ['2021-03-09', 6.8], ['2022-06-14', 7.4], ['2023-09-05', 7.9], ['2025-02-18', 7.0]];
  const creatA = [['2019-04-02', 82], ['2020-05-20', 88], ['2021-03-09', 91], ['2022-06-14', 97], ['2023-09-05', 104], ['2025-02-18', 121]];
  for (const [d, v] of hba1cA) {
    b.encounter(d, 'AMB', '内分泌科门诊', '糖尿病复诊');
    b.lab(d, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '糖化血红蛋白', v, '%', 4.0, 6.0);
  }
  for (const [d, v] of creatA) b.lab(d, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', '肌酐', v, 'umol/L', 57, 111);
  b.lab('2025-02-18', '2345-7', 'Glucose [Mass/volume] in Serum or Plasma', '空腹血糖', 7.6, 'mmol/L', 3.9, 6.1);
  b.medication('2019-04-02', '二甲双胍片', '0.5 g 口服 每日三次');
  b.medication('2019-04-02', '氨氯地平片', '5 mg 口服 每日一次');
  b.allergy('2019-04-02', '青霉素', '皮疹、呼吸困难');
  b.procedure('2022-06-14', '眼底检查', '双眼');
  b.familyHistory('2019-04-02', 'FTH', '父亲', '2型糖尿病');
  b.goal('2025-02-18', '糖化血红蛋白低于7%', '2025-08-18');
  data['hosp-a'].push(...tidy(b.out));

  // Shared patient, second hospital: an admission in 2024 documented in CDA.
  b = new Builder(B, 'b2001');
  data['hosp-b'].push(patient(B, 'b2001', P.shared));
  b.encounter('2024-03-13', 'IMP', '内分泌科住院', '血糖控制不佳', 5);
  b.condition('2024-03-13', 'E11.65', '2型糖尿病伴高血糖');
  for (const [d, v] of [['2024-03-13', 8.1], ['2024-09-10', 7.3]]) {
    b.lab(d, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '糖化血红蛋白', v, '%', 4.0, 6.0);
  }
  b.lab('2024-03-13', '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', '肌酐', 118, 'umol/L', 57, 111);
  b.medication('2024-03-18', '门冬胰岛素注射液', '8 U 皮下注射 三餐前', false);
  b.immunization('2024-10-08', '流感疫苗（裂解疫苗）');
  b.document('2024-03-18', '出院小结（2024-03-18）', '出院小结', 'application/hl7-cda+xml', cdaDischarge(P.shared, B));
  // Text that looks like markup: a hospital system may send anything; the
  // portal must show it as text.
  b.condition('2024-03-13', 'R73.9', MARKUP_TEXT);
  data['hosp-b'].push(...tidy(b.out));

  // Shared patient, imaging centre.
  b = new Builder(C, 'c3001');
  data['hosp-c'].push(patient(C, 'c3001', P.shared));
  b.encounter('2023-09-12', 'AMB', '影像检查', '咳嗽两周');
  b.imaging('2023-09-12', '1.2.156.112605.14038013507.230912.1', 'CT', '胸部CT平扫', 3, 245, wadoBase);
  b.imaging('2025-02-20', '1.2.156.112605.14038013507.250220.4', 'MR', '头颅MRI平扫+DWI', 5, 180, wadoBase);
  b.document('2023-09-12', '检查申请单（PDF）', '检查申请单', 'application/pdf', tinyPdf('CT request 2023-09-12'));
  b.document('2023-09-12', '胸部CT诊断报告', '影像诊断报告', 'text/plain',
    '检查所见：双肺纹理增多，右肺下叶见小结节，直径约4 mm。纵隔未见肿大淋巴结。\n诊断意见：右肺下叶小结节，建议12个月后复查。');
  data['hosp-c'].push(...tidy(b.out));

  // Patient who opted out (consent denial → break-the-glass), two hospitals.
  b = new Builder(A, 'a1002');
  data['hosp-a'].push(patient(A, 'a1002', P.optout));
  b.encounter('2025-11-02', 'EMER', '急诊内科', '胸痛');
  b.condition('2025-11-02', 'I20.0', '不稳定型心绞痛');
  b.lab('2025-11-02', '10839-9', 'Troponin I.cardiac [Mass/volume] in Serum or Plasma', '肌钙蛋白I', 0.08, 'ng/mL', null, 0.04);
  b.allergy('2018-05-05', '碘造影剂', '荨麻疹');
  data['hosp-a'].push(...tidy(b.out));
  b = new Builder(B, 'b2002');
  data['hosp-b'].push(patient(B, 'b2002', P.optout));
  b.encounter('2022-02-10', 'AMB', '心内科门诊', '心悸');
  b.condition('2022-02-10', 'I48.9', '心房颤动');
  b.medication('2022-02-10', '华法林钠片', '3 mg 口服 每日一次');
  data['hosp-b'].push(...tidy(b.out));

  // Patient whose consent withholds one hospital (partial record).
  b = new Builder(A, 'a1003');
  data['hosp-a'].push(patient(A, 'a1003', P.partial));
  b.encounter('2024-06-01', 'AMB', '妇科门诊', '体检');
  b.lab('2024-06-01', '718-7', 'Hemoglobin [Mass/volume] in Blood', '血红蛋白', 108, 'g/L', 115, 150);
  data['hosp-a'].push(...tidy(b.out));
  b = new Builder(B, 'b2003');
  data['hosp-b'].push(patient(B, 'b2003', P.partial));
  b.encounter('2023-03-03', 'AMB', '心理科门诊', '睡眠障碍');
  b.condition('2023-03-03', 'F51.0', '非器质性失眠症');
  data['hosp-b'].push(...tidy(b.out));

  // Two records that may be one woman: no resident id, the birth date's
  // month and day swapped.  The index will not decide alone; an
  // administrator settles it on the patient index page.
  data['hosp-a'].push(lookalike(A, 'a1005', '1975-06-07', '13700000000'));
  data['hosp-b'].push(lookalike(B, 'b2005', '1975-07-06', null));

  // A patient seen at one hospital only.
  b = new Builder(C, 'c3002');
  data['hosp-c'].push(patient(C, 'c3002', P.single));
  b.imaging('2025-06-30', '1.2.156.112605.14038013507.250630.2', 'DX', '腰椎正侧位片', 1, 2, wadoBase);
  data['hosp-c'].push(...tidy(b.out));

  return data;
}

// Write one Bundle (type collection) per member; returns {memberId: file}.
export function writeData(dir, wadoBase) {
  const data = buildData(wadoBase);
  const files = {};
  fs.mkdirSync(dir, { recursive: true });
  for (const [id, resources] of Object.entries(data)) {
    const file = path.join(dir, `${id}.json`);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: resources.map((r) => ({ resource: r })) };
    fs.writeFileSync(file, JSON.stringify(bundle, null, 1));
    files[id] = file;
  }
  return files;
}
