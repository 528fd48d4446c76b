// portal.test.mjs — the web portal in a real browser (headless Chromium,
// driven by playwright-core) against a real gateway with member hospitals
// and PostgreSQL (region.mjs).  The tests run in order and build on each
// other: the clinician's accesses are what the regulator and the patient
// find afterwards.  Every page is saved as a screenshot.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startRegion, stopRegion, stopMember, signalMember, regionLogs, api, token, memberKind, USERS, PASSWORD } from './region.mjs';
import { PEOPLE, MARKUP_TEXT } from './fixtures.mjs';

const require = createRequire(path.join(process.env.FHIRGATE_BROWSER_NPM || '.', 'package.json'));
const { chromium } = require('playwright-core');

const SHOTS = process.env.FHIRGATE_SCREENSHOTS || path.resolve('build/browser/screenshots');
const ARGS = ['--lang=zh-CN', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BTG_REASON = '患者昏迷送急诊抢救，需查看既往病史与过敏史';

let region;
let browser;
let context;
let page;
const cspViolations = [];
const pageErrors = [];
let failed = false;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  region = await startRegion();
  console.log(`# region: gateway ${region.url}, members: ${memberKind()} (${region.members.map((m) => m.id).join(', ')})`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS, env: { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN:zh' },
  });
  context = await browser.newContext({
    ignoreHTTPSErrors: true, // the region CA is not in Chromium's store
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai', // where the region's clinicians are
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (browser) await browser.close();
  if (failed && region) console.log(regionLogs(region));
  await stopRegion(region, failed);
});

async function shot(name, fullPage = false) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

function step(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`, true).catch(() => {});
      throw e;
    }
  });
}

async function signIn(user) {
  await page.goto(`${region.url}/`);
  const signOut = page.locator('#sign-out');
  if (await signOut.isVisible()) await signOut.click();
  await page.locator('input[name=username]').fill(user);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('#who .who-name').waitFor();
}

async function openPatient(residentId) {
  await page.locator('#nav a[href="#/search"]').click();
  await page.locator('input[name=resident-id]').fill(residentId);
  await page.locator('input[name=resident-id]').press('Enter');
  await page.locator('.results table button').first().click();
  await page.locator('#patient-title').waitFor();
}

// Every form control has an accessible name (WCAG 1.3.1 / 4.1.2).
async function assertLabelled(where) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 100)));
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${where}`);
}

async function recordLoaded() {
  await page.locator('.progress').waitFor({ state: 'detached', timeout: 20000 });
}

// ------------------------------------------------------------ clinician --

