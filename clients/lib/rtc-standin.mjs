// A stand-in for the provider's WebRTC calls: a real WebRTC peer (node-datachannel) behind
// POST /v1/realtime/calls, a sideband WebSocket per call (/v1/realtime?call_id=…) and
// POST /v1/realtime/calls/{id}/hangup. Every request must carry the server's key (401 otherwise);
// every offer, client event and hangup is recorded for the tests' assertions.
//
// It bills like the provider: each response's output is generated progressively, TOKENS_PER_TICK
// output tokens every TICK_MS, up to the response's limit (its own max_output_tokens, else the
// session's; "inf" or none is INF_OUTPUT_TOKENS), then `response.done` carries the usage. A
// `response.cancel` stops a response at once with the usage so far. Its own bill per call (usage
// totals) is the oracle for what the guard must charge; the times at which each response was
// announced and each cancel arrived measure the guard's reaction.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import { WebSocketServer } from 'ws';

const { PeerConnection } = nodeDataChannel;

/** Input tokens billed per response (fixed), and the generation rate of output tokens. */
export const RTC_USAGE = { inputText: 120, inputAudio: 480, cached: 60 };
export const TICK_MS = 10;
export const TOKENS_PER_TICK = 20;
/** What a response with no limit ("inf") generates before it stops by itself. */
export const INF_OUTPUT_TOKENS = 4096;

const now = () => performance.timeOrigin + performance.now();

/** The usage object of `response.done` for a response that generated outputTokens. */
export function usageOf(outputTokens) {
  const outputText = Math.floor(outputTokens / 5);
  return {
    total_tokens: RTC_USAGE.inputText + RTC_USAGE.inputAudio + outputTokens,
    input_tokens: RTC_USAGE.inputText + RTC_USAGE.inputAudio,
    output_tokens: outputTokens,
    input_token_details: { text_tokens: RTC_USAGE.inputText, audio_tokens: RTC_USAGE.inputAudio, cached_tokens: RTC_USAGE.cached },
    output_token_details: { text_tokens: outputText, audio_tokens: outputTokens - outputText },
  };
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function merge(target, patch) {
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (isPlainObject(v) && isPlainObject(target[k])) merge(target[k], v);
    else target[k] = v;
  }
  return target;
}

