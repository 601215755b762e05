// The operator console (/console) in headless Chromium against the real guard jar, on config.yml's
// default rate limits: a refused token, logging in, a backend's session appearing with its cost,
// ending it from the page (admin_ended in the audit trail), tripping and resetting the breaker, the
// spend chart, a phone's screen, a node short of its grid's quorum ("grid degraded" until its peer
// joins), and the node going away ("node unreachable"). Screenshots in target/console/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { makeKeystore } from '../lib/keystore.mjs';
import { startStandIn } from '../lib/standin.mjs';
import { OPERATOR_TOKEN, SERVICE_TOKEN, api, eventually, freePort, startGuard } from '../lib/guard.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.mjs';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const SHOTS = join(ROOT, 'target', 'console');
const SERVER_KEY = `sk-server-${randomBytes(12).toString('hex')}`;
// gpt-realtime in config.yml: 100 USD per 1M input tokens, 200 per 1M output: the quick start's $0.50
const HALF_DOLLAR = { input_tokens: 3000, output_tokens: 1000 };

let dir;
let standin;
let guard;
let browser;
let page;
const dialogs = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duck-e-console-'));
  mkdirSync(SHOTS, { recursive: true });
  standin = await startStandIn({ apiKey: SERVER_KEY });
  // the default limits of config.yml: the page's one request every 2 s and this test's calls, all from
  // 127.0.0.1, must fit in "any other route" 100/minute
  guard = await startGuard({ root: ROOT, dir, upstreamUrl: standin.url, serverKey: SERVER_KEY, tls: makeKeystore(dir) });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await (await browser.newContext({ viewport: { width: 1100, height: 1000 } })).newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // confirm() is accepted, prompt() gets the trip reason; each dialog is recorded
  page.on('dialog', async (d) => {
    dialogs.push({ type: d.type(), message: d.message() });
    await (d.type() === 'prompt' ? d.accept('console test') : d.accept());
  });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await guard?.stop();
  await standin?.close();
  if (dir && !process.env.CLIENTS_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const text = (selector) => page.locator(selector).textContent();

test('a wrong token is refused and the login form stays', async () => {
  await page.goto(`${guard.http}/console`);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', 'not-the-operator-token');
  await page.click('#login-submit');
  await page.locator('#error').waitFor({ state: 'visible' });
  assert.match(await text('#error'), /^token refused \(401\)/);
  assert.equal(await page.locator('#login').isVisible(), true);
  assert.equal(await page.locator('#dashboard').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
  await shot('01-token-refused');
});

test('the operator token logs in; a live session appears with its cost, End ends it as admin_ended', async () => {
  await page.fill('#token', OPERATOR_TOKEN);
  await page.click('#login-submit');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
  await page.locator('#sessions tbody td.empty', { hasText: 'No live sessions' }).waitFor();
  assert.equal(await page.locator('#error').isVisible(), false);
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length), 1);
  assert.equal(page.url(), `${guard.http}/console`, 'the token is not in the URL');
  assert.deepEqual(await page.context().cookies(), []);

  const started = await api(guard, 'POST', '/v1/sessions', SERVICE_TOKEN, { client_id: '203.0.113.7' });
  assert.equal(started.status, 201, started.text);
  const id = started.body.session_id;
  const usage = await api(guard, 'POST', `/v1/sessions/${id}/usage`, SERVICE_TOKEN, HALF_DOLLAR);
  assert.equal(usage.status, 200, usage.text);
  assert.equal(Number(usage.body.session_cost), 0.5);

  const row = page.locator(`#sessions tbody tr[data-session-id="${id}"]`);
  await row.locator('[data-testid=cost]', { hasText: '$0.50' }).waitFor({ timeout: 10_000 });
  assert.equal(Number((await row.locator('[data-testid=cost]').getAttribute('title')).slice(1)), 0.5);
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[1], '203.0.113.7');
  assert.equal(cells[2], 'api');
  assert.equal(cells[7], '$4.50', 'the remaining budget of the $5.00 session cap');
  await page.locator('#clients tbody tr[data-client-id="203.0.113.7"]').waitFor({ timeout: 15_000 });
  await shot('02-session-live');

  await row.locator('[data-testid=end]').click();
  await row.waitFor({ state: 'detached', timeout: 10_000 });
  assert.ok(dialogs.some((d) => d.type === 'confirm' && d.message.includes(id)), JSON.stringify(dialogs));
  // the page's end reasons come from the audit trail: once it shows the row, the row is there
  await page.locator('#end-reasons tbody tr[data-end-reason="admin_ended"]').waitFor({ timeout: 20_000 });
  const audited = await api(guard, 'GET', '/v1/audit/sessions?client=203.0.113.7', OPERATOR_TOKEN);
  assert.equal(audited.status, 200, audited.text);
  assert.equal(audited.body.sessions.find((s) => s.session_id === id)?.end_reason, 'admin_ended', audited.text);
  await page.locator('#sessions tbody td.empty', { hasText: 'No live sessions' }).waitFor();
  await shot('03-session-ended');
});