step('the portal is served with its security headers and no inline script', async () => {
  const root = await api(region, 'GET', '/');
  assert.equal(root.status, 200);
  assert.match(root.headers['content-type'], /^text\/html/);
  assert.match(root.headers['content-security-policy'], /default-src 'self'/);
  assert.doesNotMatch(root.headers['content-security-policy'], /unsafe-inline/);
  assert.equal(root.headers['x-frame-options'], 'DENY');
  assert.equal(root.headers['x-content-type-options'], 'nosniff');
  assert.match(root.headers['strict-transport-security'] || '', /max-age=\d+/);
  assert.doesNotMatch(root.text, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline script in index.html');
  assert.doesNotMatch(root.text, /\son[a-z]+=/i, 'inline event handler in index.html');
  assert.doesNotMatch(root.text, /\sstyle=/i, 'inline style in index.html');
  const js = await api(region, 'GET', '/js/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /^text\/javascript/);
  assert.match(js.headers['cache-control'], /max-age=\d+/);
  const chart = await api(region, 'GET', '/vendor/chart.umd.min.js');
  assert.equal(chart.status, 200);
  assert.match(chart.text.slice(0, 200), /Chart\.js v4/);
});

step('a clinician signs in (Chinese by default) and finds the shared patient', async () => {
  await page.goto(`${region.url}/`);
  await page.locator('#login-title').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  assert.equal(await page.locator('#login-title').textContent(), '登录 fhirgate');
  await assertLabelled('the sign-in page');
  await shot('01-login-zh');

  await page.locator('input[name=username]').fill(USERS.clinician.name);
  await page.locator('input[name=password]').fill('wrong password!');
  await page.locator('form button[type=submit]').click();
  await page.locator('p.error[role=alert]').waitFor();
  assert.match(await page.locator('p.error').textContent(), /用户名或密码错误/);

  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('#who .who-name').waitFor();
  assert.equal(await page.locator('#who .who-name').textContent(), USERS.clinician.display);
  const stored = await page.evaluate(() => Object.keys(localStorage).join(' '));
  assert.doesNotMatch(stored, /session|token/, 'the token must not be in localStorage');

  // A wrong check digit is refused before anything is sent.
  await page.locator('input[name=resident-id]').fill(`${PEOPLE.shared.residentId.slice(0, 17)}0`);
  await page.locator('#by-id-title ~ .actions button, form[aria-labelledby=by-id-title] button').first().click();
  assert.match(await page.locator('form[aria-labelledby=by-id-title] p.error').textContent(), /身份证号无效/);

  await page.locator('input[name=resident-id]').fill(PEOPLE.shared.residentId);
  await page.locator('input[name=resident-id]').press('Enter');
  const row = page.locator('.results tbody tr');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.first().textContent(), /王建国/);
  assert.match(await row.first().textContent(), /1958-03-12/);
  await assertLabelled('the search page');
  await shot('02-search-by-resident-id');

  // Name + birth date finds the same person.
  await page.locator('input[name=name]').fill('王建国');
  await page.locator('input[name=birthdate]').fill('1958-03-12');
  await page.locator('form[aria-labelledby=by-demo-title] button[type=submit]').click();
  await page.locator('.results tbody tr').first().waitFor();
  assert.match(await page.locator('.results tbody tr').first().textContent(), /王建国/);
});

step('the patient page shows one timeline across three hospitals', async () => {
  await page.locator('.results table button').first().click();
  await page.locator('#patient-title').waitFor();
  assert.doesNotMatch(page.url(), /[0-9a-f]{8}-[0-9a-f]{4}/, 'no patient id in the URL');
  assert.doesNotMatch(await page.title(), /王/, 'no patient name in the title');
  await recordLoaded();
  const members = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
  assert.deepEqual(members, ['hosp-a', 'hosp-b', 'hosp-c']);
  const kinds = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.kind))].sort());
  for (const k of ['allergy', 'condition', 'document', 'encounter', 'imaging', 'lab', 'medication', 'family', 'goal']) assert.ok(kinds.includes(k), `timeline has ${k}`);
  // Family history and goals (from CDA sections) read as sentences.
  const timeline = await page.locator('ol.timeline').textContent();
  assert.match(timeline, /父亲: 2型糖尿病 （发病 52 岁）/);
  assert.match(timeline, /糖化血红蛋白低于7%.*有效.*目标日期 2025-08-18/);
  // Allergies from every hospital, above the tabs.
  assert.match(await page.locator('.allergies').textContent(), /青霉素.*鞍山市中心医院/);
  // Every linked identifier with its hospital.
  const ids = await page.locator('.identifiers tbody').textContent();
  assert.match(ids, new RegExp(PEOPLE.shared.residentId));
  for (const m of ['鞍山市中心医院', '鞍山市第三人民医院', '鞍山影像诊断中心']) assert.match(ids, new RegExp(m));
  // All three hospitals answered.
  const chips = await page.locator('.chips li').allTextContents();
  assert.equal(chips.length, 3);
  for (const c of chips) assert.match(c, /已响应/);
  assert.equal(await page.locator('.member-failed').count(), 0);
  // Newest first, dates as YYYY-MM-DD.
  const dates = await page.locator('ol.timeline li.entry time').allTextContents();
  assert.ok(dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)), 'dates are YYYY-MM-DD');
  assert.deepEqual([...dates].sort().reverse(), dates);
  // Data that looks like markup is shown as text, never run.
  assert.ok((await page.locator('ol.timeline').textContent()).includes(MARKUP_TEXT));
  assert.equal(await page.locator('ol.timeline img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await assertLabelled('the patient page');
  await shot('03-patient-timeline-zh');
  await shot('03-patient-timeline-zh-full', true);
});

