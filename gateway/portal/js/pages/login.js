// pages/login.js — sign in with the password grant (gateway-api.md §2).

import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { signIn } from '../api.js';
import { state } from '../state.js';

export function render(main, { go }) {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  let flash = null;
  if (state.flash) {
    flash = h('p', { class: 'notice', role: 'status' }, t(state.flash));
    state.flash = null;
  }

  const form = h('form', { class: 'card narrow', novalidate: true, 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, t('login.title')),
    h('p', { class: 'muted' }, t('login.intro')),
    flash,
    field(t('login.username'), user),
    field(t('login.password'), pass),
    msg,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.hidden = true;
    if (!user.value.trim() || !pass.value) {
      msg.textContent = t('login.missing');
      msg.hidden = false;
      (user.value.trim() ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      await signIn(user.value.trim(), pass.value);
      pass.value = '';
      go('home');
    } catch (e) {
      msg.textContent = loginError(e);
      msg.hidden = false;
      pass.value = '';
      pass.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });

  main.append(form);
  user.focus();
}

function loginError(e) {
  if (e.status === 0) return t('error.network');
  if (e.status === 429) return t('login.locked');
  if (e.status === 503) return t('error.unavailable');
  if (e.status === 400 || e.status === 401) return t('login.invalid');
  return t('error.generic', { status: e.status });
}
