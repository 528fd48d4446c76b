// pages/documents.js — clinical documents read in the page.
//
// A CDA R2 document (attachment application/hl7-cda+xml, base64 in the
// DocumentReference as the adapters store it) is parsed with DOMParser and
// rendered as text: header facts, then each section's title and narrative
// (CDA R2 §4.3.5: paragraphs, lists, tables, line breaks).  Only text is
// copied out of the XML; no element, attribute, style or link of the
// document reaches the page.  Plain text is shown as is, images inline (as
// data: URLs, which the CSP allows), anything else (PDF…) opened in a new
// tab from a Blob.

import { h, replace, table } from '../dom.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { docTypeText } from '../fhir.js';
import { memberBadge, modal } from './common.js';

const CDA_NS = 'urn:hl7-org:v3';
const MAX_SECTION_DEPTH = 8;
const MAX_NODES = 20000; // narrative nodes rendered per document

function decodeBase64(b64) {
  const bin = atob(String(b64).replace(/\s+/g, ''));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function attachmentsOf(r) {
  return (r.content || []).map((c) => c.attachment).filter(Boolean);
}

function isCda(a) {
  return /hl7-cda\+xml|^text\/xml|^application\/xml/i.test(a.contentType || '');
}

export function renderDocuments(panel, rec) {
  const docs = rec.entries.filter((e) => e.resource.resourceType === 'DocumentReference');
  if (!docs.length) {
    replace(panel, h('p', { class: 'muted' }, t('documents.none')));
    return;
  }
  replace(panel, table(t('documents.caption'), [
    { label: t('documents.date'), cell: (e) => fmtDate(e.date) },
    { label: t('documents.title'), cell: (e) => e.resource.description || attachmentsOf(e.resource).map((a) => a.title).find(Boolean) || docTypeText(e.resource.type) },
    { label: t('documents.type'), cell: (e) => docTypeText(e.resource.type) },
    { label: t('ident.hospital'), cell: (e) => memberBadge(e.member) },
    { label: t('common.action'), cell: (e) => h('button', { type: 'button', class: 'secondary small', onclick: (ev) => openDocument(e.resource, e.member, ev.currentTarget) }, t('documents.read')) },
  ], docs));
}

// Open a DocumentReference in a dialog.
export function openDocument(r, member) {
  const title = r.description || attachmentsOf(r).map((a) => a.title).find(Boolean) || docTypeText(r.type) || t('kind.document');
  return modal(title, (close) => h('div', { class: 'doc-view' },
    h('p', { class: 'doc-meta' }, memberBadge(member), ' ', fmtDateTime(r.date), ' ', docTypeText(r.type)),
    h('div', { class: 'doc-body' }, attachmentsOf(r).map(renderAttachment)),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => close(null) }, t('common.close')))), 'button.primary');
}

function renderAttachment(a) {
  const type = (a.contentType || '').toLowerCase();
  if (a.data) {
    let bytes;
    try {
      bytes = decodeBase64(a.data);
    } catch (_) {
      return h('p', { class: 'error' }, t('documents.bad'));
    }
    if (isCda(a)) return renderCda(new TextDecoder('utf-8').decode(bytes));
    if (type.startsWith('text/plain')) return h('pre', { class: 'doc-text' }, new TextDecoder('utf-8').decode(bytes));
    if (/^image\/(png|jpeg|gif|webp)$/.test(type)) {
      return h('img', { src: `data:${type};base64,${String(a.data).replace(/\s+/g, '')}`, alt: a.title || t('documents.image'), class: 'doc-image' });
    }
    return h('p', null, h('button', {
      type: 'button', class: 'secondary',
      onclick: () => {
        const url = URL.createObjectURL(new Blob([bytes], { type: type || 'application/octet-stream' }));
        window.open(url, '_blank', 'noopener');
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      },
    }, t('documents.openAttachment', { type: type || '?', title: a.title || '' })));
  }
  if (a.url) {
    let same = false;
    try {
      same = new URL(a.url, location.origin).origin === location.origin;
    } catch (_) {
      same = false;
    }
    return same
      ? h('p', null, h('a', { href: a.url, target: '_blank', rel: 'noopener noreferrer' }, t('documents.openAttachment', { type, title: a.title || '' })))
      : h('p', { class: 'muted' }, t('documents.atHospital'));
  }
  return h('p', { class: 'muted' }, t('documents.empty'));
}

// ---------------------------------------------------------------- CDA --

function kids(el, name) {
  return [...el.children].filter((c) => c.localName === name && c.namespaceURI === CDA_NS);
}