step('timeline filters by hospital, type and date', async () => {
  const entries = page.locator('ol.timeline li.entry');
  const all = await entries.count();
  await page.locator('.filters fieldset').nth(0).locator('input[value="hosp-a"]').uncheck();
  let members = await entries.evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
  assert.deepEqual(members, ['hosp-b', 'hosp-c']);
  await page.locator('.filters fieldset').nth(0).locator('input[value="hosp-a"]').check();
  for (const k of ['encounter', 'condition', 'imaging', 'medication', 'allergy', 'procedure', 'immunization', 'family', 'goal', 'careteam', 'document']) {
    const box = page.locator(`.filters input[value="${k}"]`);
    if (await box.count()) await box.uncheck();
  }
  const kinds = await entries.evaluateAll((els) => [...new Set(els.map((e) => e.dataset.kind))]);
  assert.deepEqual(kinds, ['lab']);
  await page.locator('.filters input[name=from]').fill('2024-01-01');
  await page.locator('.filters input[name=to]').fill('2024-12-31');
  await page.locator('.filters input[name=to]').dispatchEvent('change');
  const dates = await page.locator('ol.timeline li.entry time').allTextContents();
  assert.ok(dates.length > 0 && dates.every((d) => d >= '2024-01-01' && d <= '2024-12-31'));
  members = await entries.evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
  assert.deepEqual(members, ['hosp-b'], 'the labs of 2024 come from hosp-b only');
  await shot('04-timeline-filtered');
  await page.locator('.filters button.link').click();
  assert.equal(await entries.count(), all);
});

step('lab results: a trend chart of HbA1c across hospitals with range and flags', async () => {
  await page.locator('[role=tab]', { hasText: '检验结果' }).click();
  const select = page.locator('select[name=test]');
  await select.waitFor();
  assert.equal(await select.inputValue(), 'http://loinc.org|4548-4');
  const canvas = page.locator('canvas.trend');
  await canvas.waitFor();
  await page.waitForTimeout(500); // let the chart finish its short animation
  const painted = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    return n;
  });
  assert.ok(painted > 5000, `the chart drew (${painted} painted pixels)`);
  const chartInfo = await canvas.evaluate((c) => {
    const ch = window.Chart.getChart(c);
    return { sets: ch.data.datasets.map((d) => ({ label: d.label, n: d.data.length })) };
  });
  assert.equal(chartInfo.sets.length, 3, 'the trend line, then one series per hospital with HbA1c');
  assert.equal(chartInfo.sets[0].n, 9, 'the trend joins all nine results');
  assert.deepEqual(chartInfo.sets.slice(1).map((d) => [d.label, d.n]).sort(), [['鞍山市中心医院', 7], ['鞍山市第三人民医院', 2]]);
  assert.match(await page.locator('.chart-box').textContent(), /4–6 %/);
  const rows = page.locator('.test-table tbody tr');
  assert.equal(await rows.count(), 9);
  assert.ok(await page.locator('.test-table .flag.high').count() >= 7, 'values above 6.0 % are flagged');
  await shot('05-labs-trend-hba1c');
  await select.selectOption('http://loinc.org|2160-0');
  await page.locator('.test-table tbody tr').first().waitFor();
  assert.match(await page.locator('.test-table caption').textContent(), /肌酐/);
  await page.waitForTimeout(400);
  await shot('06-labs-trend-creatinine');
});