function limitOf(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Starts the stand-in on 127.0.0.1.
 * @param apiKey the only key it accepts (Bearer) on every route
 * @param tokensPerTick output tokens generated per TICK_MS tick
 */
export async function startRtcStandIn({ apiKey, tokensPerTick = TOKENS_PER_TICK, tickMs = TICK_MS, answerDelayMs = 0 }) {
  const seen = { offers: [], refused: [], hangups: [], sidebands: [] };
  const calls = new Map();
  let callCounter = 0;

  const authorized = (req) => req.headers.authorization === `Bearer ${apiKey}`;
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Location',
  };
  const fail = (res, status, code, message) => {
    const body = JSON.stringify({ error: { type: 'invalid_request_error', code, message } });
    res.writeHead(status, { ...cors, 'Content-Type': 'application/json' }).end(body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*', 'Access-Control-Max-Age': '600' }).end();
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    try {
      if (req.method === 'POST' && url.pathname === '/v1/realtime/calls') {
        await offer(req, res, url, body);
        return;
      }
      const hangup = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/.exec(url.pathname);
      if (req.method === 'POST' && hangup) {
        const record = { callId: hangup[1], at: now(), authorization: req.headers.authorization, status: 0 };
        seen.hangups.push(record);
        if (!authorized(req)) {
          record.status = 401;
          fail(res, 401, 'invalid_api_key', 'Incorrect API key provided.');
          return;
        }
        const call = calls.get(hangup[1]);
        if (!call || call.ended) {
          record.status = 404;
          fail(res, 404, 'call_not_found', `No call ${hangup[1]}.`);
          return;
        }
        call.end('hangup');
        record.status = 200;
        res.writeHead(200, { ...cors }).end();
        return;
      }
      fail(res, 404, 'not_found', `No route ${req.method} ${url.pathname}.`);
    } catch (e) {
      fail(res, 500, 'stand_in_error', String(e?.stack ?? e));
    }
  });

  async function offer(req, res, url, body) {
    const contentType = req.headers['content-type'] ?? '';
    const record = { at: now(), url: req.url, headers: { ...req.headers }, contentType, session: null, sdp: null, status: 0 };
    if (!authorized(req)) {
      record.status = 401;
      seen.refused.push(record);
      fail(res, 401, 'invalid_api_key', 'Incorrect API key provided.');
      return;
    }
    let sdp;
    let sessionConfig = {};
    if (contentType.startsWith('application/sdp')) {
      sdp = body.toString('utf8');
    } else if (contentType.startsWith('multipart/form-data')) {
      const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      const sdpPart = form.get('sdp');
      sdp = typeof sdpPart === 'string' ? sdpPart : await sdpPart?.text();
      const sessionPart = form.get('session');
      const sessionText = typeof sessionPart === 'string' ? sessionPart : await sessionPart?.text();
      if (sessionText) sessionConfig = JSON.parse(sessionText);
      record.parts = [...form.keys()];
    } else {
      record.status = 400;
      seen.refused.push(record);
      fail(res, 400, 'invalid_content_type', `Content-Type ${contentType} is neither application/sdp nor multipart/form-data.`);
      return;
    }
    record.sdp = sdp;
    record.session = sessionConfig;
    seen.offers.push(record);
    if (!sdp || !sdp.includes('m=application')) {
      record.status = 400;
      fail(res, 400, 'invalid_offer', 'The offer has no data channel.');
      return;
    }
    const callId = `rtc_${String(++callCounter).padStart(4, '0')}`;
    const call = newCall(callId, sessionConfig, url.searchParams.get('model'));
    calls.set(callId, call);
    record.callId = callId;
    const answer = await call.answer(sdp);
    if (answerDelayMs) await new Promise((r) => setTimeout(r, answerDelayMs));
    record.status = 201;
    res.writeHead(201, { ...cors, 'Content-Type': 'application/sdp', Location: `/v1/realtime/calls/${callId}` }).end(answer);
  }

  function newCall(callId, sessionConfig, queryModel) {
    let counter = 0;
    const id = (prefix) => `${prefix}_${callId}_${String(++counter).padStart(4, '0')}`;
    const session = merge({
      type: 'realtime', object: 'realtime.session', id: id('sess'), model: queryModel ?? 'gpt-realtime',
      output_modalities: ['audio'], instructions: '', tools: [], max_output_tokens: 'inf',
      audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: null }, output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' } },
    }, sessionConfig);
    session.type = 'realtime';
    const call = {
      id: callId,
      createdAt: now(),
      session,
      initialSession: structuredClone(session),
      pc: null,
      dc: null,
      sidebands: new Set(),
      ended: null,
      endedAt: null,
      /** Every client event: { source: 'datachannel' | 'sideband', at, event } */
      clientEvents: [],
      /** Every server event sent: { at, event } (deltas excluded) */
      serverEvents: [],
      responses: [],
      bill: { responses: 0, input_tokens: 0, output_tokens: 0, text_input: 0, audio_input: 0, cached_input: 0, text_output: 0, audio_output: 0 },
      peerStates: [],
      answerSdp: null,
      end: null,
    };
    let lastItem = null;
    let active = null; // the in-conversation response in progress

    const broadcast = (event, { log = true } = {}) => {
      const full = { event_id: id('event'), ...event };
      const text = JSON.stringify(full);
      if (log) call.serverEvents.push({ at: now(), event: full });
      if (call.dc?.isOpen()) {
        try { call.dc.sendMessage(text); } catch { /* closing */ }
      }
      for (const ws of call.sidebands) if (ws.readyState === 1) ws.send(text);
    };
    call.broadcast = broadcast;

    const itemAdded = (item) => {
      broadcast({ type: 'conversation.item.added', previous_item_id: lastItem, item });
      broadcast({ type: 'conversation.item.done', previous_item_id: lastItem, item });
      lastItem = item.id;
    };

    call.answer = (offerSdp) => new Promise((resolve, reject) => {
      const pc = new PeerConnection(callId, { iceServers: [] });
      call.pc = pc;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const desc = pc.localDescription();
        if (!desc) reject(new Error('no local description'));
        else { call.answerSdp = desc.sdp; resolve(desc.sdp); }
      };
      pc.onStateChange((state) => {
        call.peerStates.push({ at: now(), state });
        if ((state === 'closed' || state === 'failed') && !call.ended) call.end(`peer_${state}`);
      });
      pc.onGatheringStateChange((state) => { if (state === 'complete') finish(); });
      pc.onDataChannel((dc) => {
        if (dc.getLabel() !== 'oai-events') return;
        call.dc = dc;
        const greet = () => {
          if (call.dcOpenedAt) return;
          call.dcOpenedAt = now();
          broadcast({ type: 'session.created', session });
        };
        dc.onOpen(greet);
        if (dc.isOpen()) greet();
        dc.onMessage((msg) => handle('datachannel', typeof msg === 'string' ? msg : Buffer.from(msg).toString('utf8')));
        // the browser left (the SDK closes its data channel and peer connection together): the call ends
        dc.onClosed(() => { call.dcClosedAt = now(); if (!call.ended) call.end('peer_left'); });
      });
      pc.onTrack((track) => { call.track = { mid: track.mid(), type: track.type(), direction: track.direction() }; });
      pc.setRemoteDescription(offerSdp, 'offer');
      setTimeout(() => { if (!done && pc.localDescription()) finish(); }, 2000);
    });

    call.attach = (ws, record) => {
      call.sidebands.add(ws);
      ws.send(JSON.stringify({ event_id: id('event'), type: 'session.created', session }));
      ws.on('message', (data) => handle('sideband', data.toString('utf8'), record));
      ws.on('close', () => { call.sidebands.delete(ws); record.closedAt = now(); });
    };

    call.end = (reason) => {
      if (call.ended) return;
      call.ended = reason;
      call.endedAt = now();
      // the provider stops generating: what was generated is billed, no response.done reaches anyone
      for (const r of call.responses) if (r.status === 'in_progress') stop(r, 'hangup', { announce: false });
      // the peer connection's SCTP ABORT tells the browser within ~30 ms; about one hangup in twelve
      // Chromium finds out only by ICE consent, 11-13 s later (with or without closing the data channel first)
      try { call.pc?.close(); } catch { /* closed */ }
      // outside any callback of its own: destroy() drops the native callbacks that keep the process alive
      setImmediate(() => { try { call.pc?.destroy(); } catch { /* gone */ } });
      for (const ws of call.sidebands) ws.close(1000, 'call ended');
    };

    function handle(source, text, record) {
      let event;
      try {
        event = JSON.parse(text);
      } catch {
        broadcast({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_json', message: 'Not JSON.' } });
        return;
      }
      call.clientEvents.push({ source, at: now(), event });
      if (call.ended) return;
      switch (event.type) {
        case 'session.update': {
          const patch = { ...(event.session ?? {}) };
          delete patch.type;
          merge(session, patch);
          broadcast({ type: 'session.updated', session });
          break;
        }
        case 'conversation.item.create':
          itemAdded({ id: event.item?.id ?? id('item'), object: 'realtime.item', status: 'completed', ...event.item });
          break;
        case 'response.create':
          create(event.response ?? {}, source);
          break;
        case 'response.cancel':
          cancel(event.response_id, source);
          break;
        default:
          break;
      }
    }

    function create(params, source) {
      const outOfBand = params.conversation === 'none';
      if (!outOfBand && active) {
        broadcast({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response',
          message: `Conversation already has an active response in progress: ${active.id}. Wait until the response is finished before creating a new one.`,
          event_id: null } });
        return;
      }
      const own = params.max_output_tokens;
      const sessionLimit = session.max_output_tokens;
      const requested = own !== undefined && own !== null ? own : sessionLimit;
      const limit = limitOf(requested) ?? INF_OUTPUT_TOKENS;
      const response = {
        id: id('resp'), source, conversation: outOfBand ? 'none' : 'auto', limit, requested: own, sessionLimit,
        status: 'in_progress', outputTokens: 0, createdAt: null, cancelAt: null, cancelSource: null, doneAt: null, timer: null, itemId: id('item'),
      };
      call.responses.push(response);
      if (!outOfBand) active = response;
      const object = {
        id: response.id, object: 'realtime.response', status: 'in_progress', status_details: null, output: [], usage: null,
        conversation_id: outOfBand ? null : 'conv_default', conversation: outOfBand ? 'none' : 'auto',
        max_output_tokens: requested ?? 'inf', output_modalities: params.output_modalities ?? session.output_modalities,
        metadata: params.metadata ?? null,
      };
      response.object = object;
      response.createdAt = now();
      broadcast({ type: 'response.created', response: object });
      if (!outOfBand) {
        broadcast({ type: 'response.output_item.added', response_id: response.id, output_index: 0,
          item: { id: response.itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
      }
      let tick = 0;
      response.timer = setInterval(() => {
        if (response.status !== 'in_progress') return;
        const step = Math.min(tokensPerTick, response.limit - response.outputTokens);
        response.outputTokens += step;
        tick += 1;
        broadcast({ type: 'response.output_audio.delta', response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0,
          delta: Buffer.alloc(96, tick % 256).toString('base64') }, { log: false });
        broadcast({ type: 'response.output_audio_transcript.delta', response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0,
          delta: 'quack ' }, { log: false });
        if (response.outputTokens >= response.limit) stop(response, 'incomplete');
      }, tickMs);
    }

    function cancel(responseId, source) {
      const target = responseId ? call.responses.find((r) => r.id === responseId) : active;
      const at = now();
      if (!target || target.status !== 'in_progress') {
        if (target && !target.cancelAt) { target.lateCancelAt = at; target.lateCancelSource = source; }
        broadcast({ type: 'error', error: { type: 'invalid_request_error', code: 'response_cancel_not_active',
          message: 'Cancellation failed: no active response found.', event_id: null } });
        return;
      }
      target.cancelAt = at;
      target.cancelSource = source;
      stop(target, 'cancelled');
    }

    function stop(response, status, { announce = true } = {}) {
      clearInterval(response.timer);
      response.status = status;
      response.doneAt = now();
      if (active === response) active = null;
      const usage = usageOf(response.outputTokens);
      response.usage = usage;
      const b = call.bill;
      b.responses += 1;
      b.input_tokens += usage.input_tokens;
      b.output_tokens += usage.output_tokens;
      b.text_input += RTC_USAGE.inputText;
      b.audio_input += RTC_USAGE.inputAudio;
      b.cached_input += RTC_USAGE.cached;
      b.text_output += usage.output_token_details.text_tokens;
      b.audio_output += usage.output_token_details.audio_tokens;
      if (!announce) return;
      const details = status === 'cancelled' ? { type: 'cancelled', reason: 'client_cancelled' }
        : { type: 'incomplete', reason: 'max_output_tokens' };
      if (response.conversation !== 'none') {
        broadcast({ type: 'response.output_audio.done', response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 });
      }
      broadcast({
        type: 'response.done',
        response: {
          ...response.object, status, status_details: details,
          output: [{ id: response.itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: 'incomplete',
            content: [{ type: 'output_audio', transcript: 'quack '.repeat(Math.ceil(response.outputTokens / tokensPerTick)).trim() }] }],
          usage,
        },
      });
    }

    return call;
  }

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://stand-in');
    const callId = url.searchParams.get('call_id');
    const record = { at: now(), url: req.url, headers: { ...req.headers }, callId, status: 0 };
    seen.sidebands.push(record);
    const refuse = (status, code, message) => {
      record.status = status;
      const body = JSON.stringify({ error: { type: 'invalid_request_error', code, message } });
      const reason = { 401: 'Unauthorized', 404: 'Not Found' }[status];
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (url.pathname !== '/v1/realtime' || !callId) return refuse(404, 'not_found', 'Only sidebands (?call_id=) are served here.');
    if (!authorized(req)) return refuse(401, 'invalid_api_key', 'Incorrect API key provided.');
    const call = calls.get(callId);
    if (!call || call.ended) return refuse(404, 'call_not_found', `No call ${callId}.`);
    record.status = 101;
    wss.handleUpgrade(req, socket, head, (ws) => call.attach(ws, record));
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    callsUrl: `http://127.0.0.1:${port}/v1/realtime/calls`,
    seen,
    calls,
    call: (callId) => calls.get(callId),
    async close() {
      for (const call of calls.values()) call.end('stand-in closed');
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
