// app.js — a SMART on FHIR app as third parties write them: SMART's own
// client library (npm `fhirclient`, loaded as fhir-client.js) does the whole
// App Launch; the app then reads data with client.request() and plain fetch.
// It writes what it saw into window.__smart for smart_app.test.mjs to check;
// the checks themselves live in the test, not here.
/* global FHIR */
(function () {
  'use strict';

  const APP_KEY = 'smart-test-app';

  function params() {
    return new URLSearchParams(window.location.search);
  }

  // launch.html?iss=…&client_id=…&scope=…[&launch=…][&search=…]
  // Standalone launch when there is no `launch` (SMART App Launch 2.x
  // "Standalone Launch"), EHR launch otherwise.
  function launch() {
    const p = params();
    sessionStorage.setItem(APP_KEY, JSON.stringify({ search: p.get('search') || '' }));
    const opts = {
      iss: p.get('iss'),
      clientId: p.get('client_id'),
      scope: p.get('scope'),
      redirectUri: 'app.html',
      pkceMode: 'required', // fail rather than fall back to no PKCE
    };
    if (p.get('launch')) opts.launch = p.get('launch');
    FHIR.oauth2.authorize(opts).catch((e) => {
      window.__smart = { error: `authorize: ${e.message}` };
    });
  }

  function bundleCount(b) {
    return b && b.entry ? b.entry.length : 0;
  }

  // What the gateway answers, reduced to what the test checks.
  async function fetchJson(url, token) {
    const headers = { Accept: 'application/fhir+json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { headers });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (_) {
      json = null;
    }
    return { status: res.status, type: res.headers.get('content-type'), json };
  }

  // Follow `next` links by hand, as a client without fhirclient's pageLimit
  // does (R4 http.html#paging: the links are opaque).
  async function pageByHand(url, token, limit) {
    const pages = [];
    let next = url;
    while (next && pages.length < limit) {
      const r = await fetchJson(next, token);
      if (r.status !== 200) return { status: r.status, pages };
      pages.push(bundleCount(r.json));
      const link = (r.json.link || []).find((l) => l.relation === 'next');
      next = link ? link.url : null;
    }
    return { status: 200, pages, more: next !== null };
  }

  async function run() {
    const out = { steps: [] };
    const step = (name, value) => {
      out.steps.push(name);
      out[name] = value;
    };
    try {
      const app = JSON.parse(sessionStorage.getItem(APP_KEY) || '{}');
      const client = await FHIR.oauth2.ready();
      const tr = client.state.tokenResponse;
      step('token', {
        scope: tr.scope, type: tr.token_type, expiresIn: tr.expires_in, patient: client.patient.id,
        hasRefresh: Boolean(tr.refresh_token),
        fhirUser: client.getFhirUser(), idToken: tr.id_token,
      });
      const base = client.state.serverUrl;

      // The patient in context, or the one the clinician searches for.
      let pid = client.patient.id;
      if (!pid && app.search) {
        const b = await client.request(`Patient?${app.search}`);
        step('patientSearch', { total: bundleCount(b) });
        pid = b.entry && b.entry[0] && b.entry[0].resource.id;
      }
      const patient = await client.request(`Patient/${pid}`);
      step('patient', { type: patient.resourceType, id: patient.id });
      // The signed-in user's own resource, through the id_token's fhirUser
      if (client.user.fhirUser) {
        const me = await client.user.read();
        step('user', { type: me.resourceType, id: me.id });
        if (me.resourceType === 'Practitioner') {
          step('practitioner', {
            active: me.active, name: me.name && me.name[0] && me.name[0].text,
            identifier: me.identifier && me.identifier[0] && `${me.identifier[0].system}|${me.identifier[0].value}`,
          });
        }
      }

      // Federated search, every page: fhirclient follows the `next` links.
      const obs = await client.request(`Observation?patient=${pid}&_count=5`, { pageLimit: 0, flat: true });
      step('observations', { count: obs.length, types: [...new Set(obs.map((o) => o.resourceType))] });

      // The same by hand with plain fetch, page by page.
      step('paging', await pageByHand(`${base}/Observation?patient=${pid}&_count=5`, client.state.tokenResponse.access_token, 20));

      // metadata, full and terse (no token: R4 says metadata is open).
      const full = await fetchJson(`${base}/metadata`);
      const terse = await fetchJson(`${base}/metadata?mode=terse`);
      const sec = (cs) => (cs.json && cs.json.rest && cs.json.rest[0] && cs.json.rest[0].security) || null;
      step('metadata', {
        status: full.status, type: full.json && full.json.resourceType, fhirVersion: full.json && full.json.fhirVersion,
        hasText: Boolean(full.json && full.json.text), security: Boolean(sec(full)),
        searchParams: Boolean(full.json && full.json.rest[0].resource.some((r) => r.searchParam)),
      });
      step('terse', {
        status: terse.status, type: terse.json && terse.json.resourceType, fhirVersion: terse.json && terse.json.fhirVersion,
        hasText: Boolean(terse.json && terse.json.text), security: Boolean(sec(terse)),
        tag: terse.json && terse.json.meta && terse.json.meta.tag && terse.json.meta.tag.map((t) => t.code),
        searchParams: Boolean(terse.json && terse.json.rest && terse.json.rest[0].resource.some((r) => r.searchParam)),
        types: terse.json && terse.json.rest && terse.json.rest[0].resource.map((r) => r.type).length,
      });

      // An error as the library reports it: the OperationOutcome reaches
      // the app (status and a readable body, CORS letting it through).
      try {
        await client.request('Observation/no-such-observation-id');
        step('notFound', { status: 200 });
      } catch (e) {
        step('notFound', { status: e.status, outcome: /OperationOutcome/.test(e.message) });
      }
      const bad = await fetchJson(`${base}/Observation?patient=${pid}&_count=not-a-number`, client.state.tokenResponse.access_token);
      step('badRequest', {
        status: bad.status, type: bad.type, resourceType: bad.json && bad.json.resourceType,
        issue: bad.json && bad.json.issue && bad.json.issue[0] && bad.json.issue[0].severity,
      });

      // Refresh (SMART App Launch 2.x "Refresh access token"), then use the
      // new token.
      const before = client.state.tokenResponse.access_token;
      await client.refresh();
      const after = client.state.tokenResponse;
      const again = await client.request(`Patient/${pid}`);
      step('refresh', {
        changed: after.access_token !== before, scope: after.scope, patient: after.patient,
        hasRefresh: Boolean(after.refresh_token), readAfter: again.id === pid,
      });
      // An expired session: the library refreshes before the request by
      // itself (its expiresAt comes from expires_in).
      const stale = client.state.tokenResponse.access_token;
      client.state.expiresAt = Math.floor(Date.now() / 1000) - 10;
      const auto = await client.request(`Patient/${pid}`);
      step('autoRefresh', { readAfter: auto.id === pid, refreshed: client.state.tokenResponse.access_token !== stale });

      // A token the gateway refuses: a 401 the page can read, body and all
      // (CORS headers on errors too).  The library then ends the session,
      // so this comes last.
      client.state.tokenResponse.access_token = 'not-a-token';
      try {
        await client.request(`Patient/${pid}`);
        step('refused', { status: 200 });
      } catch (e) {
        step('refused', { status: e.status, outcome: /OperationOutcome/.test(e.message) });
      }
      out.done = true;
    } catch (e) {
      out.error = `${e.name}: ${e.message}`;
    }
    document.getElementById('out').textContent = JSON.stringify(out, null, 1);
    window.__smart = out;
  }

  window.smartTestApp = { launch, run };
}());
