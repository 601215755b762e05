// @openai/agents-realtime's RealtimeSession over its websocket transport, pointed at the guard's
// /v1/realtime by its url option, with a client secret minted by the guard as its API key.
import { RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
import { Inbox, QUESTION, SCENARIO, giveUpAfter, report } from './report.mjs';

giveUpAfter(20_000);

const agent = new RealtimeAgent({ name: 'Duck', instructions: 'Answer in one short sentence.' });
const session = new RealtimeSession(agent, { transport: 'websocket', model: 'gpt-realtime' });

const inbox = new Inbox();
session.on('transport_event', (event) => {
  report('event', { event });
  inbox.push(event);
});
session.on('audio', (event) => report('audio', { bytes: event.data.byteLength }));
session.on('error', (error) => {
  report('error', { error });
  inbox.push({ type: '#error', error });
});
const closed = new Promise((resolve) => session.transport.on('connection_change', (status) => {
  report('connection', { status });
  if (status === 'disconnected') resolve();
}));

// GUARD_REALTIME_URL is wss://<guard>/v1/realtime?model=gpt-realtime; CLIENT_SECRET an ek_… secret
await session.connect({ apiKey: process.env.CLIENT_SECRET, url: process.env.GUARD_REALTIME_URL });

session.sendMessage(QUESTION);
if (SCENARIO === 'budget') {
  await closed;
  process.exit(0);
}
await inbox.until((e) => e.type === 'usage_update');
session.close();
await closed;
