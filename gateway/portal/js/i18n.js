// i18n.js — Chinese and English: message lookup, and dates and names the way
// a Chinese clinician reads them.
//
// All user-visible strings live in messages.js (one table per language).  The
// default language follows the browser (navigator.languages); a choice made
// with the switch is remembered in localStorage (a preference, never data).

import { MESSAGES } from './messages.js';

const PREF_KEY = 'fhirgate.lang';
let lang = initialLanguage();
const listeners = new Set();

function initialLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(PREF_KEY);
  } catch (_) {
    saved = null;
  }
  if (saved === 'zh' || saved === 'en') return saved;
  const nav = typeof navigator === 'undefined' ? {} : navigator; // unit tests run without a browser
  const langs = nav.languages && nav.languages.length ? nav.languages : [nav.language || 'en'];
  for (const l of langs) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base === 'zh') return 'zh';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  if (l !== 'zh' && l !== 'en') return;
  lang = l;
  try {
    localStorage.setItem(PREF_KEY, l);
  } catch (_) {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// t('search.found', {n: 3}) — "{n}" placeholders are replaced by text, never
// markup.  A missing key shows itself, so gaps are visible in screenshots.
export function t(key, params) {
  let s = MESSAGES[lang][key];
  if (s === undefined) s = MESSAGES.en[key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return s;
}

// t() for a key built from a code the server sent (a status, a purpose…):
// the code itself when there is no translation.
export function tOr(key, fallback) {
  return has(key) ? t(key) : String(fallback ?? '');
}

// Is there a translation for this key (for optional labels of codes)?
export function has(key) {
  return key in MESSAGES[lang] || key in MESSAGES.en;
}

// ------------------------------------------------------------ dates --
// Clinicians in China write dates as YYYY-MM-DD and times on a 24-hour clock
// (GB/T 7408); the same form is unambiguous in English, so both languages
// use it.  FHIR partial dates (YYYY, YYYY-MM) are shown as given.

const pad = (n) => String(n).padStart(2, '0');

// A FHIR date or dateTime → "YYYY-MM-DD" (local date for instants).
export function fmtDate(v) {
  if (!v) return '';
  const s = String(v);
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(s)) return s;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s.slice(0, 10);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// A FHIR dateTime/instant → "YYYY-MM-DD HH:mm" (local time when it has one).
export function fmtDateTime(v) {
  if (!v) return '';
  const s = String(v);
  if (!s.includes('T')) return fmtDate(s);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return `${fmtDate(s)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// Today as YYYY-MM-DD (local), optionally shifted by whole days.
export function isoDay(offsetDays = 0) {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// Age in whole years on `at` (default today) from a FHIR birthDate.
export function age(birthDate, at = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate || '');
  if (!m) return null;
  let years = at.getFullYear() - Number(m[1]);
  const md = (at.getMonth() + 1) * 100 + at.getDate();
  if (md < Number(m[2]) * 100 + Number(m[3])) years -= 1;
  return years;
}

// Numbers with the page language's separators (values keep their decimals).
export function fmtNumber(n) {
  if (typeof n !== 'number') return String(n ?? '');
  return n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', { maximumFractionDigits: 6 });
}