step('imaging studies link to the WADO-RS endpoint; documents open in the page', async () => {
  await page.locator('[role=tab]', { hasText: '影像检查' }).click();
  const rows = page.locator('[role=tabpanel]:not([hidden]) tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  const text = await rows.allTextContents();
  assert.ok(text.some((t) => /CT/.test(t) && /245/.test(t) && /胸部CT平扫/.test(t)));
  const href = await page.locator('a.wado').first().getAttribute('href');
  assert.match(href, /^https:\/\/127\.0\.0\.1:8042\/dicom-web\/studies\/1\.2\.156\./);
  assert.equal(await page.locator('a.wado').first().getAttribute('rel'), 'noopener noreferrer');
  await shot('07-imaging');

  // Tabs work from the keyboard.
  await page.locator('[role=tab][aria-selected=true]').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.locator('[role=tab][aria-selected=true]').textContent(), '医疗文书');
  const readButtons = page.locator('[role=tabpanel]:not([hidden]) button', { hasText: '阅读' });
  assert.equal(await readButtons.count(), 3);
  await page.locator('[role=tabpanel]:not([hidden]) tr', { hasText: '出院小结' }).locator('button').click();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  const body = await dlg.textContent();
  for (const s of ['出院小结', '入院诊断', '诊疗经过', '出院医嘱', '二甲双胍 0.5 g 每日三次', '刘海峰']) assert.ok(body.includes(s), `document shows ${s}`);
  assert.equal(await dlg.locator('.narrative table tbody tr').count(), 2);
  assert.ok(body.includes('饮食') && body.includes('低盐低脂糖尿病饮食'), 'nested sections are shown');
  assert.ok(body.includes('详见糖尿病教育手册。'), 'a link in the narrative keeps its text');
  assert.equal(await dlg.locator('a, script, img').count(), 0, 'nothing active comes from the document');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '关闭', 'focus moves into the dialog');
  await shot('08-document-cda');
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' }).catch(() => {});
  assert.equal(await page.locator('dialog[open]').count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '阅读', 'focus returns to the button');
  await page.locator('[role=tabpanel]:not([hidden]) tr', { hasText: '胸部CT诊断报告' }).locator('button').click();
  assert.match(await page.locator('dialog[open] .doc-text').textContent(), /右肺下叶小结节/);
  await page.keyboard.press('Escape');
  // A PDF attachment opens in a new tab from a Blob (nothing leaves the page).
  await page.locator('[role=tabpanel]:not([hidden]) tr', { hasText: '检查申请单（PDF）' }).locator('button').click();
  const [popup] = await Promise.all([
    context.waitForEvent('page'),
    page.locator('dialog[open] button', { hasText: '打开附件' }).click(),
  ]);
  assert.match(popup.url(), /^blob:https:\/\/127\.0\.0\.1:\d+\//);
  await popup.close();
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});

step('the portal switches to English', async () => {
  await page.locator('#lang-en').click();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('[role=tab][aria-selected=true]').textContent(), 'Documents');
  await page.locator('[role=tab]', { hasText: 'Timeline' }).click();
  assert.match(await page.locator('.filters legend').first().textContent(), /Hospital/);
  // Names stay family-name first in Chinese characters, pinyin beside them.
  assert.match(await page.locator('#patient-title').textContent(), /王建国WANG Jianguo/);
  await shot('09-patient-timeline-en');
  await page.locator('#lang-zh').click();
  assert.equal(await page.locator('[role=tab][aria-selected=true]').textContent(), '时间轴');
});

step('a consent denial leads to break-the-glass with a reason', async () => {
  await openPatient(PEOPLE.optout.residentId);
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor({ timeout: 20000 });
  assert.match(await dlg.textContent(), /此次访问将被审查/);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'TEXTAREA', 'focus is on the reason');
  assert.match(await page.locator('.consent-denied').textContent(), /因患者授权设置拒绝访问/);
  await shot('10-break-glass-dialog');
  await assertLabelled('the break-the-glass dialog');
  await dlg.locator('textarea').fill('急诊');
  await dlg.locator('button[type=submit]').click();
  assert.match(await dlg.locator('p.error').textContent(), /至少 8 个字符/);
  await dlg.locator('textarea').fill(BTG_REASON);
  await dlg.locator('button[type=submit]').click();
  await recordLoaded();
  assert.equal(await page.locator('.consent-denied').count(), 0);
  assert.match(await page.locator('.status').textContent(), /正在使用紧急访问/);
  assert.match(await page.locator('.status').textContent(), new RegExp(BTG_REASON));
  const members = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
  assert.deepEqual(members, ['hosp-a', 'hosp-b']);
  assert.match(await page.locator('ol.timeline').textContent(), /不稳定型心绞痛/);
  await shot('11-break-glass-record');
});

step('data withheld by consent is announced', async () => {
  await openPatient(PEOPLE.partial.residentId);
  await recordLoaded();
  await page.locator('.consent-withheld').waitFor();
  const members = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))]);
  assert.deepEqual(members, ['hosp-a']);
  await shot('12-consent-withheld');
});

