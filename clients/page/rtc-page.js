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
  /**
   * The provider's "unified interface" by hand: a multipart offer (sdp + session JSON) with fetch and
   * FormData, the answer applied, then the first events of the data channel; the call is closed after.
   */
  async unified({ url, apiKey, session: config, waitMs = 3000 }) {
    const pc = new RTCPeerConnection();
    const dc = pc.createDataChannel('oai-events');
    const received = [];
    dc.addEventListener('message', (m) => received.push(JSON.parse(m.data)));
    const opened = new Promise((resolve) => dc.addEventListener('open', resolve));
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    pc.addTrack(mic.getAudioTracks()[0]);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const form = new FormData();
    form.set('sdp', offer.sdp);
    form.set('session', JSON.stringify(config));
    const r = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${apiKey}` }, body: form });
    const body = await r.text();
    const out = { status: r.status, location: r.headers.get('Location'), contentType: r.headers.get('Content-Type'), body: r.ok ? null : body };
    if (r.ok) {
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
      out.opened = await Promise.race([opened.then(() => true), new Promise((res) => setTimeout(() => res(false), waitMs))]);
      await new Promise((res) => setTimeout(res, 300));
      out.events = received;
    }
    dc.close();
    pc.close();
    mic.getTracks().forEach((t) => t.stop());
    return out;
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
