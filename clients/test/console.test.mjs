// The operator console (/console) in headless Chromium against the real guard jar: a refused token,
// logging in, a backend's session appearing with its cost, ending it from the page (admin_ended in
// the audit trail), tripping and resetting the breaker, and the spend chart. Screenshots in target/console/.
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
import { OPERATOR_TOKEN, SERVICE_TOKEN, api, eventually, startGuard } from '../lib/guard.mjs';
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
  guard = await startGuard({
    root: ROOT, dir, upstreamUrl: standin.url, serverKey: SERVER_KEY, tls: makeKeystore(dir),
    // the page's polls and this test's calls all come from 127.0.0.1: their default limit is not under test
    env: { RATE_LIMIT_DEFAULT: '1000/minute' },
  });
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
  const ended = await eventually(async () => {
    const r = await api(guard, 'GET', '/v1/audit/sessions?client=203.0.113.7', OPERATOR_TOKEN);
    return r.status === 200 && r.body.sessions.find((s) => s.session_id === id);
  }, { what: 'the ended session in the audit trail' });
  assert.equal(ended.end_reason, 'admin_ended');
  await page.locator('#end-reasons tbody tr[data-end-reason="admin_ended"]').waitFor({ timeout: 20_000 });
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
  assert.match(await text('#spend-chart'), /hourly cap \$50\.00/);
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

test('Forget token empties the tab\'s storage and shows the login form', async () => {
  await page.click('#forget');
  await page.locator('#login').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.locator('#dashboard').isVisible(), false);
  assert.deepEqual(page.errors, [], 'no script errors on the page');
});