function kid(el, name) {
  return kids(el, name)[0] || null;
}

// CDA TS "YYYYMMDDHHMMSS+ZZZZ" → YYYY-MM-DD HH:mm
function cdaTime(el) {
  const v = el && el.getAttribute('value');
  const m = v && /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?/.exec(v);
  if (!m) return '';
  return [m[1], m[2], m[3]].filter(Boolean).join('-') + (m[4] ? ` ${m[4]}:${m[5] || '00'}` : '');
}

function cdaName(el) {
  if (!el) return '';
  const name = el.getElementsByTagNameNS(CDA_NS, 'name')[0];
  if (!name) return '';
  const fam = [...name.getElementsByTagNameNS(CDA_NS, 'family')].map((x) => x.textContent.trim()).join('');
  const giv = [...name.getElementsByTagNameNS(CDA_NS, 'given')].map((x) => x.textContent.trim()).join('');
  return (fam + giv) || name.textContent.trim();
}

export function renderCda(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const root = doc.documentElement;
  if (!root || root.getElementsByTagName('parsererror').length || root.localName !== 'ClinicalDocument') {
    return h('pre', { class: 'doc-text' }, xml);
  }
  const budget = { n: MAX_NODES };
  const title = kid(root, 'title');
  const author = kid(root, 'author');
  const custodian = root.getElementsByTagNameNS(CDA_NS, 'representedCustodianOrganization')[0];
  const facts = [
    [t('cda.date'), cdaTime(kid(root, 'effectiveTime'))],
    [t('cda.author'), author ? cdaName(kid(author, 'assignedAuthor')) : ''],
    [t('cda.custodian'), custodian ? (kid(custodian, 'name') || { textContent: '' }).textContent.trim() : ''],
  ].filter(([, v]) => v);
  const body = root.getElementsByTagNameNS(CDA_NS, 'structuredBody')[0];
  const out = h('article', { class: 'cda' },
    title ? h('h3', null, title.textContent.trim()) : null,
    facts.length ? h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : null);
  if (body) {
    for (const comp of kids(body, 'component')) {
      const sec = kid(comp, 'section');
      if (sec) out.append(section(sec, 1, budget));
    }
  } else {
    const nb = root.getElementsByTagNameNS(CDA_NS, 'nonXMLBody')[0];
    const text = nb ? kid(nb, 'text') : null;
    if (text && !text.getAttribute('representation')) out.append(h('pre', { class: 'doc-text' }, text.textContent));
    else out.append(h('p', { class: 'muted' }, t('documents.nonXml')));
  }
  return out;
}

function section(sec, depth, budget) {
  const title = kid(sec, 'title');
  const text = kid(sec, 'text');
  const el = h('section', { class: 'cda-section' },
    title ? h(depth === 1 ? 'h4' : 'h5', null, title.textContent.trim()) : null,
    text ? narrative(text, budget) : null);
  if (depth < MAX_SECTION_DEPTH) {
    for (const comp of kids(sec, 'component')) {
      const sub = kid(comp, 'section');
      if (sub) el.append(section(sub, depth + 1, budget));
    }
  }
  return el;
}

// CDA narrative block → our own elements, text only.
const BLOCK_MAP = { paragraph: 'p', list: 'ul', item: 'li', table: 'table', thead: 'thead', tbody: 'tbody', tfoot: 'tfoot', tr: 'tr', th: 'th', td: 'td', caption: 'caption' };

function narrative(node, budget) {
  const out = h('div', { class: 'narrative' });
  copy(node, out, budget);
  return out;
}

function copy(src, dst, budget) {
  for (const n of src.childNodes) {
    if (--budget.n < 0) return;
    if (n.nodeType === Node.TEXT_NODE) {
      dst.append(n.nodeValue);
    } else if (n.nodeType === Node.ELEMENT_NODE) {
      const name = n.localName;
      if (name === 'br') {
        dst.append(h('br'));
      } else if (name === 'list' && n.getAttribute('listType') === 'ordered') {
        const ol = h('ol');
        copy(n, ol, budget);
        dst.append(ol);
      } else if (BLOCK_MAP[name]) {
        const el = h(BLOCK_MAP[name], name === 'table' ? { class: 'grid compact' } : null);
        copy(n, el, budget);
        dst.append(el);
      } else if (name === 'renderMultiMedia' || name === 'footnoteRef') {
        /* references to content outside the narrative: nothing to show */
      } else {
        copy(n, dst, budget); // content, sub, sup, linkHtml…: their text
      }
    }
  }
}