test('the spend chart plots the charged minute under the cap and threshold lines', async () => {
  const usd = await eventually(() => page.evaluate(() => [...document.querySelectorAll('#spend-chart circle')]
    .map((c) => Number(c.getAttribute('data-usd'))).filter((v) => v > 0)), { what: 'a plotted minute' });
  assert.ok(usd.length > 0);
  assert.equal(usd.reduce((a, b) => a + b, 0), 0.5, 'the one report of $0.50');
  const points = (await page.getAttribute('#spend-line', 'points')).trim().split(/\s+/);
  assert.equal(points.length, 60, 'one vertex per minute of the hour');
  assert.equal(await page.locator('#cap-line').count(), 1);
  assert.equal(await page.locator('#threshold-line').count(), 1);
  assert.match(await text('#spend-chart'), /hourly cap \$50\.00 \(above the scale\)/);
  assert.equal(await page.getAttribute('#cap-line', 'data-above-scale'), 'true', '$0.50 is drawn on its own scale');
  // the running total ends at the hour's $0.50, and the scale is the data's: the point is well above the axis
  const total = (await page.getAttribute('#total-line', 'points')).trim().split(/\s+/);
  assert.equal(total.length, 60);
  const [, lastY] = total[59].split(',').map(Number);
  const [, firstY] = total[0].split(',').map(Number);
  assert.ok(firstY - lastY > 100, `the running total climbs on the drawing: ${total[0]} → ${total[59]}`);
  const hover = await page.locator('#spend-chart circle title').first().textContent();
  assert.match(hover, /: \$0\.5\d* in the minute, \$0\.50 since /);
});

test('Trip opens the breaker on the cluster and Reset closes it', async () => {
  await page.locator('#breaker-state', { hasText: 'closed' }).waitFor();
  await page.click('#trip');
  await page.locator('#breaker-state', { hasText: 'open' }).waitFor({ timeout: 10_000 });
  assert.match(await text('#breaker-detail'), /console test/);
  const status = await (await fetch(`${guard.http}/status`)).json();
  assert.equal(status.circuit_breaker, 'open');
  await shot('04-breaker-open');

  await page.click('#reset');
  await page.locator('#breaker-state', { hasText: 'closed' }).waitFor({ timeout: 10_000 });
  assert.equal((await (await fetch(`${guard.http}/status`)).json()).circuit_breaker, 'closed');
  const kinds = dialogs.slice(-3).map((d) => d.type);
  assert.deepEqual(kinds, ['prompt', 'confirm', 'confirm']);
  await shot('05-breaker-reset');
});

