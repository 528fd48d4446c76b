// smart_app.test.mjs — a third-party SMART on FHIR app against the real
// gateway.  The app (smart_app/) is served over HTTPS from its own loopback
// origin and uses SMART's official client library, npm `fhirclient` (version
// pinned in package.json), for the whole standalone launch: discovery
// through .well-known/smart-configuration, authorize with PKCE S256, sign-in
// on the gateway's page, code → token, client.request() of the patient's
// data (a federated search through the member hospitals, every page), and a
// refresh.  Chromium trusts the region's test CA through an NSS database in
// a private HOME, so every TLS connection is checked (no ignoreHTTPSErrors).
// Once as the patient (launch/patient) and once as a clinician.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startRegion, stopRegion, regionLogs, api, freePort, USERS, PASSWORD } from './region.mjs';
import { buildData, PEOPLE, RESIDENT_ID_SYSTEM } from './fixtures.mjs';

const require = createRequire(path.join(process.env.FHIRGATE_BROWSER_NPM || '.', 'package.json'));
const { chromium } = require('playwright-core');

const HERE = path.dirname(new URL(import.meta.url).pathname);
const SRC = path.resolve(HERE, '../..');
const BIN = process.env.FHIRGATE_BIN || path.join(SRC, 'bin');
const SHOTS = process.env.FHIRGATE_SCREENSHOTS || path.resolve('build/browser/screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const APP_ID = 'smart-test-app';
const APP_SCOPES = 'launch/patient patient/*.rs user/*.rs openid fhirUser offline_access';

let region;
let app; // { server, port, origin }
let home; // Chromium's HOME (NSS database trusting the test CA)
let browser;
let failed = false;

// The app's static files; fhir-client.js is the library's own browser build.
function appFiles() {
  const npm = process.env.FHIRGATE_BROWSER_NPM || '.';
  return {
    '/launch.html': [path.join(HERE, 'smart_app/launch.html'), 'text/html; charset=utf-8'],
    '/app.html': [path.join(HERE, 'smart_app/app.html'), 'text/html; charset=utf-8'],
    '/app.js': [path.join(HERE, 'smart_app/app.js'), 'text/javascript; charset=utf-8'],
    '/fhir-client.js': [path.join(npm, 'node_modules/fhirclient/build/fhir-client.js'), 'text/javascript; charset=utf-8'],
  };
}

function startApp(port, cert) {
  const files = appFiles();
  const server = https.createServer({ cert: fs.readFileSync(cert.crt), key: fs.readFileSync(cert.key) }, (req, res) => {
    const f = files[new URL(req.url, 'https://x').pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': f[1], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(f[0]));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, port, origin: `https://127.0.0.1:${port}` }));
  });
}

// A HOME whose NSS database trusts the region CA for TLS servers: how
// Chromium on Linux learns a private CA (certutil, Debian's libnss3-tools).
function trustingHome(caCrt) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhirgate-smart-home.'));
  const db = path.join(dir, '.pki/nssdb');
  fs.mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'fhirgate-test-ca', '-i', caCrt]);
  return dir;
}

// The shared person's Observations at every member, from the fixtures.
function expectedObservations() {
  const data = buildData('https://127.0.0.1:8042/dicom-web');
  let n = 0;
  for (const list of Object.values(data)) {
    const locals = new Set(list.filter((r) => r.resourceType === 'Patient' &&
      r.identifier.some((i) => i.value === PEOPLE.shared.residentId)).map((r) => `Patient/${r.id}`));
    n += list.filter((r) => r.resourceType === 'Observation' && r.subject && locals.has(r.subject.reference)).length;
  }
  return n;
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const appPort = freePort();
  region = await startRegion({ corsOrigins: [`https://127.0.0.1:${appPort}`] });
  app = await startApp(appPort, region.ca.server('smart-app'));
  execFileSync(path.join(BIN, 'fhirgate'), ['client', 'add-app', APP_ID, '--name', 'SMART test app',
    '--redirect-uri', `${app.origin}/app.html`, '--scope', APP_SCOPES, '--database', region.pg.url]);
  home = trustingHome(region.ca.caCrt);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS, env: { ...process.env, HOME: home },
  });
});

