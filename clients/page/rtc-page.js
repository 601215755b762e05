// The browser side of the WebRTC tests: the official SDK's RealtimeSession over its WebRTC
// transport, bundled at test time (esbuild) and driven by the test through window.rtc.
import { OpenAIRealtimeWebRTC, RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';

const state = {
  events: [], // every server event the transport received: { at, event }
  connection: [], // connection_change values: { at, status }
  errors: [], // error events of the session: { at, message }
  sent: [], // raw events this page sent on the data channel itself
  peer: [], // RTCPeerConnection connectionState changes
  closedAt: null,
};
let session;
let transport;
const triggers = []; // raw events to send the moment a server event of a type arrives
const now = () => performance.timeOrigin + performance.now();
const describe = (e) => {
  try {
    const inner = e?.error?.error ?? e?.error ?? e;
    if (inner instanceof Error) return inner.message;
    if (inner?.message) return String(inner.message);
    return JSON.stringify(inner);
  } catch { return String(e); }
};

window.rtc = {
  state,
  async connect({ baseUrl, apiKey, model = 'gpt-realtime', instructions = 'Say quack.' }) {
    transport = new OpenAIRealtimeWebRTC({ baseUrl });
    const agent = new RealtimeAgent({ name: 'duck', instructions });
    session = new RealtimeSession(agent, { transport, model });
    session.on('transport_event', (event) => {
      state.events.push({ at: now(), event });
      const armed = triggers.filter((t) => t.type === event.type);
      for (const t of armed) {
        triggers.splice(triggers.indexOf(t), 1);
        for (const e of t.events) window.rtc.raw(e);
      }
    });
    session.on('error', (e) => state.errors.push({ at: now(), message: describe(e) }));
    transport.on('connection_change', (status) => {
      state.connection.push({ at: now(), status });
      if (status === 'disconnected') state.closedAt = now();
    });
    try {
      await session.connect({ apiKey });
    } catch (e) {
      state.errors.push({ at: now(), message: describe(e) });
      return { ok: false, error: describe(e), status: transport.status };
    }
    const pc = transport.connectionState.peerConnection;
    pc?.addEventListener('connectionstatechange', () => state.peer.push({ at: now(), state: pc.connectionState }));
    return { ok: true, callId: transport.callId, status: transport.status };
  },
  /** A user turn the SDK's way: a text message, then its own response.create. */
  say(text) {
    session.sendMessage(text);
  },
  /** An event the SDK's way (its sequencer). */
  send(event) {
    transport.sendEvent(event);
  },
  /** Raw JSON on the data channel, past every SDK check: what a hostile page does. */
  raw(event) {
    const dc = transport.connectionState.dataChannel;
    dc.send(JSON.stringify(event));
    state.sent.push({ at: now(), event });
  },
  /** Sends these raw events the moment the first server event of `type` arrives (a hostile page's timing). */
  on(type, events) {
    triggers.push({ type, events });
  },
  status() {
    return { status: transport?.status, callId: transport?.callId,
      dataChannel: transport?.connectionState?.dataChannel?.readyState ?? null,
      peer: transport?.connectionState?.peerConnection?.connectionState ?? null };
  },
  types() {
    return state.events.map((e) => e.event.type);
  },
  close() {
    session?.close();
  },
};
window.rtcReady = true;
