// app.js — the portal's shell: header, language switch, navigation by role
// and a small hash router.  Routes carry no patient data (#/patient, never
// #/patient/ID): the selected patient lives in memory (state.js), so it is
// not in the history, the address bar or a bookmark.

import { h, append, replace, $ } from './dom.js';
import { t, getLang, setLang, onLangChange } from './i18n.js';
import { currentSession, signOut, onSessionExpired } from './api.js';
import { state, resetState } from './state.js';
import * as login from './pages/login.js';
import * as search from './pages/search.js';
import * as patient from './pages/patient.js';
import * as audit from './pages/audit.js';
import * as admin from './pages/admin.js';
import * as me from './pages/me.js';

// route → {page, roles allowed, nav label key}
const ROUTES = {
  login: { page: login, roles: null },
  search: { page: search, roles: ['clinician'], nav: 'nav.search' },
  patient: { page: patient, roles: ['clinician'], nav: 'nav.patient' },
  audit: { page: audit, roles: ['regulator'], nav: 'nav.audit' },
  admin: { page: admin, roles: ['admin'], nav: 'nav.admin' },
  me: { page: me, roles: ['patient'], nav: 'nav.me' },
};

const HOME = { clinician: 'search', regulator: 'audit', admin: 'admin', patient: 'me' };

let current = null; // {name, cleanup}

function routeName() {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  return m && ROUTES[m[1]] ? m[1] : null;
}

export function go(name) {
  if (location.hash === `#/${name}`) {
    render();
  } else {
    location.hash = `#/${name}`;
  }
}

function roleOf(s) {
  return s && s.me ? s.me.role : null;
}

function render() {
  const s = currentSession();
  let name = routeName();
  if (!s) {
    name = 'login';
  } else if (!name || name === 'login' || !ROUTES[name].roles.includes(roleOf(s))) {
    name = HOME[roleOf(s)] || 'login';
  }
  if (name === 'patient' && !state.patient) name = 'search';
  if (location.hash !== `#/${name}`) {
    history.replaceState(null, '', `#/${name}`);
  }
  if (current && current.cleanup) current.cleanup();
  const main = $('#main');
  replace(main);
  document.title = `${t(`title.${name}`)} · fhirgate`;
  renderHeader(name);
  const cleanup = ROUTES[name].page.render(main, { go, session: s });
  current = { name, cleanup: typeof cleanup === 'function' ? cleanup : null };
  // Move focus to the new content so keyboard and screen-reader users start there.
  if (!main.contains(document.activeElement) || document.activeElement === document.body) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }
}

function renderHeader(active) {
  const s = currentSession();
  const nav = $('#nav');
  replace(nav);
  nav.setAttribute('aria-label', t('nav.label'));
  if (s) {
    const items = Object.entries(ROUTES)
      .filter(([name, r]) => r.nav && r.roles.includes(roleOf(s)) && (name !== 'patient' || state.patient))
      .map(([name, r]) => h('a', {
        href: `#/${name}`,
        class: name === active ? 'active' : null,
        'aria-current': name === active ? 'page' : null,
      }, t(r.nav)));
    nav.append(...items);
  }
  const who = $('#who');
  replace(who);
  if (s && s.me) {
    const m = s.me;
    append(who, [h('span', { class: 'who-name' }, m.name || m.subject),
      h('span', { class: 'who-role' }, t(`role.${m.role}`)),
      m.organization_name ? h('span', { class: 'who-org' }, m.organization_name) : null]);
  }
  $('#sign-out').hidden = !s;
  $('#sign-out').textContent = t('nav.signOut');
  $('#skip-link').textContent = t('nav.skip');
  $('#lang-group').setAttribute('aria-label', t('nav.language'));
  for (const l of ['zh', 'en']) {
    $(`#lang-${l}`).setAttribute('aria-pressed', String(getLang() === l));
  }
}

function init() {
  document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
  $('#lang-zh').addEventListener('click', () => setLang('zh'));
  $('#lang-en').addEventListener('click', () => setLang('en'));
  $('#sign-out').addEventListener('click', () => {
    signOut();
    resetState();
    go('login');
  });
  onLangChange(() => render());
  onSessionExpired(() => {
    resetState();
    state.flash = 'login.expired';
    if (routeName() !== 'login') go('login');
  });
  window.addEventListener('hashchange', render);
  render();
}

init();