after(async () => {
  if (browser) await browser.close();
  if (app) await new Promise((resolve) => app.server.close(resolve));
  if (home) fs.rmSync(home, { recursive: true, force: true, maxRetries: 5 });
  if (failed && region) console.log(regionLogs(region));
  await stopRegion(region, failed);
});

// Launch the app as `user` and return what it saw (window.__smart).
async function launchAs(name, user, scope, extra = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  try {
    const q = new URLSearchParams({ iss: `${region.url}/fhir`, client_id: APP_ID, scope, ...extra });
    await page.goto(`${app.origin}/launch.html?${q}`);
    await page.waitForURL((u) => u.href.startsWith(`${region.url}/auth/authorize`) || u.origin === app.origin && u.pathname === '/app.html',
      { timeout: 20000 });
    const authorize = new URL(page.url());
    await page.screenshot({ path: path.join(SHOTS, `smart-${name}-sign-in.png`) });
    await page.locator('input[name=username]').fill(user);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[value=approve]').click();
    await page.waitForFunction(() => window.__smart !== undefined, null, { timeout: 60000 });
    const out = await page.evaluate(() => window.__smart);
    if (process.env.FHIRGATE_BROWSER_VERBOSE) console.log(`# ${name}: ${JSON.stringify(out)}`);
    await page.screenshot({ path: path.join(SHOTS, `smart-${name}-app.png`), fullPage: true });
    assert.equal(out.error, undefined, `the app failed after ${out.steps && out.steps.join(', ')}: ${out.error}`);
    assert.deepEqual(problems, []);
    return { out, authorize };
  } finally {
    await context.close();
  }
}

function step(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

// The id_token as an app that checks it does (OpenID Connect Core §3.1.3.7):
// signature by a key of the jwks_uri that discovery names, iss = issuer,
// aud = the app, unexpired.  fhirclient itself only decodes it.
async function verifyIdToken(idToken) {
  const conf = (await api(region, 'GET', '/fhir/.well-known/smart-configuration')).json;
  const jwksPath = new URL(conf.jwks_uri).pathname;
  const jwks = (await api(region, 'GET', jwksPath)).json;
  const [h, p, sig] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'the id_token names a key of the JWK Set');
  const hash = { ES256: 'sha256', ES384: 'sha384', RS256: 'sha256', RS384: 'sha384' }[header.alg];
  assert.ok(hash, `id_token alg ${header.alg}`);
  const ok = crypto.verify(hash, Buffer.from(`${h}.${p}`), { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }),
    dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
  assert.ok(ok, 'id_token signature');
  assert.equal(claims.iss, conf.issuer);
  assert.equal(claims.aud, APP_ID);
  assert.ok(claims.exp > Date.now() / 1000 && claims.iat <= Date.now() / 1000 + 60);
  assert.ok(claims.sub);
  return claims;
}

