// WebRTC calls in a real browser: headless Chromium runs the official SDK's RealtimeSession with
// its WebRTC transport (OpenAIRealtimeWebRTC), baseUrl the guard's /v1/realtime/calls and an ek_
// secret as its key. The provider is a stand-in WebRTC peer (lib/rtc-standin.mjs) that also serves
// the sideband and the hangup; its own bill per call is the oracle for the guard's charge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKeystore } from '../lib/keystore.mjs';
import { INF_OUTPUT_TOKENS, TICK_MS, TOKENS_PER_TICK, startRtcStandIn } from '../lib/rtc-standin.mjs';
import { OPERATOR_TOKEN, SERVICE_TOKEN, api, eventually, mintSecret, startGuard } from '../lib/guard.mjs';
import { CHROMIUM, bundlePage, launchBrowser, screenshot, servePage } from '../lib/browser.mjs';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const ARTIFACTS = join(ROOT, 'target', 'webrtc');
const SERVER_KEY = `sk-server-${randomBytes(12).toString('hex')}`;
// gpt-realtime in config.yml: 100 USD per 1M input tokens, 200 per 1M output (no realtime split):
// in micro-USD, 100 per input token and 200 per output token
const PRICE_MICROS = { input: 100, output: 200 };
const billMicros = (bill) => bill.input_tokens * PRICE_MICROS.input + bill.output_tokens * PRICE_MICROS.output;
const micros = (usd) => Math.round(Number(usd) * 1_000_000);
// the SDK hears of a hangup within ~30 ms, but about once in twelve Chromium learns it only by ICE consent (11-13 s)
const SDK_END_MS = 30_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let dir;
let browser;
let pageServer;
const figures = {};
const minted = [];
const pages = [];

const started = Date.now();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duck-e-webrtc-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const bundle = await bundlePage(dir);
  pageServer = await servePage(bundle);
  browser = await launchBrowser();
  console.log(`webrtc: page bundled and chromium started in ${Date.now() - started} ms`);
}, { timeout: 120_000 });

