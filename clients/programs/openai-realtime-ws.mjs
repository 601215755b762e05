// The `openai` package's OpenAIRealtimeWS, pointed at the guard by its base URL, with a client
// secret minted by the guard as its API key. Scenario "turns": a text turn, then an audio turn;
// scenario "budget": one turn, then waits for the guard to end the session.
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { AUDIO_CHUNK, Inbox, QUESTION, SCENARIO, giveUpAfter, report } from './report.mjs';

giveUpAfter(20_000);

// GUARD_BASE_URL is https://<guard>/v1; CLIENT_SECRET is an ek_… secret from the guard
const client = new OpenAI({ baseURL: process.env.GUARD_BASE_URL, apiKey: process.env.CLIENT_SECRET });
const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime' }, client);

const inbox = new Inbox();
rt.socket.on('upgrade', (res) => report('upgrade', { status: res.statusCode, headers: res.headers }));
rt.on('event', (event) => {
  report('event', { event });
  inbox.push(event);
});
rt.on('error', (err) => {
  report('error', { message: err.message, error: err.error ?? null });
  inbox.push({ type: '#error', error: err.error });
});
const closed = new Promise((resolve) => rt.socket.on('close', (code, reason) => {
  report('close', { code, reason: reason.toString() });
  resolve(code);
}));

await inbox.until((e) => e.type === 'session.created');
rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['audio'], instructions: 'Answer in one short sentence.' } });

rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: QUESTION }] } });
rt.send({ type: 'response.create' });
if (SCENARIO === 'budget') {
  await closed;
  process.exit(0);
}
await inbox.until((e) => e.type === 'usage_update');

rt.send({ type: 'input_audio_buffer.append', audio: AUDIO_CHUNK });
rt.send({ type: 'input_audio_buffer.append', audio: AUDIO_CHUNK });
rt.send({ type: 'input_audio_buffer.commit' });
rt.send({ type: 'response.create' });
await inbox.until((e) => e.type === 'usage_update');

rt.close();
await closed;
