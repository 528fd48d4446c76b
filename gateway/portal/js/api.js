// api.js — the gateway's HTTP API (docs/design/gateway-api.md), nothing else.
//
// The access token is kept in a module variable and mirrored to
// sessionStorage so that reloading the tab keeps the session for the
// token's short life (15 minutes); sessionStorage belongs to this tab only
// and is cleared when the tab closes.  It is never written to localStorage
// or a cookie.  Every request goes to this origin; a `next` link pointing
// anywhere else is refused, so the token never leaves the gateway.

const TOKEN_KEY = 'fhirgate.session';
const PAGE_LIMIT = 40; // pages followed for one search (a record of ~8000 entries at _count=200)

let session = loadSession();
const expiredListeners = new Set();

export class ApiError extends Error {
  // status: HTTP status (0 for a network failure); outcome: the
  // OperationOutcome body when there was one; oauth: an OAuth2 error body.
  constructor(status, message, outcome, oauth) {
    super(message);
    this.status = status;
    this.outcome = outcome || null;
    this.oauth = oauth || null;
  }

  // The first issue of the OperationOutcome, if any.
  get issue() {
    return this.outcome && Array.isArray(this.outcome.issue) ? this.outcome.issue[0] || null : null;
  }

  // 403 because the patient's consent withholds sharing (break-the-glass may help).
  get isConsentDenial() {
    const i = this.issue;
    if (this.status !== 403 || !i) return false;
    if (i.code === 'security' && /consent/i.test(i.diagnostics || '')) return true;
    return /consent/i.test(i.diagnostics || '') && i.code !== 'forbidden';
  }
}

function loadSession() {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (!s || typeof s.token !== 'string' || !(s.expiresAt > Date.now())) return null;
    return s;
  } catch (_) {
    return null;
  }
}

function saveSession() {
  try {
    if (session) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    /* storage disabled: the session lives in memory only */
  }
}

export function currentSession() {
  if (session && session.expiresAt <= Date.now()) {
    signOut();
  }
  return session;
}

export function onSessionExpired(fn) {
  expiredListeners.add(fn);
}

export function signOut() {
  session = null;
  saveSession();
}

// POST /auth/token with the password grant, then GET /me.
export async function signIn(username, password) {
  const form = new URLSearchParams();
  form.set('grant_type', 'password');
  form.set('username', username);
  form.set('password', password);
  form.set('client_id', 'portal');
  let res;
  try {
    res = await fetch('/auth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network');
  }
  const body = await readJson(res);
  if (!res.ok || !body || typeof body.access_token !== 'string') {
    const err = new ApiError(res.status, (body && body.error) || 'sign-in failed', null, body);
    err.retryAfter = res.headers.get('Retry-After');
    throw err;
  }
  const lifetime = Number(body.expires_in) > 0 ? Number(body.expires_in) : 900;
  session = {
    token: body.access_token,
    expiresAt: Date.now() + lifetime * 1000,
    patient: body.patient || null,
    me: null,
  };
  try {
    session.me = await getJson('/me');
  } catch (e) {
    session = null;
    throw e;
  }
  saveSession();
  return session;
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (_) {
    return null;
  }
}

// Header values must be bytes; a Chinese break-the-glass reason is sent as
// its UTF-8 bytes (RFC 9110 §5.5 allows obs-text octets in field values).
function headerBytes(s) {
  return String.fromCharCode(...new TextEncoder().encode(s));
}

// Same-origin path of a URL the gateway gave us (a Bundle `next` link).
function sameOriginPath(url) {
  const u = new URL(url, location.origin);
  if (u.origin !== location.origin) throw new ApiError(0, 'refused a link to another origin');
  return u.pathname + u.search;
}

// One request.  opts: {method, body (object → JSON), headers, purpose:
// {code, reason}, raw: return the Response without reading it}.
export async function request(path, opts = {}) {
  const s = currentSession();
  if (!s) {
    for (const fn of expiredListeners) fn();
    throw new ApiError(401, 'not signed in');
  }
  const headers = { Accept: opts.accept || 'application/fhir+json, application/json', ...opts.headers };
  headers.Authorization = `Bearer ${s.token}`;
  if (opts.purpose && opts.purpose.code) {
    headers['X-Purpose-Of-Use'] = opts.purpose.code;
    if (opts.purpose.reason) headers['X-Break-Glass-Reason'] = headerBytes(opts.purpose.reason);
  }
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType || 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(path, {
      method: opts.method || 'GET', headers, body, credentials: 'omit', cache: 'no-store', signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network');
  }
  if (res.status === 401) {
    signOut();
    for (const fn of expiredListeners) fn();
    throw new ApiError(401, 'session expired', await readJson(res));
  }
  if (opts.raw) {
    if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`, await readJson(res));
    return res;
  }
  const json = await readJson(res);
  if (!res.ok) {
    const issue = json && Array.isArray(json.issue) ? json.issue[0] : null;
    throw new ApiError(res.status, (issue && issue.diagnostics) || `HTTP ${res.status}`, json);
  }
  return { json, headers: res.headers, status: res.status };
}

export async function getJson(path, opts) {
  return (await request(path, opts)).json;
}

export async function postJson(path, body, opts = {}) {
  return (await request(path, { ...opts, method: 'POST', body })).json;
}

// Build "path?k=v&k=v" from an object or [k, v] pairs (values encoded).
export function withQuery(path, params) {
  const q = new URLSearchParams();
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// A FHIR search, following `next` links.  Returns {entries, outcomes,
// headers: {asked, answered}, btg} where entries are the match/include
// entries and outcomes the OperationOutcome resources of outcome entries.
export async function searchAll(path, opts = {}) {
  const entries = [];
  const outcomes = [];
  let url = path;
  let asked = null;
  let answered = null;
  let btg = false;
  for (let page = 0; url && page < PAGE_LIMIT; page++) {
    const { json, headers } = await request(url, opts);
    if (page === 0) {
      asked = intHeader(headers, 'X-Members-Asked');
      answered = intHeader(headers, 'X-Members-Answered');
    }
    btg = btg || headers.get('X-Break-Glass') === 'true';
    for (const e of (json && json.entry) || []) {
      const mode = e.search && e.search.mode;
      if (e.resource && e.resource.resourceType === 'OperationOutcome' && (mode === 'outcome' || !mode)) {
        outcomes.push(e.resource);
      } else if (e.resource) {
        entries.push(e);
      }
    }
    const next = ((json && json.link) || []).find((l) => l.relation === 'next');
    url = next ? sameOriginPath(next.url) : null;
    if (opts.onPage) opts.onPage(entries.length);
  }
  return { entries, outcomes, asked, answered, btg, truncated: Boolean(url) };
}

function intHeader(headers, name) {
  const v = headers.get(name);
  return v === null ? null : Number(v);
}