test('on a phone\'s screen the page fits its width; each live session is a card with its End button', async () => {
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }))
    .newPage();
  try {
    await phone.goto(`${guard.http}/console`);
    await phone.fill('#token', OPERATOR_TOKEN);
    await phone.click('#login-submit');
    const started = await api(guard, 'POST', '/v1/sessions', SERVICE_TOKEN, { client_id: '203.0.113.9' });
    assert.equal(started.status, 201, started.text);
    const row = phone.locator(`#sessions tbody tr[data-session-id="${started.body.session_id}"]`);
    await row.waitFor({ timeout: 10_000 });
    const fit = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth, screen: window.innerWidth,
      chart: document.querySelector('#spend-chart').getBoundingClientRect().width,
      viewBox: document.querySelector('#spend-chart').getAttribute('viewBox'),
    }));
    assert.ok(fit.page <= fit.screen, `the page is no wider than the screen: ${JSON.stringify(fit)}`);
    assert.ok(fit.chart > 0 && fit.chart <= fit.screen, `the chart fits: ${JSON.stringify(fit)}`);
    assert.equal(fit.viewBox, '0 0 360 240', 'a narrow drawing keeps the labels readable');
    const cost = row.locator('[data-testid=cost]');
    assert.equal(await cost.getAttribute('data-label'), 'Cost');
    for (const locator of [row.locator('[data-testid=end]'), cost, phone.locator('#trip'), phone.locator('#reset'),
      phone.locator('#forget')]) {
      const box = await locator.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= fit.screen, `on screen without scrolling: ${JSON.stringify(box)}`);
    }
    await phone.screenshot({ path: join(SHOTS, '06-phone.png'), fullPage: true });
    assert.equal((await api(guard, 'DELETE', `/v1/sessions/${started.body.session_id}`, SERVICE_TOKEN)).status, 200);
  } finally {
    await phone.context().close();
  }
});

test('a node short of its grid\'s quorum shows "grid degraded" until its peer joins', async () => {
  // two members are required; the first starts alone, so its grid refuses to answer for cost state
  const members = [await freePort(), await freePort()];
  const cluster = {
    HAZELCAST_CLUSTER_NAME: `console-${randomBytes(6).toString('hex')}`, HAZELCAST_MIN_CLUSTER_SIZE: '2',
    HAZELCAST_MEMBERS: members.map((p) => `127.0.0.1:${p}`).join(','),
  };
  const nodes = [];
  const tab = await (await browser.newContext({ viewport: { width: 1100, height: 1000 } })).newPage();
  try {
    for (const [i, port] of members.entries()) {
      const nodeDir = join(dir, `quorum-${i}`);
      mkdirSync(nodeDir);
      if (i === 1) {
        await tab.locator('#error', { hasText: 'grid degraded' }).waitFor({ timeout: 10_000 });
        assert.match(await tab.locator('#error').textContent(), /^grid degraded: .*quorum/);
        assert.match(await tab.locator('#sessions tbody td.empty').textContent(), /^not loaded: grid degraded/);
        assert.match(await tab.locator('#spend-summary').textContent(), /^not loaded: grid degraded/);
        assert.match(await tab.locator('#breaker-detail').textContent(), /^not loaded: grid degraded/);
        await tab.screenshot({ path: join(SHOTS, '07-grid-degraded.png'), fullPage: true });
      }
      nodes.push(await startGuard({
        root: ROOT, dir: nodeDir, upstreamUrl: standin.url, serverKey: SERVER_KEY, tls: makeKeystore(nodeDir),
        env: { ...cluster, HAZELCAST_PORT: String(port), DUCKE_NODE_NAME: `console-${i}` },
      }));
      if (i === 0) {
        await tab.goto(`${nodes[0].http}/console`);
        await tab.fill('#token', OPERATOR_TOKEN);
        await tab.click('#login-submit');
      }
    }
    // the peer has joined: the same page, without a reload, shows the cluster and drops the banner
    await tab.locator('#sessions tbody td.empty', { hasText: 'No live sessions' }).waitFor({ timeout: 60_000 });
    await tab.locator('#error').waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(await tab.locator('#breaker-state').textContent(), 'closed');
    await tab.screenshot({ path: join(SHOTS, '08-quorum-back.png'), fullPage: true });
  } finally {
    await tab.context().close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}, { timeout: 240_000 });

test('a node that goes away is named "node unreachable"; the last view stays on the page', async () => {
  await page.locator('#breaker-state', { hasText: 'closed' }).waitFor();
  await guard.stop();
  await page.locator('#error', { hasText: 'node unreachable' }).waitFor({ timeout: 10_000 });
  assert.match(await text('#error'), /^node unreachable \(GET \/v1\/operator\/overview/);
  assert.equal(await text('#breaker-state'), 'closed', 'the last good view is kept');
  assert.equal(await page.locator('#dashboard').isVisible(), true);
  await shot('09-node-unreachable');
});

test('Forget token empties the tab\'s storage and shows the login form', async () => {
  await page.click('#forget');
  await page.locator('#login').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.locator('#dashboard').isVisible(), false);
  assert.deepEqual(page.errors, [], 'no script errors on the page');
});
