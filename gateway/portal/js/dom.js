// dom.js — building the page without innerHTML.
//
// Everything the portal shows comes from the network (patient data, audit
// rows, hospital names), so nothing is ever parsed as HTML: elements are
// created one by one and text goes in through text nodes.  The CSP forbids
// inline style attributes too, so there is no `style` option here: looks come
// from classes in css/portal.css.

// h('button', {class: 'primary', type: 'button', onclick: fn}, 'Save', child)
// Attributes: `class`, `for`, data-*, aria-*, any plain attribute; `on*`
// functions become event listeners; `hidden`/`disabled`/`checked`/`selected`
// booleans become properties; `value` is set as a property.  Children are
// strings (text), numbers, nodes, arrays of those, or null/undefined/false
// (skipped).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'hidden' || k === 'disabled' || k === 'checked' ||
                 k === 'selected' || k === 'required' || k === 'multiple' ||
                 k === 'readOnly') {
        el[k] = Boolean(v);
      } else if (k === 'value') {
        el.value = String(v);
      } else if (k === 'style') {
        throw new Error('dom.h: inline styles are blocked by the CSP; use a class');
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
  return el;
}

// Replace all children of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

let idSeq = 0;
// A unique id for label/aria wiring.
export function uid(prefix = 'id') {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

// A labelled form field: <div class="field"><label for=…>…</label>control</div>
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('f');
  let hintEl = null;
  if (hint) {
    hintEl = h('span', { class: 'hint', id: uid('hint') }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control, hintEl);
}

// A table from column definitions: [{label, cell(row) -> node|string, class?}].
export function table(caption, columns, rows, opts = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)));
  const body = rows.map((r) => h('tr', { class: opts.rowClass ? opts.rowClass(r) : null },
    columns.map((c) => h('td', { class: c.class }, c.cell(r)))));
  return h('table', { class: opts.class || 'grid' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, head), h('tbody', null, body));
}

// Trigger a download of `blob` named `filename` (no navigation, no URL with data).
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
