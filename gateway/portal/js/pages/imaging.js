// pages/imaging.js — imaging studies: modality, date, series and instance
// counts, and a link to the study on the hospital's WADO-RS endpoint.

import { h, replace, table } from '../dom.js';
import { t, fmtDateTime } from '../i18n.js';
import { ccText } from '../fhir.js';
import { memberBadge } from './common.js';

// The study's DICOM Study Instance UID (identifier urn:dicom:uid, value
// "urn:oid:1.2…", DICOM PS3.18 / FHIR ImagingStudy.identifier).
function studyUid(r) {
  const id = (r.identifier || []).find((i) => i.system === 'urn:dicom:uid');
  return id && id.value ? id.value.replace(/^urn:oid:/, '') : null;
}

// The WADO-RS endpoint: ImagingStudy.endpoint, contained ("#wado") or a
// reference carrying the address; only http(s) addresses are linked.
function endpointAddress(r) {
  for (const ref of r.endpoint || []) {
    const rv = ref.reference || '';
    if (rv.startsWith('#')) {
      const ep = (r.contained || []).find((c) => c.resourceType === 'Endpoint' && `#${c.id}` === rv);
      if (ep && ep.address) return ep.address;
    }
  }
  for (const s of r.series || []) {
    for (const ref of s.endpoint || []) {
      const rv = ref.reference || '';
      if (rv.startsWith('#')) {
        const ep = (r.contained || []).find((c) => c.resourceType === 'Endpoint' && `#${c.id}` === rv);
        if (ep && ep.address) return ep.address;
      }
    }
  }
  return null;
}

export function wadoUrl(r) {
  const base = endpointAddress(r);
  if (!base || !/^https?:\/\//i.test(base)) return null;
  const uid = studyUid(r);
  const root = base.replace(/\/+$/, '');
  return uid ? `${root}/studies/${encodeURIComponent(uid)}` : root;
}

export function wadoLink(r) {
  const url = wadoUrl(r);
  if (!url) return h('span', { class: 'muted small' }, t('imaging.noEndpoint'));
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'wado' }, t('imaging.open'));
}

function modalities(r) {
  const m = new Set((r.modality || []).map((x) => x.code));
  for (const s of r.series || []) if (s.modality && s.modality.code) m.add(s.modality.code);
  return [...m].join(', ');
}

export function renderImaging(panel, rec) {
  const studies = rec.entries.filter((e) => e.resource.resourceType === 'ImagingStudy');
  if (!studies.length) {
    replace(panel, h('p', { class: 'muted' }, t('imaging.none')));
    return;
  }
  replace(panel, table(t('imaging.caption'), [
    { label: t('imaging.date'), cell: (e) => fmtDateTime(e.resource.started) },
    { label: t('imaging.modality'), cell: (e) => modalities(e.resource) },
    { label: t('imaging.description'), cell: (e) => e.resource.description || ccText(e.resource.procedureCode) || '' },
    { label: t('imaging.series'), class: 'num', cell: (e) => String(e.resource.numberOfSeries ?? (e.resource.series || []).length) },
    { label: t('imaging.instances'), class: 'num', cell: (e) => String(e.resource.numberOfInstances ?? '') },
    { label: t('ident.hospital'), cell: (e) => memberBadge(e.member) },
    { label: t('imaging.endpoint'), cell: (e) => wadoLink(e.resource) },
  ], studies));
}
