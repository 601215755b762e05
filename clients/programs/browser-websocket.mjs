// A browser-standard WebSocket (undici's, the one Node and browsers share) offering the
// subprotocols the official browser clients offer: realtime, the key, and the beta marker.
import { WebSocket } from 'undici';
import { Inbox, QUESTION, SCENARIO, giveUpAfter, report } from './report.mjs';

giveUpAfter(20_000);

// GUARD_REALTIME_URL is wss://<guard>/v1/realtime?model=gpt-realtime; CLIENT_SECRET an ek_… secret
const ws = new WebSocket(process.env.GUARD_REALTIME_URL, [
  'realtime',
  `openai-insecure-api-key.${process.env.CLIENT_SECRET}`,
  'openai-beta.realtime-v1',
]);

const inbox = new Inbox();
const opened = new Promise((resolve) => ws.addEventListener('open', () => {
  report('open', { protocol: ws.protocol });
  resolve();
}));
ws.addEventListener('message', (message) => {
  const event = JSON.parse(message.data);
  report('event', { event });
  inbox.push(event);
});
ws.addEventListener('error', (error) => report('error', { message: error.message ?? String(error.error ?? 'error') }));
const closed = new Promise((resolve) => ws.addEventListener('close', (event) => {
  report('close', { code: event.code, reason: event.reason });
  resolve(event.code);
}));
const send = (event) => ws.send(JSON.stringify(event));

await Promise.race([opened, closed]);
if (ws.readyState !== WebSocket.OPEN) process.exit(0);
await inbox.until((e) => e.type === 'session.created');
send({ type: 'session.update', session: { modalities: ['audio', 'text'], instructions: 'Answer in one short sentence.' } });
send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: QUESTION }] } });
send({ type: 'response.create', response: { modalities: ['audio', 'text'] } });
if (SCENARIO === 'budget') {
  await closed;
  process.exit(0);
}
await inbox.until((e) => e.type === 'usage_update');
ws.close(1000, 'done');
await closed;
