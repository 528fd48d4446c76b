// region.mjs — starts the region the browser tests run against, all on
// loopback under one temporary folder, and stops it again:
//   - a private PostgreSQL cluster (deploy/pgctl.sh),
//   - the region CA with server and client certificates (deploy/ca.sh),
//   - three member hospitals (startMembers: see MEMBER_KINDS),
//   - the real gateway, bin/fhirgate-gateway, serving the built portal.
// Users are created with the real CLI (`fhirgate user add`), consents and the
// patient's account through the gateway's own API, as an administrator would.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { MEMBERS, PEOPLE, RESIDENT_ID_SYSTEM, writeData } from './fixtures.mjs';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BIN = process.env.FHIRGATE_BIN || path.join(SRC, 'bin');
const PORTAL_ROOT = process.env.FHIRGATE_PORTAL_ROOT || path.join(SRC, 'build/portal');
const TEST_MEMBER = process.env.FHIRGATE_PORTAL_MEMBER || path.join(SRC, 'build/release/test/portal_member');

export const PASSWORD = 'Portal-test-2026!';
export const USERS = {
  clinician: { name: 'dr.wang', display: '王医生', role: 'clinician', org: 'hosp-a' },
  regulator: { name: 'reg.zhou', display: '周监管', role: 'regulator' },
  admin: { name: 'admin.chen', display: '陈管理员', role: 'admin' },
  patient: { name: 'wang.jianguo', display: '王建国', role: 'patient' },
  patient2: { name: 'li.xiuying', display: '李秀英', role: 'patient' },
};

function log(...a) {
  if (process.env.FHIRGATE_BROWSER_VERBOSE) console.error('[region]', ...a);
}

function run(cmd, args, opts = {}) {
  log(cmd, args.join(' '));
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

export function freePort() {
  return Number(run(path.join(SRC, 'test/support/freeport.sh'), []).trim());
}

// A child process whose stdout/stderr go to a log file; resolves once a line
// matching `ready` appears on stdout (or at once when `ready` is null).
function startProcess(name, cmd, args, logDir, ready, env) {
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', out], env: { ...process.env, ...env } });
  const proc = { name, child, logFile, exited: false, code: null, signal: null };
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.code = code;
    proc.signal = signal;
  });
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after 30 s (see ${logFile})`)), 30000);
    let done = !ready;
    rl.on('line', (line) => {
      fs.appendFileSync(logFile, `${line}\n`);
      if (!done) {
        const m = ready.exec(line);
        if (m) {
          done = true;
          clearTimeout(timer);
          proc.match = m;
          resolve(proc);
        }
      }
    });
    child.on('exit', (code) => {
      if (!done) {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before it was ready; log:\n${tail(logFile)}`));
      }
    });
    if (done) {
      clearTimeout(timer);
      resolve(proc);
    }
  });
}

function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch (_) {
    return '';
  }
}

// Stop a process and say whether it ended cleanly (exit status 0 after
// SIGTERM: no crash, no sanitizer report, no leak under LeakSanitizer).
async function stopProcess(p, signal = 'SIGTERM') {
  if (!p) return true;
  if (p.exited) return p.code === 0;
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      p.child.kill('SIGKILL');
    }, 10000);
    p.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    p.child.kill(signal);
  });
  return p.code === 0;
}

// ---------------------------------------------------------------- members --

// The kinds of member hospital the tests can run.  `test-member` is
// test/browser/member.c; an adapter kind joins here when bin/fhirgate-adapter
// can be configured from a test (issue #8 builds it), without touching the
// tests themselves.
const MEMBER_KINDS = {
  'test-member': async (region, m, dataFile) => {
    const cert = region.ca.server(m.id);
    const proc = await startProcess(m.id, TEST_MEMBER, [
      '--id', m.id, '--data', dataFile, '--cert', cert.crt, '--key', cert.key, '--ca', region.ca.caCrt,
      '--gateway-cn', 'gateway', '--slow-ms', '500',
    ], region.logs, /^listening (\d+)$/);
    const port = Number(proc.match[1]);
    return { ...m, proc, base: `https://127.0.0.1:${port}/fhir`, port };
  },
};

export function memberKind() {
  return process.env.FHIRGATE_BROWSER_MEMBERS || 'test-member';
}

// ---------------------------------------------------------------- region --

function makeCa(dir) {
  const sh = path.join(SRC, 'deploy/ca.sh');
  run(sh, ['init', dir]);
  const issued = {};
  const parse = (out) => {
    const r = {};
    for (const line of out.split('\n')) {
      const m = /^(cert|key|ca): (.*)$/.exec(line);
      if (m) r[m[1]] = m[2];
    }
    return { crt: r.cert, key: r.key };
  };
  return {
    caCrt: path.join(dir, 'ca.crt'),
    server(name) {
      if (!issued[`s:${name}`]) issued[`s:${name}`] = parse(run(sh, ['server', dir, name]));
      return issued[`s:${name}`];
    },
    client(name, org) {
      if (!issued[`c:${name}`]) issued[`c:${name}`] = parse(run(sh, ['client', dir, name, ...(org ? [`O=${org}`] : [])]));
      return issued[`c:${name}`];
    },
  };
}

