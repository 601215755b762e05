// A stand-in for the paid realtime API, written with `ws`. It refuses any Authorization but the
// server's key with 401, records every handshake (URL and headers) and every frame it receives,
// and answers in the API's event shapes: GA names, or the beta names when the connection asked
// for `OpenAI-Beta: realtime=v1`. Every response is billed with the fixed usage of USAGE, its
// output cut to the response's max_output_tokens, so each test knows the exact cost.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

/** Tokens billed per response: input is fixed, output is OUTPUT_TOKENS unless a limit cuts it. */
export const USAGE = { inputText: 200, inputAudio: 800, cached: 100, outputTokens: 500 };
export const AUDIO_DELTAS = 3;

const GA = {
  audioDelta: 'response.output_audio.delta',
  audioDone: 'response.output_audio.done',
  transcriptDelta: 'response.output_audio_transcript.delta',
};
const BETA = {
  audioDelta: 'response.audio.delta',
  audioDone: 'response.audio.done',
  transcriptDelta: 'response.audio_transcript.delta',
};

/** Starts the stand-in on 127.0.0.1; `seen.handshakes[i].frames` holds what each connection received. */
export async function startStandIn({ apiKey }) {
  const seen = { handshakes: [] };
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const handshake = { url: req.url, headers: { ...req.headers }, accepted: false, frames: [] };
    seen.handshakes.push(handshake);
    const path = new URL(req.url, 'http://stand-in').pathname;
    if (path !== '/v1/realtime' || req.headers.authorization !== `Bearer ${apiKey}`) {
      const status = path !== '/v1/realtime' ? '404 Not Found' : '401 Unauthorized';
      const body = JSON.stringify({ error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' } });
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    handshake.accepted = true;
    wss.handleUpgrade(req, socket, head, (ws) => converse(ws, handshake));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}/v1/realtime`,
    seen,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function converse(ws, handshake) {
  const beta = /realtime=v1/.test(handshake.headers['openai-beta'] ?? '');
  const names = beta ? BETA : GA;
  const model = new URL(handshake.url, 'http://stand-in').searchParams.get('model') ?? 'gpt-realtime';
  let counter = 0;
  const id = (prefix) => `${prefix}_${String(++counter).padStart(4, '0')}`;
  const send = (event) => ws.send(JSON.stringify({ event_id: id('event'), ...event }));
  const session = beta
    ? { id: id('sess'), object: 'realtime.session', model, modalities: ['text', 'audio'], voice: 'alloy',
      input_audio_format: 'pcm16', output_audio_format: 'pcm16', max_response_output_tokens: 'inf' }
    : { type: 'realtime', object: 'realtime.session', id: id('sess'), model, output_modalities: ['audio'],
      audio: { input: { format: { type: 'audio/pcm', rate: 24000 } }, output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' } },
      max_output_tokens: 'inf' };
  let lastItem = null;
  const itemCreated = (item) => {
    if (beta) {
      send({ type: 'conversation.item.created', previous_item_id: lastItem, item });
    } else {
      send({ type: 'conversation.item.added', previous_item_id: lastItem, item });
      send({ type: 'conversation.item.done', previous_item_id: lastItem, item });
    }
    lastItem = item.id;
  };

  send({ type: 'session.created', session });
  ws.on('message', (data, isBinary) => {
    const text = data.toString();
    handshake.frames.push(isBinary ? `<binary ${data.length} bytes>` : text);
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_json', message: 'Not JSON.' } });
      return;
    }
    switch (event.type) {
      case 'session.update':
        Object.assign(session, event.session ?? {});
        send({ type: 'session.updated', session });
        break;
      case 'conversation.item.create':
        itemCreated({ id: event.item?.id ?? id('item'), object: 'realtime.item', status: 'completed', ...event.item });
        break;
      case 'input_audio_buffer.append':
        break;
      case 'input_audio_buffer.commit': {
        const item = { id: id('item'), object: 'realtime.item', type: 'message', role: 'user', status: 'completed',
          content: [{ type: 'input_audio', transcript: null }] };
        send({ type: 'input_audio_buffer.committed', previous_item_id: lastItem, item_id: item.id });
        itemCreated(item);
        break;
      }
      case 'response.create':
        respond(event.response ?? {});
        break;
      default:
        break;
    }
  });

  function respond(params) {
    const limit = outputLimit(params, session);
    const outputTokens = Math.min(USAGE.outputTokens, limit);
    const response = { id: id('resp'), object: 'realtime.response', status: 'in_progress', output: [], usage: null };
    const itemId = id('item');
    send({ type: 'response.created', response });
    for (let i = 0; i < AUDIO_DELTAS; i++) {
      send({ type: names.audioDelta, response_id: response.id, item_id: itemId, output_index: 0, content_index: 0,
        delta: Buffer.alloc(480, i).toString('base64') });
      send({ type: names.transcriptDelta, response_id: response.id, item_id: itemId, output_index: 0, content_index: 0,
        delta: `quack ${i} ` });
    }
    send({ type: names.audioDone, response_id: response.id, item_id: itemId, output_index: 0, content_index: 0 });
    const cut = outputTokens < USAGE.outputTokens;
    const outputText = Math.floor(outputTokens / 5);
    send({
      type: 'response.done',
      response: {
        ...response,
        status: cut ? 'incomplete' : 'completed',
        status_details: cut ? { type: 'incomplete', reason: 'max_output_tokens' } : null,
        output: [{ id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: cut ? 'incomplete' : 'completed',
          content: [{ type: beta ? 'audio' : 'output_audio', transcript: 'quack quack quack' }] }],
        usage: {
          total_tokens: USAGE.inputText + USAGE.inputAudio + outputTokens,
          input_tokens: USAGE.inputText + USAGE.inputAudio,
          output_tokens: outputTokens,
          input_token_details: { text_tokens: USAGE.inputText, audio_tokens: USAGE.inputAudio, cached_tokens: USAGE.cached },
          output_token_details: { text_tokens: outputText, audio_tokens: outputTokens - outputText },
        },
      },
    });
  }
}

/** The response's own limit, else the session's; 'inf' or none means no limit. */
function outputLimit(params, session) {
  const candidates = [params.max_output_tokens, params.max_response_output_tokens,
    session.max_output_tokens, session.max_response_output_tokens];
  const first = candidates.find((v) => v !== undefined && v !== null);
  return typeof first === 'number' ? first : Infinity;
}

/** Cost in USD of one response at the gpt-realtime prices of config.yml (100 in, 200 out per 1M). */
export function responseCostMicros(outputTokens = USAGE.outputTokens) {
  return (USAGE.inputText + USAGE.inputAudio) * 100 + outputTokens * 200;
}