step('progress is shown while the hospitals answer', async () => {
  signalMember(region, 'hosp-c', 'SIGUSR1'); // each of its answers now takes 0.5 s
  try {
    await openPatient(PEOPLE.shared.residentId);
    const progress = page.locator('.progress');
    await progress.waitFor();
    assert.match(await progress.textContent(), /正在向各医院查询…已收到 \d+\/14 类数据/);
    assert.match(await page.locator('.chips').textContent(), /等待中/);
    await shot('13-progress');
    // Switching the language while loading redraws the page; the load goes on.
    await page.locator('#lang-en').click();
    await recordLoaded();
    const chips = await page.locator('.chips li').allTextContents();
    assert.ok(chips.every((c) => /answered/.test(c)), 'every hospital answered within the deadline');
    assert.equal(await page.locator('.member-failed').count(), 0);
    assert.ok(await page.locator('ol.timeline li.entry').count() > 30);
  } finally {
    signalMember(region, 'hosp-c', 'SIGUSR1');
    await page.locator('#lang-zh').click();
  }
});

step('a member that never answers shows a timeout banner', async () => {
  signalMember(region, 'hosp-b', 'SIGSTOP');
  try {
    await openPatient(PEOPLE.shared.residentId);
    await recordLoaded();
    const banner = page.locator('.member-failed[data-member="hosp-b"]');
    await banner.waitFor();
    assert.match(await banner.textContent(), /鞍山市第三人民医院 未响应/);
    assert.match(await banner.textContent(), /在时限内未响应/);
    const members = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
    assert.deepEqual(members, ['hosp-a', 'hosp-c']);
    await shot('14-member-timeout');
  } finally {
    signalMember(region, 'hosp-b', 'SIGCONT');
  }
});

step('a stopped member shows its banner', async () => {
  await stopMember(region, 'hosp-c');
  await openPatient(PEOPLE.shared.residentId);
  await recordLoaded();
  const banner = page.locator('.member-failed[data-member="hosp-c"]');
  await banner.waitFor();
  assert.match(await banner.textContent(), /鞍山影像诊断中心 未响应/);
  assert.match(await page.locator('.chips').textContent(), /鞍山影像诊断中心: 失败/);
  const members = await page.locator('ol.timeline li.entry').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.member))].sort());
  assert.deepEqual(members, ['hosp-a', 'hosp-b']);
  await shot('15-member-down');
});

step('a reload forgets the patient; an expired session returns to sign-in', async () => {
  await page.reload();
  await page.locator('h1', { hasText: '查找患者' }).waitFor();
  assert.match(page.url(), /#\/search$/);
  assert.equal(await page.locator('.results tbody tr').count(), 0, 'no patient data survives a reload');
  // A token the gateway no longer accepts (here: its signature broken).
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('fhirgate.session'));
    s.token = `${s.token.slice(0, -6)}AAAAAA`;
    sessionStorage.setItem('fhirgate.session', JSON.stringify(s));
  });
  await page.reload();
  await page.locator('input[name=resident-id]').fill(PEOPLE.shared.residentId);
  await page.locator('input[name=resident-id]').press('Enter');
  await page.locator('#login-title').waitFor();
  assert.match(await page.locator('.notice').textContent(), /会话已结束/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('fhirgate.session')), null, 'the token is forgotten');
  await shot('16-session-expired');
});

// ------------------------------------------------------------ regulator --