function startPostgres(dir) {
  const pg = path.join(SRC, 'deploy/pgctl.sh');
  run(pg, ['init', dir]);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    try {
      run(pg, ['start', dir, String(port), '--volatile']);
      return { dir, port, url: run(pg, ['url', dir, String(port)]).trim() };
    } catch (e) {
      log('postgres did not start on', port, e.stderr || e.message);
    }
  }
  throw new Error(`PostgreSQL did not start; see ${dir}/server.log`);
}

function gatewayConfig(r, port, opts) {
  const gwCert = r.ca.server('gateway');
  const gwClient = r.ca.client('gateway', 'fhirgate region');
  const lines = [
    '[node]', 'id = gw-test', `public_url = https://127.0.0.1:${port}`, `state_dir = ${r.dir}/gw-state`, 'log_level = info', 'tz_offset = +08:00', 'shutdown_grace = 2s',
    '[http]', `listen = 127.0.0.1:${port}`, `cert = ${gwCert.crt}`, `key = ${gwCert.key}`, `client_ca = ${r.ca.caCrt}`, 'client_auth = optional', 'threads = 2',
    ...(opts.corsOrigins ? [`cors_origins = ${opts.corsOrigins.join(' ')}`] : []),
    '[database]', 'url = env:FHIRGATE_DATABASE_URL', 'pool_size = 8', 'migrate = auto',
    '[audit]', `signing_key = ${r.auditKey}`, 'writers = 2', 'checkpoint_rows = 50', 'checkpoint_interval = 5s',
    '[auth]', `signing_key = ${r.tokenKey}`, 'password_grant = true', 'portal_client_id = portal', 'token_lifetime = 15m',
    '[federation]', `ca = ${r.ca.caCrt}`, `client_cert = ${gwClient.crt}`, `client_key = ${gwClient.key}`, 'deadline = 6s', 'member_timeout = 4s',
    'breaker_failures = 100',
    '[registry]', 'auto_approve = false', 'probe_interval = 1s', 'probe_timeout = 1s',
    // upper = 60: a region that has a person confirm every match not made
    // by resident id (the look-alike records reach the review page)
    '[mpi]', 'pull = true', 'pull_interval = 1s', 'pull_count = 100', 'upper = 60',
    '[portal]', `root = ${PORTAL_ROOT}`, 'max_age = 1h',
    '[reports]', 'tz = Asia/Shanghai', 'unusual_hours = 22-6', 'volume_factor = 3', 'volume_min = 20',
  ];
  for (const m of r.members) {
    lines.push(`[member "${m.id}"]`, `name = "${m.name}"`, `base = ${m.base}`, 'status = active');
  }
  const file = path.join(r.dir, 'gateway.conf');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function ecKey(file) {
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  fs.chmodSync(file, 0o600);
  return file;
}

// `opts.corsOrigins`: origins whose pages may call the API (a SMART app
// served from another loopback port).
export async function startRegion(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhirgate-browser.'));
  fs.chmodSync(dir, 0o755);
  const r = { dir, logs: path.join(dir, 'logs'), members: [], procs: [] };
  fs.mkdirSync(r.logs);
  try {
    r.pg = startPostgres(path.join(dir, 'pg'));
    r.ca = makeCa(path.join(dir, 'ca'));
    r.tokenKey = ecKey(path.join(dir, 'token.pem'));
    r.auditKey = ecKey(path.join(dir, 'audit.pem'));
    r.wadoBase = 'https://127.0.0.1:8042/dicom-web';
    const files = writeData(path.join(dir, 'data'), r.wadoBase);
    const kind = MEMBER_KINDS[memberKind()];
    if (!kind) throw new Error(`unknown member kind ${memberKind()}`);
    for (const m of MEMBERS) r.members.push(await kind(r, m, files[m.id]));

    const env = { FHIRGATE_DATABASE_URL: r.pg.url };
    run(path.join(BIN, 'fhirgate'), ['migrate', '--database', r.pg.url]);
    const pwFile = path.join(dir, 'pw');
    fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    for (const u of [USERS.clinician, USERS.regulator, USERS.admin]) {
      run(path.join(BIN, 'fhirgate'), ['user', 'add', u.name, '--role', u.role, '--display-name', u.display,
        ...(u.org ? ['--organization', u.org] : []), '--password-file', pwFile, '--database', r.pg.url]);
    }
    r.port = freePort();
    r.url = `https://127.0.0.1:${r.port}`;
    const conf = gatewayConfig(r, r.port, opts);
    r.gateway = await startProcess('gateway', path.join(BIN, 'fhirgate-gateway'), ['--config', conf], r.logs, null, env);
    await waitFor(async () => (await api(r, 'GET', '/healthz')).status === 200, 30000, 'gateway /healthz');
    await setUp(r);
    return r;
  } catch (e) {
    await stopRegion(r, true).catch(() => {});
    throw e;
  }
}

// Stop everything; the folder stays when `keep` (a failed run, for its logs).
// Throws when a program did not end cleanly (crash, sanitizer report).
export async function stopRegion(r, keep = false) {
  if (!r) return;
  const unclean = [];
  for (const p of [r.gateway, ...r.members.map((m) => m.proc)]) {
    if (p && !(await stopProcess(p))) unclean.push(p);
  }
  if (r.pg) {
    try {
      run(path.join(SRC, 'deploy/pgctl.sh'), ['stop', r.pg.dir]);
    } catch (_) {
      /* already down */
    }
  }
  const report = unclean.map((p) => `${p.name} ended with ${p.signal || `status ${p.code}`}:\n${tail(p.logFile, 40)}`);
  if (!keep && !unclean.length && !process.env.FHIRGATE_BROWSER_KEEP) fs.rmSync(r.dir, { recursive: true, force: true, maxRetries: 5 });
  else console.error(`region kept in ${r.dir}`);
  if (unclean.length) throw new Error(`programs of the region did not end cleanly:\n${report.join('\n')}`);
}

export async function stopMember(r, id) {
  const m = r.members.find((x) => x.id === id);
  if (!(await stopProcess(m.proc))) throw new Error(`${id} did not end cleanly:\n${tail(m.proc.logFile, 40)}`);
}

// Send a signal to a member: SIGUSR1 toggles test/browser/member.c's slow
// mode; SIGSTOP/SIGCONT freeze and thaw it (a host that accepts
// connections and never answers: timeouts).
export function signalMember(r, id, sig) {
  const m = r.members.find((x) => x.id === id);
  m.proc.child.kill(sig);
}

export function regionLogs(r) {
  return fs.readdirSync(r.logs).map((f) => `--- ${f}\n${tail(path.join(r.logs, f), f === 'gateway.log' ? 40 : 8)}`).join('\n');
}

// ------------------------------------------------------------ API helpers --

// A request to the gateway (TLS checked against the region CA).
export function api(r, method, p, { token: tok, body, form, headers } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (tok) h.Authorization = `Bearer ${tok}`;
  let payload = null;
  if (form) {
    h['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (payload !== null) h['Content-Length'] = Buffer.byteLength(payload);
  if (!r.caPem) r.caPem = fs.readFileSync(r.ca.caCrt);
  return new Promise((resolve, reject) => {
    const req = https.request(`${r.url}${p}`, { method, headers: h, ca: r.caPem, timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch (_) {
          json = null;
        }
        resolve({ status: res.statusCode, json, text, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (payload !== null) req.write(payload);
    req.end();
  });
}

export async function token(r, user) {
  const res = await api(r, 'POST', '/auth/token', { form: { grant_type: 'password', username: user, password: PASSWORD, client_id: 'portal' } });
  if (res.status !== 200) throw new Error(`sign-in of ${user}: ${res.status} ${res.text}`);
  return res.json.access_token;
}

export async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last = null;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

// The regional person of a test person once the MPI has linked its records
// at `members` hospitals.
async function person(r, tok, who, members) {
  let found = null;
  await waitFor(async () => {
    const res = await api(r, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${who.residentId}`)}`, { token: tok });
    const p = res.json && res.json.entry && res.json.entry[0] && res.json.entry[0].resource;
    if (!p) return false;
    const assigners = new Set((p.identifier || []).filter((i) => i.assigner).map((i) => JSON.stringify(i.assigner)));
    if (assigners.size < members) return false;
    found = p;
    return true;
  }, 30000, `the MPI to link ${who.pinyin.join(' ')} at ${members} members`);
  return found;
}

// Consents and the patient's account, through the API.
async function setUp(r) {
  const clin = await token(r, USERS.clinician.name);
  r.persons = {
    shared: await person(r, clin, PEOPLE.shared, 3),
    optout: await person(r, clin, PEOPLE.optout, 2),
    partial: await person(r, clin, PEOPLE.partial, 2),
  };
  const adm = await token(r, USERS.admin.name);
  const consent = (pid, extra) => ({
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${pid}` }, dateTime: '2026-01-10T10:00:00+08:00', ...extra,
  });
  const optOut = consent(r.persons.optout.id, {
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
  });
  const denyB = consent(r.persons.partial.id, {
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      provision: [{
        type: 'deny',
        actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST' }] }, reference: { reference: 'Organization/hosp-b' } }],
      }],
    },
  });
  for (const c of [optOut, denyB]) {
    const res = await api(r, 'POST', '/fhir/Consent', { token: adm, body: c });
    if (res.status !== 201) throw new Error(`consent: ${res.status} ${res.text}`);
  }
  for (const [u, person] of [[USERS.patient, r.persons.shared], [USERS.patient2, r.persons.optout]]) {
    const res = await api(r, 'POST', '/admin/users', {
      token: adm, body: { username: u.name, password: PASSWORD, role: 'patient', patient: person.id, display_name: u.display },
    });
    if (res.status !== 201) throw new Error(`patient user ${u.name}: ${res.status} ${res.text}`);
  }
}
