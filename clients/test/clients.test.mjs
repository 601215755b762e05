// The official OpenAI realtime clients against the real guard jar (HTTPS connector on, client
// secrets required) and a stand-in upstream. Each client runs as its own process with nothing
// but its usual settings changed: base URL or url, and a client secret as its key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { makeKeystore } from '../lib/keystore.mjs';
import { AUDIO_DELTAS, USAGE, responseCostMicros, startStandIn } from '../lib/standin.mjs';
import { OPERATOR_TOKEN, SERVICE_TOKEN, api, eventually, mintSecret, startGuard } from '../lib/guard.mjs';
import { events, ofType, runProgram } from '../lib/programs.mjs';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const SERVER_KEY = `sk-server-${randomBytes(12).toString('hex')}`;
const usd = (micros) => micros / 1_000_000;
const ONE_RESPONSE = usd(responseCostMicros());

let dir;
let tls;
let standin;
let guard;
const minted = [];
const runs = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duck-e-clients-'));
  tls = makeKeystore(dir);
  standin = await startStandIn({ apiKey: SERVER_KEY });
  guard = await startGuard({
    root: ROOT, dir, upstreamUrl: standin.url, serverKey: SERVER_KEY, tls,
    // every client here connects from 127.0.0.1: its handshake limit is not under test
    env: { RELAY_CLIENT_AUTH: 'required', RATE_LIMIT_WEBSOCKET: '100/minute' },
  });
}, { timeout: 120_000 });