step('a regulator finds the accesses and the break-the-glass in the report', async () => {
  await signIn(USERS.regulator.name);
  await page.locator('h1', { hasText: '审计看板' }).waitFor();
  await page.locator('.verify .banner').waitFor();
  assert.match(await page.locator('.verify').textContent(), /审计记录完整/);
  await page.locator('.totals').waitFor();
  const accesses = Number(await page.locator('.stat').nth(1).locator('.stat-value').textContent());
  assert.ok(accesses > 0, 'accesses are counted');
  const btg = page.locator('.audit-btg tbody tr');
  await btg.first().waitFor();
  const btgText = await btg.allTextContents();
  assert.ok(btgText.some((t) => t.includes(USERS.clinician.name) && t.includes(BTG_REASON)), 'the break-the-glass with its reason');
  // One look at the record under emergency access is one row to review
  // (its per-type requests counted), and the consent denial one request:
  // the portal asks one type first and stops at a denial.
  assert.equal(await btg.count(), 1, 'one emergency access to review');
  assert.equal(await btg.first().locator('td.num').textContent(), '14'); // one per record type (RECORD_TYPES)
  const denials = page.locator('.audit-denials tbody tr', { hasText: '患者授权限制' });
  assert.equal(await denials.count(), 1, 'one attempt denied by consent');
  assert.equal(await denials.first().locator('td.num').textContent(), '1');
  // The broken token of the session test was refused and audited too.
  assert.ok((await page.locator('.audit-denials tbody tr', { hasText: '401' }).count()) >= 1, 'the refused token is listed');
  assert.match(await page.locator('.audit-clinicians').textContent(), /dr\.wang/);
  await page.waitForTimeout(500);
  // The events one by one: the emergency accesses among them.
  await page.locator('.audit-events summary').click();
  const ev = page.locator('.audit-events tbody tr');
  assert.ok(await ev.count() > 10);
  assert.ok((await ev.filter({ hasText: '紧急访问' }).count()) >= 11, 'the break-the-glass requests are listed');
  assert.match(await ev.filter({ hasText: '紧急访问' }).first().textContent(), /dr\.wang.*鞍山市中心医院.*Patient\//);
  await assertLabelled('the audit dashboard');
  await shot('17-audit-dashboard');
  await shot('17-audit-dashboard-full', true);

  // Review the break-the-glass.
  const row = btg.filter({ hasText: BTG_REASON }).first();
  await row.locator('input.note').fill('急诊抢救，理由充分');
  await row.getByRole('button', { name: '合理', exact: true }).click();
  await page.locator('.audit-btg .review.justified').first().waitFor();

  // CSV download.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('button', { hasText: '下载 CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(download.suggestedFilename(), /^fhirgate-audit-.*\.csv$/);
  assert.match(csv, /break_glass/);
  fs.copyFileSync(await download.path(), path.join(SHOTS, 'audit-report.csv'));

  // Clinician filter.
  const statValue = async () => Number((await page.locator('.totals .stat .stat-value').nth(1).textContent()).replace(/\D+/g, ''));
  const regionAccesses = await statValue();
  await page.locator('input[name=clinician]').fill(USERS.clinician.name);
  await page.locator('form.filters-row button[type=submit]').click();
  await page.locator('.audit-btg tbody tr').first().waitFor();
  const users = await page.locator('.audit-clinicians tbody tr td:first-child').allTextContents();
  assert.deepEqual([...new Set(users)], [USERS.clinician.name]);
  // The charts are counted from that clinician's AuditEvents.
  const bars = await page.locator('figure.chart canvas').nth(1).evaluate((c) => {
    const ch = window.Chart.getChart(c);
    return Object.fromEntries(ch.data.labels.map((l, i) => [l, ch.data.datasets[0].data[i]]));
  });
  assert.ok(bars['鞍山市中心医院'] > 0, 'dr.wang\'s accesses are at his hospital');
  assert.equal(bars['鞍山市第三人民医院'], 0);
  assert.match(await page.locator('.audit-out .notice').textContent(), /按所选医院和医生筛选/);
  // The totals are that clinician's too (the report is filtered by the gateway).
  const filtered = await statValue();
  assert.ok(filtered > 0 && filtered < regionAccesses, `filtered accesses ${filtered} < region ${regionAccesses}`);
  await page.waitForTimeout(400);
  await shot('18-audit-filtered');
});

// ------------------------------------------------------------ admin --

step('an administrator sees member health and manages members and users', async () => {
  await signIn(USERS.admin.name);
  const rows = page.locator('.members-list tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  // Probes run every second: refresh until the stopped member is seen down.
  for (let i = 0; i < 30 && !(await page.locator('.member-hosp-c .health.down').count()); i++) {
    await page.waitForTimeout(500);
    await page.locator('button.refresh').click();
    await rows.first().waitFor();
  }
  assert.equal(await page.locator('.member-hosp-c .health.down').count(), 1, 'hosp-c is down');
  assert.equal(await page.locator('.member-hosp-a .health.up').count(), 1, 'hosp-a is up');
  assert.match(await page.locator('.member-hosp-a').textContent(), /\d+ ms/);
  await assertLabelled('the members page');
  await shot('19-admin-members');

  // Register a member (pending), then approve it.
  const reg = page.locator('form[aria-labelledby=reg-title]');
  await reg.locator('input[name=id]').fill('hosp-d');
  await reg.locator('input[name=name]').fill('鞍山市妇幼保健院');
  await reg.locator('input[name=base]').fill('https://127.0.0.1:9/fhir');
  await reg.locator('input[name=active]').uncheck();
  await reg.locator('button[type=submit]').click();
  await page.locator('.member-hosp-d', { hasText: '待批准' }).waitFor();
  await page.locator('.member-hosp-d button', { hasText: '批准' }).click();
  await page.locator('.member-hosp-d button', { hasText: '停用' }).waitFor();
  assert.match(await page.locator('.member-hosp-d').textContent(), /鞍山市妇幼保健院.*启用/);

  await page.locator('.member-hosp-b button', { hasText: '停用' }).click();
  await page.locator('.member-hosp-b', { hasText: '已停用' }).first().waitFor();
  await page.locator('.member-hosp-b button', { hasText: '启用' }).click();
  await page.locator('.member-hosp-b button', { hasText: '停用' }).waitFor();

  await page.locator('[role=tab]', { hasText: '用户' }).click();
  const users = page.locator('[role=tabpanel]:not([hidden]) tbody tr');
  await users.first().waitFor();
  assert.ok((await users.allTextContents()).some((t) => t.includes('dr.wang')));
  const form = page.locator('form[aria-labelledby=user-title]');
  await form.locator('input[name=username]').fill('dr.sun');
  await form.locator('input[name=display]').fill('孙医生');
  await form.locator('select[name=organization]').selectOption('hosp-b');
  await form.locator('input[name=password]').fill('Sun-doctor-2026!');
  await form.locator('button[type=submit]').click();
  const added = page.locator('[role=tabpanel]:not([hidden]) tbody tr', { hasText: 'dr.sun' });
  await added.waitFor();
  assert.match(await added.textContent(), /孙医生.*医生.*鞍山市第三人民医院/);
  await assertLabelled('the users page');
  await shot('20-admin-users');

  // The patient index: the two look-alike records wait for a decision.
  await page.locator('[role=tab]', { hasText: '患者主索引' }).click();
  const review = page.locator('.reviews-list tr.review-row').first();
  await review.waitFor();
  const rowText = await review.textContent();
  // both registrations, side by side, with what the matcher compared
  assert.match(rowText, /A1005/);
  assert.match(rowText, /B2005/);
  assert.match(rowText, /周八 · 1975-0[67]-0[67] · 女/);
  assert.match(rowText, /出生日期: 部分一致/);
  await assertLabelled('the patient index page');
  await shot('21-admin-index');
  await review.locator('button.primary').click(); // 同一人
  await page.locator('[role=tabpanel]:not([hidden]) [role=status]', { hasText: '已将' }).first().waitFor();
  await page.locator('.reviews-list .no-reviews').waitFor();
});

// ------------------------------------------------------------ patient --

step('a patient sees who looked at the record, from where and why', async () => {
  await signIn(USERS.patient.name);
  await page.locator('h1', { hasText: '谁查看了我的档案' }).waitFor();
  const rows = page.locator('table tbody tr');
  await rows.first().waitFor();
  const text = await rows.allTextContents();
  // The doctor by name (王医生), as a patient knows them, not by login.
  assert.ok(text.some((t) => t.includes(USERS.clinician.display) && t.includes('鞍山市中心医院') && t.includes('诊疗')), '王医生 (dr.wang) at hosp-a for treatment');
  assert.ok(!text.some((t) => t.includes(USERS.clinician.name)), 'no login names shown to the patient');
  await assertLabelled('the patient\'s page');
  await shot('21-patient-accesses');

  // The patient whose consent was overridden sees the emergency access and its reason.
  await signIn(USERS.patient2.name);
  await page.locator('table tbody tr').first().waitFor();
  await page.locator('.banner.warning').waitFor();
  const btgRow = page.locator('table tbody tr.btg');
  assert.equal(await btgRow.count(), 1, 'one emergency access');
  assert.match(await btgRow.textContent(), new RegExp(`${USERS.clinician.display}.*鞍山市中心医院.*紧急访问.*${BTG_REASON}`));
  await shot('22-patient-emergency-access');
});

step('no CSP violation or script error happened in the browser', async () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});

step('the API refuses the portal\'s tokens where the role does not allow', async () => {
  const clin = await token(region, USERS.clinician.name);
  const res = await api(region, 'GET', '/audit/verify', { token: clin });
  assert.equal(res.status, 403);
});