// What both users' runs must show.
async function checkCommon(out, authorize) {
  // the authorization request fhirclient built: PKCE S256, aud = the FHIR base
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('aud'), `${region.url}/fhir`);
  assert.equal(out.token.type, 'Bearer');
  assert.ok(out.token.expiresIn > 0);
  assert.ok(out.token.hasRefresh, 'offline_access gives a refresh token');
  assert.ok(out.token.idToken, 'openid gives an id_token');
  out.idClaims = await verifyIdToken(out.token.idToken);
  assert.equal(out.patient.type, 'Patient');
  const n = expectedObservations();
  assert.equal(out.observations.count, n, 'every Observation of the person, over all pages');
  assert.deepEqual(out.observations.types, ['Observation']);
  assert.ok(out.paging.pages.length > 1, 'more than one page at _count=5');
  assert.equal(out.paging.pages.reduce((a, b) => a + b, 0), n);
  assert.equal(out.paging.more, false);
  assert.deepEqual([out.metadata.status, out.metadata.type, out.metadata.fhirVersion], [200, 'CapabilityStatement', '4.0.1']);
  assert.ok(out.metadata.security && out.metadata.searchParams);
  // R4 http.html#capabilities: mode=terse drops text, and every
  // rest.resource's searchParam (and more), tagged SUBSETTED
  assert.deepEqual([out.terse.status, out.terse.type, out.terse.fhirVersion], [200, 'CapabilityStatement', '4.0.1']);
  assert.equal(out.terse.hasText, false);
  assert.equal(out.terse.searchParams, false);
  assert.ok(out.terse.security, 'terse keeps rest.security (how to authenticate)');
  assert.deepEqual(out.terse.tag, ['SUBSETTED']);
  assert.ok(out.terse.types > 5);
  assert.deepEqual(out.notFound, { status: 404, outcome: true });
  assert.equal(out.badRequest.status, 400);
  assert.match(out.badRequest.type, /^application\/fhir\+json/);
  assert.deepEqual([out.badRequest.resourceType, out.badRequest.issue], ['OperationOutcome', 'error']);
  assert.equal(out.refresh.changed, true);
  assert.equal(out.refresh.hasRefresh, true, 'the refresh token rotates');
  assert.equal(out.refresh.readAfter, true);
  assert.deepEqual(out.autoRefresh, { readAfter: true, refreshed: true });
  assert.deepEqual(out.refused, { status: 401, outcome: true });
}

step('patient: standalone launch with launch/patient through fhirclient', async () => {
  const scope = 'launch/patient patient/*.rs openid fhirUser offline_access';
  const { out, authorize } = await launchAs('patient', USERS.patient.name, scope);
  await checkCommon(out, authorize);
  assert.equal(out.token.patient, region.persons.shared.id, 'the token response names the patient in context');
  assert.equal(out.patient.id, region.persons.shared.id);
  // granted as asked: launch/patient with the context (RFC 6749 §5.1)
  assert.deepEqual(out.token.scope.split(' ').sort(), scope.split(' ').sort());
  assert.equal(out.token.fhirUser, `Patient/${region.persons.shared.id}`);
  assert.equal(out.idClaims.fhirUser, `${region.url}/fhir/Patient/${region.persons.shared.id}`);
  assert.deepEqual(out.user, { type: 'Patient', id: region.persons.shared.id }, 'client.user.read()');
  assert.equal(out.refresh.patient, region.persons.shared.id, 'a refresh keeps the patient context');
  assert.equal(out.refresh.scope, out.token.scope);
});

step('clinician: standalone launch with user scopes through fhirclient', async () => {
  const scope = 'user/*.rs openid fhirUser offline_access';
  const search = `identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${PEOPLE.shared.residentId}`)}`;
  const { out, authorize } = await launchAs('clinician', USERS.clinician.name, scope, { search });
  await checkCommon(out, authorize);
  assert.ok(out.token.patient == null, 'no patient context');
  assert.equal(out.patientSearch.total, 1);
  assert.equal(out.patient.id, region.persons.shared.id);
  // SMART App Launch 2.x fhirUser: the clinician is a Practitioner the
  // gateway builds from the user store, and the same token reads it
  assert.deepEqual(out.token.scope.split(' ').sort(), scope.split(' ').sort());
  assert.equal(out.token.fhirUser, `Practitioner/${USERS.clinician.name}`);
  assert.equal(out.idClaims.fhirUser, `${region.url}/fhir/Practitioner/${USERS.clinician.name}`);
  assert.deepEqual(out.user, { type: 'Practitioner', id: USERS.clinician.name }, 'client.user.read()');
  assert.deepEqual(out.practitioner, {
    active: true, name: USERS.clinician.display, identifier: `urn:fhirgate:user|${USERS.clinician.name}`,
  });
});