after(async () => {
  await guard?.stop();
  await standin?.close();
  if (dir && !process.env.CLIENTS_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
});

async function secret(clientId, extra = {}) {
  const s = await mintSecret(guard, { client_id: clientId, ...extra });
  minted.push(s.value);
  return s;
}

async function run(program, env) {
  const result = await runProgram(program, { certificate: tls.certificate, env });
  runs.push(result);
  return result;
}

const realtimeUrl = () => `${guard.wss}/v1/realtime?model=gpt-realtime`;
const newHandshakes = (since) => standin.seen.handshakes.slice(since).filter((h) => h.accepted);
const explain = (r) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;

async function tokensCharged() {
  const text = await (await fetch(`${guard.http}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('token_usage_total{') && l.includes('model="gpt-realtime"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('plumbing', () => {
  test('the stand-in refuses any key but the server\'s', async () => {
    const status = await new Promise((resolve, reject) => {
      const ws = new WebSocket(standin.url, { headers: { Authorization: 'Bearer sk-wrong' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => reject(new Error('accepted a wrong key')));
      ws.on('error', reject);
    });
    assert.equal(status, 401);
  });

  test('the guard serves https with its keystore, trusted through the exported certificate', async () => {
    const ca = readFileSync(tls.certificate);
    const status = await new Promise((resolve, reject) => {
      get(`${guard.https}/status`, { ca }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
    });
    assert.equal(status, 200);
    await assert.rejects(new Promise((resolve, reject) => get(`${guard.https}/status`, resolve).on('error', reject)),
      /self[- ]signed/i);
  });

  test('client secrets are minted with the service token', async () => {
    const s = await secret('user-mint', { expires_after_seconds: 600 });
    assert.match(s.value, /^ek_/);
    assert.equal(s.client_id, 'user-mint');
    assert.ok(s.expires_at > Date.now() / 1000, `expires_at ${s.expires_at} is in the future`);
  });
});

test('openai OpenAIRealtimeWS with baseURL: two metered turns, session view, metrics and audit row', async () => {
  const clientId = `user-openai-${randomBytes(3).toString('hex')}`;
  const s = await secret(clientId);
  const tokensBefore = await tokensCharged();
  const since = standin.seen.handshakes.length;

  const r = await run('openai-realtime-ws.mjs', { GUARD_BASE_URL: `${guard.https}/v1`, CLIENT_SECRET: s.value });
  assert.equal(r.code, 0, explain(r));
  assert.equal(r.lines.find((l) => l.kind === 'upgrade')?.status, 101, explain(r));
  assert.deepEqual(r.lines.filter((l) => l.kind === 'error'), []);
  const started = events(r)[0];
  assert.equal(started.type, 'session_started', explain(r));
  assert.equal(ofType(r, 'response.output_audio.delta').length, 2 * AUDIO_DELTAS);
  assert.equal(ofType(r, 'response.done').length, 2);
  assert.deepEqual(ofType(r, 'usage_update').map((u) => u.session_cost), [ONE_RESPONSE, 2 * ONE_RESPONSE]);

  const view = await api(guard, 'GET', `/v1/sessions/${started.session_id}`, SERVICE_TOKEN);
  assert.equal(view.status, 200, view.text);
  assert.equal(view.body.client_id, clientId);
  assert.equal(view.body.cost_usd, 2 * ONE_RESPONSE);
  assert.equal(view.body.charged_responses, 2);
  assert.equal(view.body.tokens.input_total, 2 * (USAGE.inputText + USAGE.inputAudio));
  assert.equal(view.body.tokens.output_total, 2 * USAGE.outputTokens);
  assert.equal(await tokensCharged() - tokensBefore, 2 * (USAGE.inputText + USAGE.inputAudio + USAGE.outputTokens));

  const row = await eventually(async () => {
    const audit = await api(guard, 'GET', `/v1/audit/sessions?client=${encodeURIComponent(clientId)}`, OPERATOR_TOKEN);
    return audit.status === 200 && audit.body.sessions.find((x) => x.session_id === started.session_id);
  }, { what: 'the audit row' });
  assert.equal(row.cost_usd, 2 * ONE_RESPONSE);
  assert.equal(row.end_reason, 'client_closed');
  assert.equal(row.model, 'gpt-realtime');

  const [upstream] = newHandshakes(since);
  const types = upstream.frames.map((f) => JSON.parse(f).type);
  assert.equal(types.filter((t) => t === 'input_audio_buffer.append').length, 2);
  assert.ok(types.includes('input_audio_buffer.commit'), types.join());
  assert.equal(upstream.headers['openai-beta'], undefined);
});

test('agents-realtime RealtimeSession over its websocket transport to /v1/realtime', async () => {
  const s = await secret(`user-agents-${randomBytes(3).toString('hex')}`);
  const since = standin.seen.handshakes.length;

  const r = await run('agents-realtime-session.mjs', { GUARD_REALTIME_URL: realtimeUrl(), CLIENT_SECRET: s.value });
  assert.equal(r.code, 0, explain(r));
  assert.deepEqual(r.lines.filter((l) => l.kind === 'error'), []);
  assert.equal(events(r)[0].type, 'session_started', explain(r));
  assert.equal(r.lines.filter((l) => l.kind === 'audio').length, AUDIO_DELTAS);
  assert.deepEqual(ofType(r, 'usage_update').map((u) => u.session_cost), [ONE_RESPONSE]);
  const [upstream] = newHandshakes(since);
  assert.ok(upstream.frames.some((f) => f.includes('What does a duck say?')), 'the question reached the model');
});

test('a browser WebSocket offering the realtime subprotocols gets `realtime` selected and beta events', async () => {
  const s = await secret(`user-browser-${randomBytes(3).toString('hex')}`);
  const since = standin.seen.handshakes.length;

  const r = await run('browser-websocket.mjs', { GUARD_REALTIME_URL: realtimeUrl(), CLIENT_SECRET: s.value });
  assert.equal(r.code, 0, explain(r));
  assert.equal(r.lines.find((l) => l.kind === 'open')?.protocol, 'realtime', explain(r));
  assert.equal(events(r)[0].type, 'session_started');
  assert.equal(ofType(r, 'response.audio.delta').length, AUDIO_DELTAS, 'beta event names');
  assert.equal(ofType(r, 'response.output_audio.delta').length, 0);
  assert.deepEqual(ofType(r, 'usage_update').map((u) => u.session_cost), [ONE_RESPONSE]);
  assert.equal(r.lines.find((l) => l.kind === 'close')?.code, 1000);
  const [upstream] = newHandshakes(since);
  assert.equal(upstream.headers['openai-beta'], 'realtime=v1');
  assert.equal(upstream.headers['sec-websocket-protocol'], undefined, 'no subprotocol is forwarded upstream');
});

describe('a budget ending reaches each client as a realtime error event', () => {
  // the first response costs ONE_RESPONSE, more than this cap
  const budget = async (name) => secret(`user-budget-${name}-${randomBytes(3).toString('hex')}`, { max_cost_usd: ONE_RESPONSE / 2 });
  const budgetCode = (e) => e?.code === 'budget_exceeded';

  test('openai OpenAIRealtimeWS: its error handler fires', async () => {
    const s = await budget('openai');
    const r = await run('openai-realtime-ws.mjs', { GUARD_BASE_URL: `${guard.https}/v1`, CLIENT_SECRET: s.value, SCENARIO: 'budget' });
    assert.equal(r.code, 0, explain(r));
    assert.ok(ofType(r, 'budget_exceeded').length === 1, explain(r));
    assert.ok(r.lines.some((l) => l.kind === 'error' && budgetCode(l.error)), explain(r));
    assert.equal(r.lines.find((l) => l.kind === 'close')?.code, 1008);
  });

  test('agents-realtime RealtimeSession: its error event fires', async () => {
    const s = await budget('agents');
    const r = await run('agents-realtime-session.mjs', { GUARD_REALTIME_URL: realtimeUrl(), CLIENT_SECRET: s.value, SCENARIO: 'budget' });
    assert.equal(r.code, 0, explain(r));
    assert.ok(r.lines.some((l) => l.kind === 'error' && budgetCode(l.error?.error?.error)), explain(r));
  });

  test('browser WebSocket: an error event with the code, then close 1008', async () => {
    const s = await budget('browser');
    const r = await run('browser-websocket.mjs', { GUARD_REALTIME_URL: realtimeUrl(), CLIENT_SECRET: s.value, SCENARIO: 'budget' });
    assert.equal(r.code, 0, explain(r));
    const types = events(r).map((e) => e.type);
    assert.ok(types.indexOf('budget_exceeded') >= 0 && types.indexOf('error') > types.indexOf('budget_exceeded'), types.join() + ' ' + JSON.stringify(r.lines.filter((l) => l.kind !== 'event')));
    assert.ok(ofType(r, 'error').some((e) => budgetCode(e.error)), explain(r));
    assert.equal(r.lines.find((l) => l.kind === 'close')?.code, 1008);
  });
});

test('an unknown secret is refused with 401 before the upgrade and never reaches the upstream', async () => {
  const since = standin.seen.handshakes.length;
  const r = await run('openai-realtime-ws.mjs', { GUARD_BASE_URL: `${guard.https}/v1`, CLIENT_SECRET: `ek_${randomBytes(16).toString('hex')}` });
  assert.ok(r.lines.some((l) => l.kind === 'error' && /401/.test(l.message)), explain(r));
  assert.equal(r.lines.find((l) => l.kind === 'upgrade'), undefined);
  assert.equal(standin.seen.handshakes.length, since);
});

test('the upstream never saw a client secret, and no client saw the server key', () => {
  assert.ok(minted.length >= 7, `${minted.length} secrets minted`);
  const upstreamSaw = JSON.stringify(standin.seen);
  for (const value of minted) assert.ok(!upstreamSaw.includes(value), 'a client secret reached the upstream');
  assert.ok(!upstreamSaw.includes('openai-insecure-api-key'));
  for (const h of standin.seen.handshakes.filter((x) => x.accepted)) {
    assert.equal(h.headers.authorization, `Bearer ${SERVER_KEY}`);
  }
  assert.ok(runs.length >= 7);
  for (const r of runs) assert.ok(!(r.stdout + r.stderr).includes(SERVER_KEY), 'the server key reached a client');
});
