// pages/btg.js — the break-the-glass dialog (gateway-api.md §3).
//
// Shown when the patient's consent withholds sharing.  The clinician must
// give a reason and is told plainly that the access is recorded and will be
// reviewed; the retry carries X-Purpose-Of-Use: ETREAT and the reason.

import { h, field } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { modal } from './common.js';

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/g;

// The gateway's rule (docs/ARCHITECTURE.md "Policy"): at least 8 characters,
// or 3 Chinese characters, which carry as much meaning; at most 500.
export function reasonOk(reason) {
  const r = reason.trim();
  if (r.length > 500) return false;
  if (r.length >= 8) return true;
  return (r.match(HAN) || []).length >= 3;
}

// Resolves to the reason, or null when the clinician cancels.  The
// gateway's own sentence (English) is shown only in the English page; the
// Chinese page says the same in its own words.
export function askBreakGlass(consentMessage) {
  return modal(t('btg.title'), (close) => {
    const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 500, required: true, class: 'wide' });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { class: 'btg', novalidate: true },
      h('p', null, t('btg.denied')),
      consentMessage && getLang() === 'en' ? h('p', { class: 'muted' }, consentMessage) : null,
      h('div', { class: 'banner warning', role: 'note' },
        h('strong', null, t('btg.warnTitle')),
        h('div', null, t('btg.warn'))),
      field(t('btg.reason'), reason, t('btg.reasonHint')),
      err,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, t('common.cancel')),
        h('button', { type: 'submit', class: 'danger' }, t('btg.confirm'))));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!reasonOk(reason.value)) {
        err.textContent = t('btg.reasonShort');
        err.hidden = false;
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      close(reason.value.trim());
    });
    return form;
  }, 'textarea');
}