after(async () => {
  writeFileSync(join(ARTIFACTS, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  if (Object.keys(figures).length) console.log(`webrtc figures: ${JSON.stringify(figures, null, 2)}`);
  const closing = Date.now();
  await browser?.close();
  await pageServer?.close();
  console.log(`webrtc: chromium closed in ${Date.now() - closing} ms; ${Date.now() - started} ms since the file started`);
  if (dir && !process.env.CLIENTS_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
});

/** A new page that records every request and response it made (headers, and the guard's bodies). */
async function openPage(name, { captureBodiesFrom } = {}) {
  const page = await browser.newPage(pageServer.origin);
  page.name = name;
  page.traffic = [];
  page.on('request', (req) => page.traffic.push({ kind: 'request', url: req.url(), method: req.method(), headers: req.headers() }));
  page.on('response', async (res) => {
    const entry = { kind: 'response', url: res.url(), status: res.status(), headers: await res.allHeaders().catch(() => res.headers()) };
    page.traffic.push(entry);
    if (captureBodiesFrom && res.url().startsWith(captureBodiesFrom)) entry.body = await res.text().catch(() => '');
  });
  pages.push(page);
  return page;
}

const connect = (page, baseUrl, apiKey) => page.evaluate(({ baseUrl, apiKey }) => window.rtc.connect({ baseUrl, apiKey }), { baseUrl, apiKey });
const pageState = (page) => page.evaluate(() => ({ status: window.rtc.status(), types: window.rtc.types(),
  connection: window.rtc.state.connection, errors: window.rtc.state.errors, closedAt: window.rtc.state.closedAt,
  events: window.rtc.state.events.map((e) => e.event) }));
const pageEvents = async (page, type) => (await pageState(page)).events.filter((e) => e.type === type);

describe('the stand-in provider on its own (the browser dials it directly)', () => {
  // a key shaped like a client secret: the SDK in a browser sends nothing else
  const KEY = `ek_standin_${randomBytes(8).toString('hex')}`;
  let standin;
  before(async () => { standin = await startRtcStandIn({ apiKey: KEY }); });
  after(async () => { await standin?.close(); });

  test('the SDK connects over WebRTC, gets session.updated on its data channel and a metered response', async () => {
    const page = await openPage('standin-turn');
    const r = await connect(page, standin.callsUrl, KEY);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.match(r.callId, /^rtc_\d{4}$/);
    const call = standin.call(r.callId);
    assert.equal(standin.seen.offers.at(-1).contentType, 'application/sdp');
    assert.deepEqual(call.track && call.track.type, 'audio', 'the browser sent its (fake) microphone');
    await page.evaluate(() => window.rtc.say('What does a duck say?'));
    const [done] = await eventually(async () => { const d = await pageEvents(page, 'response.done'); return d.length && d; },
      { what: 'response.done on the page' });
    assert.equal(done.response.usage.output_tokens, INF_OUTPUT_TOKENS, 'no limit: the stand-in\'s "inf" cap');
    assert.equal(call.bill.output_tokens, INF_OUTPUT_TOKENS);
    assert.ok(call.clientEvents.some((e) => e.source === 'datachannel' && e.event.type === 'session.update'));
    await screenshot(page, 'standin-turn');
    await page.evaluate(() => window.rtc.close());
    await eventually(() => call.ended, { what: 'the stand-in sees the browser leave' });
  });

  test('like the provider: one active response per conversation, out-of-band ones in parallel, cancel by id', async () => {
    const page = await openPage('standin-parallel');
    const r = await connect(page, standin.callsUrl, KEY);
    assert.equal(r.ok, true, JSON.stringify(r));
    const call = standin.call(r.callId);
    await page.evaluate(() => {
      window.rtc.raw({ type: 'response.create', response: { max_output_tokens: 'inf' } });
      window.rtc.raw({ type: 'response.create', response: { max_output_tokens: 'inf' } });
      for (let i = 0; i < 2; i++) window.rtc.raw({ type: 'response.create', response: { conversation: 'none', max_output_tokens: 200 } });
    });
    await eventually(() => call.responses.length === 3, { what: 'three responses' });
    const errors = await eventually(async () => { const e = await pageEvents(page, 'error'); return e.length && e; }, { what: 'the error' });
    assert.equal(errors[0].error.code, 'conversation_already_has_active_response');
    const [first] = call.responses;
    await page.evaluate((id) => window.rtc.raw({ type: 'response.cancel', response_id: id }), first.id);
    await eventually(() => call.responses.every((x) => x.status !== 'in_progress'), { what: 'all responses done' });
    assert.equal(first.status, 'cancelled');
    assert.ok(first.outputTokens < INF_OUTPUT_TOKENS);
    assert.deepEqual(call.responses.slice(1).map((x) => [x.conversation, x.status, x.outputTokens]), [['none', 'incomplete', 200], ['none', 'incomplete', 200]]);
    await page.evaluate(() => window.rtc.close());
  });

  test('a sideband sees the call\'s events and may cancel; the hangup ends the call and the SDK sees it', async () => {
    const { default: WebSocket } = await import('ws');
    const page = await openPage('standin-hangup');
    const r = await connect(page, standin.callsUrl, KEY);
    assert.equal(r.ok, true, JSON.stringify(r));
    const call = standin.call(r.callId);
    const refused = await new Promise((resolve) => {
      const ws = new WebSocket(`${standin.url}?call_id=${r.callId}`, { headers: { Authorization: 'Bearer sk-wrong' } });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
    });
    assert.equal(refused, 401);
    const sideband = new WebSocket(`${standin.url}?call_id=${r.callId}`, { headers: { Authorization: `Bearer ${KEY}` } });
    const heard = [];
    sideband.on('message', (d) => heard.push(JSON.parse(d.toString())));
    await new Promise((resolve, reject) => { sideband.on('open', resolve); sideband.on('error', reject); });
    await page.evaluate(() => window.rtc.raw({ type: 'response.create', response: { max_output_tokens: 'inf' } }));
    const created = await eventually(() => heard.find((e) => e.type === 'response.created'), { what: 'response.created on the sideband' });
    sideband.send(JSON.stringify({ type: 'response.cancel', response_id: created.response.id }));
    await eventually(() => heard.find((e) => e.type === 'response.done'), { what: 'response.done on the sideband' });
    assert.equal(call.responses[0].cancelSource, 'sideband');
    const closed = new Promise((resolve) => sideband.on('close', resolve));
    const h = await fetch(`${standin.callsUrl}/${r.callId}/hangup`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(h.status, 200);
    await closed;
    await eventually(async () => (await pageState(page)).status.status === 'disconnected', { what: 'the SDK sees the end', timeoutMs: SDK_END_MS });
    assert.equal(call.ended, 'hangup');
    const late = await fetch(`${standin.callsUrl}/${r.callId}/hangup`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(late.status, 404);
  });
});

describe('through the guard: WebRTC calls metered and capped', { skip: !existsSync(join(ROOT, 'target', 'duck-e.jar')) && 'target/duck-e.jar is missing' }, () => {
  let tls;
  let standin;
  let guard;
  let callsUrl;

  before(async () => {
    tls = makeKeystore(dir);
    standin = await startRtcStandIn({ apiKey: SERVER_KEY });
    guard = await startGuard({
      root: ROOT, dir, upstreamUrl: standin.url, serverKey: SERVER_KEY, tls,
      env: {
        RELAY_CLIENT_AUTH: 'required',
        // the page is served from its own origin, as an operator's site would be
        ALLOWED_ORIGINS: pageServer.origin,
        // every call here comes from 127.0.0.1: the address's handshake limit is not under test
        RATE_LIMIT_WEBSOCKET: '200/minute',
        AUDIT_CHECKPOINT_INTERVAL: '1s',
      },
    });
    callsUrl = `${guard.http}/v1/realtime/calls`;
  }, { timeout: 120_000 });

  after(async () => {
    await guard?.stop();
    await standin?.close();
  });

  async function secret(clientId, extra = {}) {
    const s = await mintSecret(guard, { client_id: clientId, ...extra });
    minted.push(s.value);
    return s;
  }

  /** The guard's ended session: its audit row once it has an end reason. */
  async function endedRow(clientId) {
    return eventually(async () => {
      const audit = await api(guard, 'GET', `/v1/audit/sessions?client=${encodeURIComponent(clientId)}`, OPERATOR_TOKEN);
      const row = audit.status === 200 && audit.body.sessions[0];
      return row && row.end_reason && row.ended_at && row;
    }, { what: `the ended audit row of ${clientId}`, timeoutMs: 20_000 });
  }

  const explain = (page, extra = {}) => async () => JSON.stringify({ ...extra, page: await pageState(page).catch(() => null),
    console: page.consoleLog.slice(-20), guard: guard.logTail(30) }, null, 1);

  test('(a) a turn over WebRTC is metered exactly: the stand-in\'s bill at the config prices is the guard\'s charge', async () => {
    const clientId = `rtc-turn-${randomBytes(3).toString('hex')}`;
    const s = await secret(clientId, { max_cost_usd: 0.5 });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-turn', { captureBodiesFrom: guard.http });
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const offer = standin.seen.offers[offersBefore];
    assert.ok(offer, 'the offer reached the provider');
    assert.equal(offer.headers.authorization, `Bearer ${SERVER_KEY}`, 'the provider got the server key');
    assert.match(offer.contentType, /^multipart\/form-data/, 'forwarded in the unified interface');
    assert.equal(offer.session.type, 'realtime');
    assert.equal(offer.session.model, 'gpt-realtime');
    assert.equal(typeof offer.session.max_output_tokens, 'number', `the guard's clamp: ${JSON.stringify(offer.session)}`);
    // the guard's Location names its own session (the provider's call id stays with the guard)
    assert.match(r.callId ?? '', /\S/, 'the SDK read the call id from the guard\'s Location');
    assert.notEqual(r.callId, offer.callId);
    const live = await api(guard, 'GET', `/v1/sessions/${r.callId}`, SERVICE_TOKEN);
    assert.equal(live.status, 200, live.text);
    assert.equal(live.body.client_id, clientId);
    const call = standin.call(offer.callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    const sideband = standin.seen.sidebands.find((x) => x.callId === offer.callId && x.status === 101);
    assert.equal(sideband.headers.authorization, `Bearer ${SERVER_KEY}`);

    await page.evaluate(() => window.rtc.say('What does a duck say?'));
    const [done] = await eventually(async () => { const d = await pageEvents(page, 'response.done'); return d.length && d; },
      { what: 'response.done on the page', timeoutMs: 20_000 });
    const [resp] = call.responses;
    figures.turn = { clamp_tokens: resp.limit, output_tokens: resp.outputTokens, status: resp.status };
    assert.equal(done.response.usage.output_tokens, resp.outputTokens);
    await screenshot(page, 'guard-turn');
    await page.evaluate(() => window.rtc.close());
    await eventually(() => call.ended, { what: 'the call ends at the stand-in' });

    const row = await endedRow(clientId);
    const view = await api(guard, 'GET', `/v1/sessions/${r.callId}`, SERVICE_TOKEN);
    assert.equal(row.session_id, r.callId);
    const expected = billMicros(call.bill);
    figures.turn.billed_usd = expected / 1e6;
    figures.turn.charged_usd = row.cost_usd;
    figures.turn.end_reason = row.end_reason;
    assert.equal(micros(row.cost_usd), expected, `audit row ${JSON.stringify(row)} vs bill ${JSON.stringify(call.bill)}`);
    assert.equal(row.charged_responses, call.bill.responses);
    assert.equal(view.status, 200, view.text);
    assert.equal(micros(view.body.cost_usd), expected, view.text);
    assert.equal(view.body.charged_responses, call.bill.responses);
    assert.equal(view.body.tokens.input_total, call.bill.input_tokens);
    assert.equal(view.body.tokens.output_total, call.bill.output_tokens);
    // the browser sent the secret, never saw the server key; the provider never saw the secret
    const offerRequest = page.traffic.find((t) => t.kind === 'request' && t.url.startsWith(callsUrl) && t.method === 'POST');
    assert.equal(offerRequest.headers.authorization, `Bearer ${s.value}`);
    const browserSaw = JSON.stringify({ traffic: page.traffic, state: await pageState(page), console: page.consoleLog });
    assert.ok(!browserSaw.includes(SERVER_KEY), 'the server key reached the browser');
    assert.equal(standin.seen.refused.length, 0, JSON.stringify(standin.seen.refused));
  });

  test('(b) a hostile page: "inf" and parallel out-of-band responses on its data channel are cancelled through the sideband', async () => {
    const clientId = `rtc-hostile-${randomBytes(3).toString('hex')}`;
    const cap = 1.0;
    const s = await secret(clientId, { max_cost_usd: cap });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-hostile');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    const clamp = call.session.max_output_tokens;
    await page.evaluate(() => {
      window.rtc.raw({ type: 'response.create', response: { max_output_tokens: 'inf' } });
      for (let i = 0; i < 3; i++) window.rtc.raw({ type: 'response.create', response: { conversation: 'none', max_output_tokens: 'inf' } });
    });
    await eventually(() => call.responses.length === 4 && call.responses.every((x) => x.status !== 'in_progress'),
      { what: 'the four hostile responses ended', timeoutMs: 20_000 });
    const reactions = call.responses.map((x) => ({
      id: x.id, conversation: x.conversation, status: x.status, cancel_source: x.cancelSource,
      reaction_ms: x.cancelAt ? Number((x.cancelAt - x.createdAt).toFixed(1)) : null,
      output_tokens: x.outputTokens, over_clamp_tokens: Math.max(0, x.outputTokens - (typeof clamp === 'number' ? clamp : 0)),
    }));
    figures.hostile = { clamp_tokens: clamp, tick_ms: TICK_MS, tokens_per_tick: TOKENS_PER_TICK, responses: reactions };
    await screenshot(page, 'guard-hostile');
    for (const x of reactions) {
      assert.equal(x.status, 'cancelled', `every hostile response is cancelled: ${JSON.stringify(reactions)}`);
      assert.equal(x.cancel_source, 'sideband', JSON.stringify(reactions));
      assert.ok(x.output_tokens < INF_OUTPUT_TOKENS, JSON.stringify(reactions));
    }
    await page.evaluate(() => window.rtc.close());
    await eventually(() => call.ended, { what: 'the call ends at the stand-in' });
    const row = await endedRow(clientId);
    const billed = billMicros(call.bill);
    figures.hostile.billed_usd = billed / 1e6;
    figures.hostile.charged_usd = row.cost_usd;
    figures.hostile.max_reaction_ms = Math.max(...reactions.map((x) => x.reaction_ms));
    figures.hostile.max_over_clamp_tokens = Math.max(...reactions.map((x) => x.over_clamp_tokens));
    assert.equal(micros(row.cost_usd), billed, `the guard charged what the provider billed: ${JSON.stringify(row)} ${JSON.stringify(call.bill)}`);
    assert.ok(billed <= micros(cap), `billed ${billed / 1e6} within the cap ${cap}`);
  });

  test('(b2) a hostile session.update (model, clamp, tools) is undone by the guard\'s own session.update', async () => {
    const clientId = `rtc-update-${randomBytes(3).toString('hex')}`;
    const s = await secret(clientId, { max_cost_usd: 0.5 });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-update');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    const before = structuredClone(call.session);
    const since = call.clientEvents.length;
    // the session's limit raised and a response without its own limit right behind it, before the guard can undo it
    await page.evaluate(() => {
      window.rtc.raw({ type: 'session.update', session: { type: 'realtime', model: 'gpt-4o-realtime-preview',
        max_output_tokens: 'inf', tools: [{ type: 'mcp', server_label: 'x', server_url: 'https://mcp.example' }] } });
      window.rtc.raw({ type: 'response.create' });
    });
    await eventually(() => call.clientEvents.slice(since).some((e) => e.source === 'sideband' && e.event.type === 'session.update'),
      { what: 'the guard\'s session.update on the sideband' });
    // restored: the model, a numeric clamp (the guard may set a new one once the raced response is charged), the tools
    await eventually(() => call.session.model === before.model && typeof call.session.max_output_tokens === 'number'
      && JSON.stringify(call.session.tools) === JSON.stringify(before.tools), { what: 'the session restored' })
      .catch((e) => { throw new Error(`${e.message}: now ${JSON.stringify(call.session)}; events ${JSON.stringify(call.clientEvents.slice(since))}`); });
    const restore = call.clientEvents.slice(since).find((e) => e.source === 'sideband' && e.event.type === 'session.update');
    const hostile = call.clientEvents.slice(since).find((e) => e.source === 'datachannel');
    assert.equal(restore.event.session.model, before.model, JSON.stringify(restore.event));
    const restoredClamp = restore.event.session.max_output_tokens;
    assert.ok(typeof restoredClamp === 'number' && restoredClamp <= before.max_output_tokens, JSON.stringify(restore.event));
    assert.deepEqual(restore.event.session.tools, before.tools, JSON.stringify(restore.event));
    await eventually(() => call.responses.length === 1 && call.responses[0].status !== 'in_progress', { what: 'the raced response ended' });
    const [raced] = call.responses;
    figures.undo_session_update_ms = Number((restore.at - hostile.at).toFixed(1));
    figures.raced_response = { limit_seen: raced.object.max_output_tokens, status: raced.status, cancel_source: raced.cancelSource,
      reaction_ms: raced.cancelAt ? Number((raced.cancelAt - raced.createdAt).toFixed(1)) : null, output_tokens: raced.outputTokens };
    // two outcomes are right, depending on which reached the provider first: the page's response.create (then the
    // response saw "inf" and the sideband cancels it) or the guard's restoring session.update (then the response saw the
    // restored clamp and stops there on its own)
    if (typeof raced.object.max_output_tokens === 'number') {
      assert.ok(raced.object.max_output_tokens <= before.max_output_tokens, JSON.stringify(figures.raced_response));
      assert.ok(raced.outputTokens <= raced.object.max_output_tokens, JSON.stringify(figures.raced_response));
    } else {
      assert.equal(raced.status, 'cancelled', JSON.stringify(figures.raced_response));
      assert.equal(raced.cancelSource, 'sideband');
    }
    assert.ok(raced.outputTokens < INF_OUTPUT_TOKENS);
    await page.evaluate(() => window.rtc.close());
  });

  test('(c) a call at its cap is hung up: the guard cancels, charges, hangs up, and the SDK sees the end', async () => {
    const clientId = `rtc-cap-${randomBytes(3).toString('hex')}`;
    const cap = 0.3;
    const s = await secret(clientId, { max_cost_usd: cap });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-cap');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    // turns until the guard ends the call (each within the clamp the guard sets)
    for (let turn = 0; turn < 10 && !call.ended; turn++) {
      const n = call.responses.length;
      const st = await pageState(page);
      if (st.status.status !== 'connected') break;
      await page.evaluate(() => { try { window.rtc.say('Quack again.'); } catch (e) { /* the call ended */ } });
      await eventually(() => call.ended || (call.responses.length > n && call.responses.at(-1).status !== 'in_progress'),
        { what: `turn ${turn}`, timeoutMs: 20_000 });
      await sleep(100);
    }
    await eventually(() => call.ended, { what: 'the guard ends the call', timeoutMs: 20_000 });
    const hangup = standin.seen.hangups.find((h) => h.callId === call.id);
    assert.ok(hangup, `the stand-in saw the hangup (ended: ${call.ended})`);
    assert.equal(hangup.authorization, `Bearer ${SERVER_KEY}`);
    assert.equal(hangup.status, 200);
    assert.equal(call.ended, 'hangup');
    await eventually(async () => (await pageState(page)).status.status === 'disconnected', { what: 'the SDK sees the end', timeoutMs: SDK_END_MS });
    const st = await pageState(page);
    assert.ok(st.connection.some((c) => c.status === 'disconnected'), JSON.stringify(st.connection));
    await screenshot(page, 'guard-cap');
    const row = await endedRow(clientId);
    const billed = billMicros(call.bill);
    figures.cap = { cap_usd: cap, responses: call.bill.responses, billed_usd: billed / 1e6, charged_usd: row.cost_usd,
      overspend_usd: Math.max(0, billed - micros(cap)) / 1e6, end_reason: row.end_reason,
      hangup_after_last_done_ms: Number((hangup.at - Math.max(...call.responses.map((x) => x.doneAt ?? 0))).toFixed(1)),
      sdk_saw_end_after_hangup_ms: Number((st.closedAt - hangup.at).toFixed(1)) };
    assert.equal(micros(row.cost_usd), billed, `the guard charged what the provider billed: ${JSON.stringify(row)} ${JSON.stringify(call.bill)}`);
    assert.ok(billed <= micros(cap), `billed ${billed / 1e6} USD within the cap ${cap}`);
  });

  test('(e) a burst of parallel responses at a small cap: each is cancelled and charged, the call is hung up; the overspend is measured', async () => {
    const clientId = `rtc-burst-${randomBytes(3).toString('hex')}`;
    const cap = 0.3;
    const burst = 8;
    const s = await secret(clientId, { max_cost_usd: cap });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-burst');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) window.rtc.raw({ type: 'response.create', response: { conversation: 'none', max_output_tokens: 'inf' } });
    }, burst);
    await eventually(() => call.ended, { what: 'the guard hangs the call up', timeoutMs: 20_000 });
    await eventually(async () => (await pageState(page)).status.status === 'disconnected', { what: 'the SDK sees the end', timeoutMs: SDK_END_MS });
    await screenshot(page, 'guard-burst');
    const row = await endedRow(clientId);
    const billed = billMicros(call.bill);
    const reactions = call.responses.filter((x) => x.cancelAt).map((x) => x.cancelAt - x.createdAt);
    const inputMicros = (call.bill.input_tokens / call.bill.responses) * PRICE_MICROS.input;
    figures.burst = { cap_usd: cap, sent: burst, reached_provider: call.responses.length, cancelled_by_sideband: call.responses.filter((x) => x.cancelSource === 'sideband').length,
      cut_by_hangup: call.responses.filter((x) => x.status === 'hangup').length, output_tokens: call.bill.output_tokens,
      billed_usd: billed / 1e6, charged_usd: row.cost_usd, overspend_usd: Math.max(0, billed - micros(cap)) / 1e6,
      input_usd_per_response: inputMicros / 1e6, max_reaction_ms: reactions.length ? Number(Math.max(...reactions).toFixed(1)) : null,
      end_reason: row.end_reason, ended: call.ended };
    assert.equal(call.ended, 'hangup', JSON.stringify(figures.burst));
    assert.ok(call.responses.every((x) => x.status === 'cancelled' || x.status === 'hangup'), JSON.stringify(figures.burst));
    const t0 = call.createdAt;
    const timeline = [...call.serverEvents.filter((e) => /^response\.(created|done)$/.test(e.event.type))
      .map((e) => `${(e.at - t0).toFixed(1)} provider→ ${e.event.type} ${e.event.response.id} ${e.event.response.status}`),
    ...call.clientEvents.filter((e) => e.event.type !== 'response.create' || e.source === 'sideband')
      .map((e) => `${(e.at - t0).toFixed(1)} ${e.source}→provider ${e.event.type} ${e.event.response_id ?? ''}`),
    ...standin.seen.hangups.filter((h) => h.callId === call.id).map((h) => `${(h.at - t0).toFixed(1)} hangup ${h.status}`)]
      .sort((a, b) => parseFloat(a) - parseFloat(b));
    // every response whose response.done reached the guard is charged exactly; those the hangup cut (started
    // while the guard ended the call) are test (f)'s
    const reported = call.responses.filter((x) => x.status !== 'hangup')
      .reduce((m, x) => m + x.usage.input_tokens * PRICE_MICROS.input + x.usage.output_tokens * PRICE_MICROS.output, 0);
    figures.burst.unmetered_usd = (billed - micros(row.cost_usd)) / 1e6;
    assert.equal(micros(row.cost_usd), reported, `the guard charged every reported response: ${JSON.stringify(figures.burst)} ${JSON.stringify(call.bill)}\n`
      + `${timeline.join('\n')}\n${guard.logTail(60).split('\n').filter((l) => l.includes(r.callId) || /WARN|ERROR/.test(l)).join('\n')}`);
    // what a burst can overspend: the input of each response the provider started before the hangup, and
    // the output generated before each cancel arrived
    const bound = call.responses.length * inputMicros + call.bill.output_tokens * PRICE_MICROS.output;
    assert.ok(billed <= micros(cap) + bound, JSON.stringify(figures.burst));
  });

  test('(h) a page that keeps starting responses under a large cap is hung up after more than 5 cancels', async () => {
    const clientId = `rtc-flood-${randomBytes(3).toString('hex')}`;
    const cap = 3.0;
    const flood = 20;
    const s = await secret(clientId, { max_cost_usd: cap });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-flood');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) window.rtc.raw({ type: 'response.create', response: { conversation: 'none', max_output_tokens: 'inf' } });
    }, flood);
    await eventually(() => call.ended, { what: 'the guard hangs the call up', timeoutMs: 20_000 });
    await eventually(async () => (await pageState(page)).status.status === 'disconnected', { what: 'the SDK sees the end', timeoutMs: SDK_END_MS });
    await screenshot(page, 'guard-flood');
    const row = await endedRow(clientId);
    const billed = billMicros(call.bill);
    const reported = call.responses.filter((x) => x.status !== 'hangup')
      .reduce((m, x) => m + x.usage.input_tokens * PRICE_MICROS.input + x.usage.output_tokens * PRICE_MICROS.output, 0);
    figures.flood = { cap_usd: cap, sent: flood, reached_provider: call.responses.length,
      cancelled_by_sideband: call.responses.filter((x) => x.cancelSource === 'sideband').length,
      cut_by_hangup: call.responses.filter((x) => x.status === 'hangup').length, output_tokens: call.bill.output_tokens,
      billed_usd: billed / 1e6, charged_usd: row.cost_usd, unmetered_usd: (billed - micros(row.cost_usd)) / 1e6, end_reason: row.end_reason };
    assert.equal(call.ended, 'hangup', JSON.stringify(figures.flood));
    assert.ok(billed < micros(cap), JSON.stringify(figures.flood));
    assert.ok(figures.flood.cancelled_by_sideband >= 6, JSON.stringify(figures.flood));
    assert.equal(micros(row.cost_usd), reported, `the guard charged every reported response: ${JSON.stringify(figures.flood)}`);
  });

  // Responses the page starts while the guard ends the call go straight to the provider. The guard hangs
  // up first, then reads the sideband until the provider closes it: a response.created still on its way is
  // cancelled and charged by its usage; one the hangup cut off (this stand-in bills what it used and sends no
  // response.done) is charged its reservation, estimated. Never less than the provider billed.
  test('(f) responses the page starts while the guard ends the call (after its last cancel, before its hangup) are charged too', async () => {
    const clientId = `rtc-late-${randomBytes(3).toString('hex')}`;
    const cap = 0.3;
    const s = await secret(clientId, { max_cost_usd: cap });
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-late');
    const r = await connect(page, callsUrl, s.value);
    assert.equal(r.ok, true, await explain(page, r)());
    const call = standin.call(standin.seen.offers[offersBefore].callId);
    await eventually(() => call.sidebands.size === 1, { what: 'the guard\'s sideband' });
    const oob = { type: 'response.create', response: { conversation: 'none', max_output_tokens: 'inf' } };
    // a first wave brings the call to its cap; a second one leaves the page the moment it hears the first
    // cancelled response.done, while the guard is ending the call
    await page.evaluate((e) => {
      window.rtc.on('response.done', [e, e, e, e]);
      for (let i = 0; i < 4; i++) window.rtc.raw(e);
    }, oob);
    await eventually(() => call.ended, { what: 'the guard hangs the call up', timeoutMs: 20_000 });
    const row = await endedRow(clientId);
    const billed = billMicros(call.bill);
    const cut = call.responses.filter((x) => x.status === 'hangup');
    figures.late = { cap_usd: cap, reached_provider: call.responses.length, cancelled_by_sideband: call.responses.filter((x) => x.cancelSource === 'sideband').length,
      cut_by_hangup: cut.length, cut_output_tokens: cut.reduce((n, x) => n + x.outputTokens, 0),
      billed_usd: billed / 1e6, charged_usd: row.cost_usd, unmetered_usd: (billed - micros(row.cost_usd)) / 1e6 };
    if (cut.length === 0) {
      assert.equal(micros(row.cost_usd), billed, `the guard charged what the provider billed: ${JSON.stringify(figures.late)}`);
    } else {
      // cut off by the hangup without a usage report: charged its reservation, never less than billed
      assert.ok(micros(row.cost_usd) >= billed, `never under what the provider billed: ${JSON.stringify(figures.late)}`);
    }
  });

  test('(g) the unified interface: a multipart offer\'s session goes to the provider with the guard\'s model and clamp; a tool type not allowed is refused before forwarding', async () => {
    const clientId = `rtc-unified-${randomBytes(3).toString('hex')}`;
    const s = await secret(clientId, { max_cost_usd: 0.5 });
    const page = await openPage('guard-unified');
    const session = { type: 'realtime', model: 'gpt-realtime', instructions: 'Quack politely.', max_output_tokens: 'inf',
      tools: [{ type: 'function', name: 'weather', description: 'The weather', parameters: { type: 'object', properties: {} } }] };
    const offersBefore = standin.seen.offers.length;
    const r = await page.evaluate((a) => window.rtc.unified(a), { url: callsUrl, apiKey: s.value, session });
    assert.equal(r.status, 201, JSON.stringify(r));
    assert.match(r.location ?? '', /^\/v1\/realtime\/calls\/\S+/, 'Location is exposed to the page');
    assert.match(r.contentType ?? '', /^application\/sdp/);
    assert.equal(r.opened, true, 'the data channel opened');
    assert.equal(r.events[0]?.type, 'session.created', JSON.stringify(r.events));
    const offer = standin.seen.offers[offersBefore];
    assert.equal(offer.session.instructions, 'Quack politely.');
    assert.deepEqual(offer.session.tools, session.tools);
    assert.equal(offer.session.model, 'gpt-realtime');
    assert.equal(typeof offer.session.max_output_tokens, 'number', 'the page\'s "inf" is the guard\'s clamp');
    const call = standin.call(offer.callId);
    await eventually(() => call.ended, { what: 'the call ends when the page closes it' });

    const refused = await page.evaluate((a) => window.rtc.unified(a), { url: callsUrl, apiKey: s.value,
      session: { ...session, tools: [{ type: 'mcp', server_label: 'x', server_url: 'https://mcp.example' }] } });
    assert.equal(refused.status, 400, JSON.stringify(refused));
    assert.match(refused.body, /mcp/);
    assert.equal(standin.seen.offers.length, offersBefore + 1, 'the refused offer never reached the provider');
  });

  test('(d) refused before forwarding: no secret or an unknown one is 401, a client over its concurrent calls is 429', async () => {
    const offersBefore = standin.seen.offers.length;
    const page = await openPage('guard-refused');
    // CORS: the page's origin is allowed, and the SDK reads the refusal
    const unknown = await connect(page, callsUrl, `ek_${randomBytes(16).toString('hex')}`);
    assert.equal(unknown.ok, false);
    assert.match(unknown.error, /status 401/, JSON.stringify(unknown));
    await screenshot(page, 'guard-refused-401');
    const sdp = standin.seen.offers.at(-1)?.sdp ?? 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n';
    const bare = await fetch(callsUrl, { method: 'POST', headers: { 'Content-Type': 'application/sdp', Origin: pageServer.origin }, body: sdp });
    assert.equal(bare.status, 401, await bare.text());

    // a client's concurrent slots (3 by default): three live calls, then a fourth offer
    const clientId = `rtc-busy-${randomBytes(3).toString('hex')}`;
    const s = await secret(clientId, { max_cost_usd: 0.2 });
    const live = [];
    for (let i = 0; i < 3; i++) {
      const p = await openPage(`guard-busy-${i}`);
      const c = await connect(p, callsUrl, s.value);
      assert.equal(c.ok, true, await explain(p, c)());
      live.push(p);
    }
    const offersLive = standin.seen.offers.length;
    const fourth = await openPage('guard-busy-refused');
    const refused = await connect(fourth, callsUrl, s.value);
    assert.equal(refused.ok, false);
    assert.match(refused.error, /status 429/, JSON.stringify(refused));
    await screenshot(fourth, 'guard-refused-429');
    assert.equal(standin.seen.offers.length, offersLive, 'the refused offer never reached the provider');
    assert.equal(offersLive - offersBefore, 3, 'only the three admitted offers reached the provider');
    for (const p of live) await p.evaluate(() => window.rtc.close());
  });

  test('the provider never saw a client secret; every request it got carried the server key', () => {
    assert.ok(minted.length >= 4);
    const providerSaw = JSON.stringify({ offers: standin.seen.offers, sidebands: standin.seen.sidebands, hangups: standin.seen.hangups,
      events: [...standin.calls.values()].map((c) => c.clientEvents.filter((e) => e.source === 'sideband')) });
    for (const value of minted) assert.ok(!providerSaw.includes(value), 'a client secret reached the provider');
    for (const x of [...standin.seen.offers, ...standin.seen.sidebands, ...standin.seen.hangups]) {
      assert.equal(x.headers?.authorization ?? x.authorization, `Bearer ${SERVER_KEY}`);
    }
    for (const p of pages) assert.ok(!JSON.stringify(p.traffic).includes(SERVER_KEY), `the server key reached page ${p.name}`);
  });
});

test('chromium is the Debian package', () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
});
