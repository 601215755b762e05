package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServlet;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServletFactory;
import org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer;
import ducke.testing.TestKeystore;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the paid realtime model: a local WebSocket server that speaks its event shapes.
 * It sends {@code session.created} on connect, answers {@code conversation.item.create} with
 * {@code conversation.item.created}, and answers a {@code response.create} as the provider bills:
 * {@code response.created} (echoing the response's {@code max_output_tokens} and its
 * {@code conversation_id}, null out of band), then {@code response.done} whose input is the whole
 * context, or the response's own {@code input} when it has one, and whose output is as long as the
 * model wants ({@code test_want_output}, greedy by default) within the response's or the session's
 * limit; the output joins the context unless the response is out of band ({@code conversation:
 * "none"}). The limits are read under the interface's names only: {@code response.max_output_tokens}
 * in both, {@code session.max_output_tokens} on GA and {@code session.max_response_output_tokens}
 * on beta (the header {@code OpenAI-Beta: realtime=v1}); a limit under another name is ignored.
 * {@code test_hold} keeps the response in progress until a {@code response.cancel}, which bills
 * half of it. {@code test_defer} leaves a {@code response.create} unanswered (the provider has not
 * started it yet) until an event with {@code test_release} arrives; {@code test_refuse} answers it
 * with an {@code error} naming its {@code event_id}, as the provider refuses a request. A {@code test_script} plays
 * back the events a test wrote instead ({@code response.done} with {@code usage}, function calls,
 * transcriptions). An {@code input_audio_buffer.commit} with {@code test_vad} starts a response
 * the way server VAD does, without a {@code response.create}; one with {@code test_transcribe}
 * is committed and transcribed (billed by duration). Everything received is recorded, with the request headers and what was billed.
 * Speaks {@code ws://}, or {@code wss://} when started with a keystore (as the provider does).
 */
public final class FakeUpstream implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one upstream connection saw. */
    public static final class Connection {
        public final String authorization;
        public final String model;
        public volatile String beta;
        public final List<String> received = new CopyOnWriteArrayList<>();
        /** Payloads of the pongs the gateway answered this connection's pings with. */
        public final List<String> pongs = new CopyOnWriteArrayList<>();
        /** The usage of every response.done this connection sent: what the provider billed. */
        public final List<JsonNode> billed = new CopyOnWriteArrayList<>();
        /** Per held response cancelled: microseconds from its response.created leaving to the cancel arriving. */
        public final List<Long> cancelMicros = new CopyOnWriteArrayList<>();
        /** The types of the events sent on this connection (on a call: on any of its sidebands), in order. */
        public final List<String> sentTypes = new CopyOnWriteArrayList<>();
        volatile Session session;
        /** The {@code response.done} held back by {@link #holdsInstructed}; null: none. */
        volatile Runnable heldDone;

        /** Sends the {@code response.done} held back by {@link #holdsInstructed} (false: none was held). */
        public boolean finishHeld() {
            Runnable d = heldDone;
            heldDone = null;
            if (d != null) {
                d.run();
            }
            return d != null;
        }

        Connection(String authorization, String model) {
            this.authorization = authorization;
            this.model = model;
        }

        /** Drops the connection as a failing upstream would. */
        public void drop() {
            session.disconnect();
        }

        public boolean open() {
            return session != null && session.isOpen();
        }
    }

    private final Server server = new Server();
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final Map<Session, Connection> bySession = new ConcurrentHashMap<>();

    private final String scheme;

    /**
     * When set, generated responses speak as the provider's do: {@code response.output_audio.delta}
     * events (one per 100 output tokens, at least one) before their {@code response.done}, and a
     * response's {@code instructions} count as input (a token per 4 characters).
     */
    public volatile boolean speaks;
    /**
     * When set, a {@code response.create} carrying {@code response.instructions} is announced and
     * never finished: its {@code response.done} never comes, and a cancel of it is not answered.
     */
    public volatile boolean neverFinishesInstructed;
    /**
     * When set, a {@code response.create} carrying {@code response.instructions} is announced and
     * speaks (with {@link #speaks}), and its {@code response.done} waits until the test calls
     * {@link Connection#finishHeld()}: a response the test knows to be in progress.
     */
    public volatile boolean holdsInstructed;

    public FakeUpstream() throws Exception {
        this(null);
    }

    /** With a keystore: TLS only ({@code wss://}), with the keystore's certificate for 127.0.0.1 and localhost. */
    public FakeUpstream(TestKeystore tls) throws Exception {
        ServerConnector connector;
        if (tls == null) {
            connector = new ServerConnector(server);
            scheme = "ws";
        } else {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(tls.path().toString());
            ssl.setKeyStorePassword(tls.password());
            ssl.setKeyStoreType("PKCS12");
            connector = new ServerConnector(server, ssl);
            scheme = "wss";
        }
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        JettyWebSocketServletContainerInitializer.configure(context, null);
        context.addServlet(new Servlet(), "/v1/realtime");
        context.addServlet(new jakarta.servlet.http.HttpServlet() {
            @Override
            protected void doPost(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                    throws java.io.IOException {
                callsPost(req, resp);
            }
        }, "/v1/realtime/calls/*");
        server.setHandler(context);
        server.start();
    }

    public String url() {
        return scheme + "://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "/v1/realtime";
    }

    /** The provider's WebRTC calls endpoint, as the guard derives it from {@link #url()}. */
    public String callsUrl() {
        return (scheme.equals("wss") ? "https" : "http") + "://127.0.0.1:"
                + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "/v1/realtime/calls";
    }

    // ---- WebRTC calls: POST /v1/realtime/calls, hang-ups and the sideband (?call_id=) ----

    /** The server key a call offer and a sideband must carry ({@code Authorization: Bearer …}). */
    public volatile String serverKey = ducke.testing.TestApps.UPSTREAM_KEY;
    /** The status the next offers get: 201 (a call), 400 (with an error body), 500, or -1 (the connection dropped unanswered). */
    public volatile int offerStatus = 201;
    /** A sideband upgrade is refused with this status when not 0 (the provider will not attach it). */
    public volatile int refuseAttach;
    /** While set, a hang-up is recorded and then answered only once this opens (30 s at most): a slow provider. */
    public volatile java.util.concurrent.CountDownLatch hangupGate;
    /** Sideband upgrades refused because of {@link #refuseAttach}. */
    public final java.util.concurrent.atomic.AtomicInteger refusedAttaches = new java.util.concurrent.atomic.AtomicInteger();
    /** Every offer that reached the calls endpoint, in order. */
    public final List<Offer> offers = new CopyOnWriteArrayList<>();
    /** The ids of every call hung up, in order ({@code POST /v1/realtime/calls/{id}/hangup}). */
    public final List<String> hangups = new CopyOnWriteArrayList<>();
    private final Map<String, Call> calls = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger callIds = new java.util.concurrent.atomic.AtomicInteger();

    /** An offer as the provider got it: the request's headers, its sdp part and its session part (null if none). */
    public static final class Offer {
        public final Map<String, String> headers;
        public final String contentType;
        public final String sdp;
        public final JsonNode session;

        Offer(Map<String, String> headers, String contentType, String sdp, JsonNode session) {
            this.headers = headers;
            this.contentType = contentType;
            this.sdp = sdp;
            this.session = session;
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    /**
     * A call the provider holds: its offer, the session as the provider applied it (the offer's,
     * merged with every {@code session.update}), and its sideband connections. The call's
     * conversation is one {@link Endpoint} that outlives a sideband that re-attaches: what it
     * sends goes out on the sideband attached now. {@link #events} holds what the guard sent on
     * any of them, and what the provider billed.
     */
    public final class Call {
        public final String id;
        public final Offer offer;
        /** Everything the guard sent on the call's sidebands, and every usage billed for the call. */
        public final Connection events;
        /** One per sideband attachment, in order. */
        public final List<Connection> attaches = new CopyOnWriteArrayList<>();
        /** What the caller sent on its data channel. */
        public final List<String> callerSent = new CopyOnWriteArrayList<>();
        final Endpoint endpoint;
        volatile com.fasterxml.jackson.databind.node.ObjectNode session;
        volatile boolean ended;

        Call(String id, Offer offer) {
            this.id = id;
            this.offer = offer;
            this.events = new Connection(offer.header("Authorization"), offer.session == null ? "" : offer.session.path("model").asText(""));
            this.session = offer.session instanceof com.fasterxml.jackson.databind.node.ObjectNode o ? o.deepCopy() : JSON.createObjectNode();
            this.endpoint = new Endpoint(events, this);
            this.endpoint.owner = FakeUpstream.this;
        }

        /** The session as the provider applies it now. */
        public JsonNode session() {
            return session;
        }

        /** The caller's data channel: a client event the provider acts on; its server events go out on the sideband. */
        public void callerSends(String event) {
            callerSent.add(event);
            synchronized (endpoint) {
                endpoint.handle(event, true);
            }
        }

        /**
         * The caller speaks for {@code ms} into the call's audio, which only the provider hears:
         * server VAD tells the sideband ({@code input_audio_buffer.speech_started/stopped}) and
         * the audio joins the context (10 tokens a second).
         */
        public void callerSpeaks(long ms) {
            synchronized (endpoint) {
                endpoint.speech(ms);
            }
        }

        /** The sideband attached now, or null. */
        public Connection sideband() {
            return attaches.isEmpty() ? null : attaches.get(attaches.size() - 1);
        }

        /** The sideband attached now is open. */
        public boolean attached() {
            Connection c = sideband();
            return c != null && c.open();
        }

        /** Drops the sideband attached now (a network failure): the call goes on. */
        public void dropSideband() {
            sideband().drop();
        }

        /** The caller hung up: the call ends, its sidebands are closed normally, later attachments get 404. */
        public void callerHangsUp() {
            end();
        }

        /** Hung up by the guard ({@code POST …/hangup}). */
        public boolean hungUp() {
            return hangups.contains(id);
        }

        public boolean ended() {
            return ended;
        }

        void end() {
            ended = true;
            for (Connection c : attaches) {
                Session s = c.session;
                if (s != null && s.isOpen()) {
                    s.close(1000, "call ended", Callback.NOOP);
                }
            }
        }
    }

    /** The call named {@code id} (as the provider's Location named it). */
    public Call call(String id) {
        Call c = calls.get(id);
        if (c == null) {
            throw new IllegalArgumentException("no call " + id + "; calls: " + calls.keySet());
        }
        return c;
    }

    /** The call created last. */
    public Call lastCall() {
        return call("rtc_" + callIds.get());
    }

    public int callsCreated() {
        return callIds.get();
    }

    private void callsPost(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
            throws java.io.IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        if (!("Bearer " + serverKey).equals(req.getHeader("Authorization"))) {
            resp.setStatus(401);
            resp.setContentType("application/json");
            resp.getWriter().write("{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\","
                    + "\"message\":\"Incorrect API key provided\"}}");
            return;
        }
        if (path.isEmpty() || path.equals("/")) {
            offer(req, resp);
            return;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("/([^/]+)/hangup").matcher(path);
        if (!m.matches()) {
            resp.sendError(404);
            return;
        }
        String id = m.group(1);
        hangups.add(id);
        java.util.concurrent.CountDownLatch gate = hangupGate;
        if (gate != null) {
            try {
                gate.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Call c = calls.get(id);
        if (c == null || c.ended) {
            resp.sendError(404);
            return;
        }
        c.end();
        resp.setStatus(200);
    }

    private void offer(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
            throws java.io.IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : java.util.Collections.list(req.getHeaderNames())) {
            headers.put(name.toLowerCase(java.util.Locale.ROOT), req.getHeader(name));
        }
        String type = req.getContentType() == null ? "" : req.getContentType();
        String body = new String(req.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String sdp = null;
        JsonNode session = null;
        if (type.startsWith("multipart/form-data")) {
            String boundary = type.substring(type.indexOf("boundary=") + "boundary=".length()).replace("\"", "");
            for (String part : body.split("--" + java.util.regex.Pattern.quote(boundary))) {
                int blank = part.indexOf("\r\n\r\n");
                if (blank < 0) {
                    continue;
                }
                String head = part.substring(0, blank);
                String content = part.substring(blank + 4);
                if (content.endsWith("\r\n")) {
                    content = content.substring(0, content.length() - 2);
                }
                if (head.contains("name=\"sdp\"")) {
                    sdp = content;
                } else if (head.contains("name=\"session\"")) {
                    session = JSON.readTree(content);
                }
            }
        } else {
            sdp = body;
        }
        Offer offer = new Offer(headers, type, sdp, session);
        offers.add(offer);
        int status = offerStatus;
        if (status < 0) {
            // the provider drops the connection without an answer
            org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(req)
                    .getConnectionMetaData().getConnection().getEndPoint().close();
            return;
        }
        if (status == 400) {
            resp.setStatus(400);
            resp.setContentType("application/json");
            resp.getWriter().write("{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"invalid_offer\","
                    + "\"message\":\"Invalid SDP offer: no audio media section (test)\",\"param\":null}}");
            return;
        }
        if (status / 100 != 2) {
            resp.setStatus(status);
            resp.setContentType("application/json");
            resp.getWriter().write("{\"error\":{\"type\":\"server_error\",\"message\":\"The server had an error (test)\"}}");
            return;
        }
        String id = "rtc_" + callIds.incrementAndGet();
        calls.put(id, new Call(id, offer));
        resp.setStatus(201);
        resp.setHeader("Location", "/v1/realtime/calls/" + id);
        resp.setContentType("application/sdp");
        resp.getWriter().write("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
                + "a=rtpmap:111 opus/48000/2\r\na=x-test-call:" + id + "\r\n");
    }

    /** A sideband upgrade: attaches to its call, or is refused (404 for a call unknown or ended). */
    private Object sideband(String id, org.eclipse.jetty.ee10.websocket.server.JettyServerUpgradeRequest req,
                            org.eclipse.jetty.ee10.websocket.server.JettyServerUpgradeResponse resp) throws java.io.IOException {
        Call call = calls.get(id);
        if (!("Bearer " + serverKey).equals(req.getHeader("Authorization"))) {
            resp.sendError(401, "key refused");
            return null;
        }
        if (call == null || call.ended) {
            resp.sendError(404, "no such call");
            return null;
        }
        if (refuseAttach != 0) {
            refusedAttaches.incrementAndGet();
            resp.sendError(refuseAttach, "refused (test)");
            return null;
        }
        Connection c = new Connection(req.getHeader("Authorization"), call.events.model);
        call.attaches.add(c);
        return new SidebandEndpoint(call, c);
    }

    /** One sideband connection of a call: what it receives goes to the call's conversation. */
    public static final class SidebandEndpoint implements Session.Listener.AutoDemanding {
        private final Call call;
        private final Connection c;

        SidebandEndpoint(Call call, Connection c) {
            this.call = call;
            this.c = c;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            c.session = session;
            synchronized (call.endpoint) {
                call.events.session = session;
            }
        }

        @Override
        public void onWebSocketText(String message) {
            c.received.add(message);
            synchronized (call.endpoint) {
                call.endpoint.handle(message, false);
            }
        }

        @Override
        public void onWebSocketPong(ByteBuffer payload) {
            c.pongs.add(StandardCharsets.UTF_8.decode(payload).toString());
        }
    }

    public List<Connection> connections() {
        return connections;
    }

    public long openConnections() {
        return connections.stream().filter(Connection::open).count();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class Servlet extends JettyWebSocketServlet {
        @Override
        protected void configure(JettyWebSocketServletFactory factory) {
            factory.setMaxTextMessageSize(8 * 1024 * 1024);
            factory.setCreator((req, resp) -> {
                List<String> callId = req.getParameterMap().get("call_id");
                if (callId != null) {
                    return sideband(callId.get(0), req, resp);
                }
                Connection c = new Connection(req.getHeader("Authorization"),
                        req.getParameterMap().getOrDefault("model", List.of("")).get(0));
                c.beta = req.getHeader("OpenAI-Beta");
                connections.add(c);
                Endpoint e = new Endpoint(c);
                e.owner = FakeUpstream.this;
                return e;
            });
        }
    }

    public static final class Endpoint implements Session.Listener.AutoDemanding {
        /** Base64 characters of 24 kHz PCM16 per audio token, as the provider bills (10 tokens a second). */
        static final long AUDIO_CHARS_PER_TOKEN = 6_400;
        /** What a greedy model writes when nothing stops it. */
        static final long GREEDY_OUTPUT = 100_000;

        private final Connection c;
        private long responses;
        private long contextTokens = 1_000;
        private long sessionMaxOutput = Long.MAX_VALUE;
        /** A response the test holds open until it is cancelled: its id and the usage it bills then. */
        private final Map<String, JsonNode> held = new LinkedHashMap<>();
        /** Server VAD starts a response of its own as the next cancel of the response in progress (no id) arrives. */
        private volatile boolean vadOnCancel;
        /** A transcription's completion the test holds until the next response.cancel. */
        private volatile String heldTranscription;
        private int commits;
        /** Cancels are not answered: a provider whose last usage never arrives. */
        private volatile boolean deaf;
        /** How often the loop's script was played again. */
        private int replays;
        /** A script played for every later response.create too: a model that keeps doing the same. */
        private volatile JsonNode loop;
        /** A response.create not answered yet ({@code test_defer}), until an event with {@code test_release}. */
        private JsonNode deferred;
        /** When each held response's response.created left (the monotonic clock: a latency figure, never asserted). */
        private final Map<String, Long> heldSince = new ConcurrentHashMap<>();
        /** The stand-in this endpoint belongs to (its switches); null: none set. */
        FakeUpstream owner;
        /** Responses announced and never finished ({@link #neverFinishesInstructed}). */
        private final java.util.Set<String> unfinished = ConcurrentHashMap.newKeySet();
        /** Held responses that are out of band. */
        private final java.util.Set<String> heldOutOfBand = ConcurrentHashMap.newKeySet();

        /** The WebRTC call this endpoint is the conversation of; null for a WebSocket session. */
        private final Call call;

        Endpoint(Connection c) {
            this(c, null);
        }

        Endpoint(Connection c, Call call) {
            this.c = c;
            this.call = call;
            if (call != null) {
                JsonNode v = call.session.path("max_output_tokens");
                if (v.isIntegralNumber()) {
                    sessionMaxOutput = v.asLong();
                }
            }
        }

        @Override
        public void onWebSocketOpen(Session session) {
            c.session = session;
            session.sendText("{\"type\":\"session.created\",\"event_id\":\"event_1\",\"session\":{\"id\":\"sess_up\",\"model\":\""
                    + c.model + "\"}}", Callback.NOOP);
        }

        @Override
        public void onWebSocketText(String message) {
            handle(message, false);
        }

        /** A client event: the gateway's, or (on a call) the caller's, sent on its data channel and not recorded here. */
        void handle(String message, boolean fromCaller) {
            if (!fromCaller) {
                c.received.add(message);
            }
            try {
                JsonNode event = JSON.readTree(message);
                if (event.has("test_ping")) {
                    // the provider may ping; the gateway must answer
                    c.session.sendPing(ByteBuffer.wrap(event.get("test_ping").asText().getBytes(StandardCharsets.UTF_8)),
                            Callback.NOOP);
                }
                if (event.path("test_release").asBoolean() && deferred != null) {
                    JsonNode d = deferred;
                    deferred = null;
                    responseCreate(d);
                }
                switch (event.path("type").asText()) {
                    case "conversation.item.create" -> {
                        contextTokens += event.path("item").toString().length() / 4;
                        send("{\"type\":\"conversation.item.created\",\"event_id\":\"event_ci\",\"previous_item_id\":null,\"item\":"
                                + event.path("item") + "}");
                    }
                    case "input_audio_buffer.append" -> contextTokens += event.path("audio").asText().length() / AUDIO_CHARS_PER_TOKEN;
                    case "session.update" -> {
                        JsonNode v = event.path("session").path(beta() ? "max_response_output_tokens" : "max_output_tokens");
                        if (!v.isMissingNode()) {
                            sessionMaxOutput = v.canConvertToLong() && v.isIntegralNumber() ? v.asLong() : Long.MAX_VALUE;
                        }
                        if (call != null && event.path("session").isObject()) {
                            // the provider applies it and tells the sideband, whoever sent it
                            com.fasterxml.jackson.databind.node.ObjectNode merged = call.session.deepCopy();
                            merged.setAll((com.fasterxml.jackson.databind.node.ObjectNode) event.get("session"));
                            call.session = merged;
                            send("{\"type\":\"session.updated\",\"event_id\":\"event_su\",\"session\":" + merged + "}");
                        }
                    }
                    case "input_audio_buffer.commit" -> {
                        if (event.has("test_transcribe")) {
                            transcribe(event.get("test_transcribe"));
                        }
                        if (event.path("test_vad").asBoolean()) {
                            // server VAD: the upstream starts a response by itself, with the session's limit
                            responseCreate(JSON.createObjectNode().put("type", "response.create"));
                        }
                    }
                    case "response.create" -> responseCreate(event);
                    case "response.cancel" -> {
                        if (!deaf) {
                            cancel(event);
                        }
                    }
                    case "conversation.item.retrieve" -> {
                        // as the provider answers for a user audio item: the item's audio, whole, as base64
                        // (20 s of 24 kHz PCM16 is about 1.3 MB)
                        send("{\"type\":\"conversation.item.retrieved\",\"event_id\":\"event_ir\",\"item\":{\"id\":"
                                + event.path("item_id") + ",\"object\":\"realtime.item\",\"type\":\"message\",\"role\":\"user\","
                                + "\"content\":[{\"type\":\"input_audio\",\"audio\":\""
                                + "A".repeat(event.path("test_bytes").asInt(1_300_000)) + "\"}]}}");
                    }
                    default -> { }
                }
            } catch (Exception e) {
                send("{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\"}}");
            }
        }

        /** Milliseconds of the call's audio so far. */
        private long audioMs;

        void speech(long ms) {
            String item = "item_speech_" + (++commits);
            send("{\"type\":\"input_audio_buffer.speech_started\",\"event_id\":\"event_ss\",\"audio_start_ms\":" + audioMs
                    + ",\"item_id\":\"" + item + "\"}");
            audioMs += ms;
            contextTokens += ms / 100;
            send("{\"type\":\"input_audio_buffer.speech_stopped\",\"event_id\":\"event_sp\",\"audio_end_ms\":" + audioMs
                    + ",\"item_id\":\"" + item + "\"}");
        }

        private boolean beta() {
            return c.beta != null && c.beta.contains("realtime=v1");
        }

        private void responseCreate(JsonNode event) {
            if (event.path("test_refuse").asBoolean()) {
                send("{\"type\":\"error\",\"event_id\":\"event_err\",\"error\":{\"type\":\"invalid_request_error\","
                        + "\"code\":\"invalid_value\",\"message\":\"Refused (test)\",\"param\":null,\"event_id\":"
                        + event.path("event_id") + "}}");
                return;
            }
            if (event.path("test_defer").asBoolean()) {
                deferred = ((com.fasterxml.jackson.databind.node.ObjectNode) event.deepCopy()).without("test_defer");
                return;
            }
            if (event.has("test_flood")) {
                String chunk = "{\"type\":\"response.output_audio.delta\",\"delta\":\""
                        + "A".repeat(event.get("test_flood").get("size").asInt()) + "\"}";
                for (int i = 0; i < event.get("test_flood").get("count").asInt() && c.session.isOpen(); i++) {
                    c.session.sendText(chunk, Callback.NOOP);
                }
                return;
            }
            if (event.path("test_loop").asBoolean()) {
                loop = event.get("test_script");
            }
            JsonNode script = event.has("test_script") ? event.get("test_script") : loop;
            if (script != null) {
                boolean twice = event.path("test_keys_twice").asBoolean();
                // a script played again (a model that keeps doing the same) is a new response each time,
                // with ids of its own, as the provider's are
                String replay = event.has("test_script") ? null : "\"resp_r" + (++replays) + "_";
                for (JsonNode e : script) {
                    if (e.has("test_pad")) {
                        // an event larger than a client may send: padded here, by the provider
                        com.fasterxml.jackson.databind.node.ObjectNode padded = e.deepCopy();
                        padded.put("pad", "x".repeat(padded.remove("test_pad").asInt()));
                        e = padded;
                    }
                    if ("response.done".equals(e.path("type").asText())) {
                        c.billed.add(e.path("response").path("usage"));
                    }
                    String text = replay == null ? e.toString() : e.toString().replace("\"resp_", replay);
                    // a JSON style a provider could have: an event's type key written twice
                    send(twice ? text.replaceFirst("\\{\"type\":(\"[^\"]+\")", "{\"type\":$1,\"type\":$1") : text);
                }
                return;
            }
            // as the provider bills: input is the whole context, output as much as the model wants within the limit
            String id = "resp_" + (++responses);
            JsonNode r = event.path("response");
            // the response's limit has one name in both interfaces
            JsonNode limit = r.path("max_output_tokens");
            long max = limit.isIntegralNumber() ? limit.asLong() : limit.isMissingNode() ? sessionMaxOutput : Long.MAX_VALUE;
            long want = event.path("test_want_output").asLong(GREEDY_OUTPUT);
            long output = Math.min(want, max);
            boolean outOfBand = "none".equals(r.path("conversation").asText());
            // its own input instead of the conversation, counted as conversation items are
            long input = r.has("input") ? (r.get("input").toString().length() + r.path("instructions").asText("").length()) / 4
                    : contextTokens + (owner != null && owner.speaks ? r.path("instructions").asText("").length() / 4 : 0);
            // held before anything of it is sent: a test that saw its first event can finish it at once
            boolean holds = owner != null && owner.holdsInstructed && r.has("instructions");
            if (holds) {
                long in = input;
                c.heldDone = () -> {
                    synchronized (this) {
                        if (!outOfBand) {
                            contextTokens += output;
                        }
                        done(id, "completed", usage(in, output), outOfBand);
                    }
                };
            }
            send("{\"type\":\"response.created\",\"event_id\":\"event_rc\",\"response\":{\"id\":\"" + id
                    + "\",\"object\":\"realtime.response\",\"status\":\"in_progress\",\"conversation_id\":"
                    + conversationId(outOfBand) + ",\"max_output_tokens\":" + (max == Long.MAX_VALUE ? "\"inf\"" : max)
                    + ",\"output\":[]}}");
            if (owner != null && owner.neverFinishesInstructed && r.has("instructions")) {
                unfinished.add(id);
                return;
            }
            if (owner != null && owner.speaks) {
                for (long t = 0; t < Math.max(1, output); t += 100) {
                    send("{\"type\":\"response.output_audio.delta\",\"event_id\":\"event_ad\",\"response_id\":\"" + id
                            + "\",\"item_id\":\"item_a\",\"output_index\":0,\"content_index\":0,\"delta\":\"UklGRiQAAABXQVZF\"}");
                }
            }
            if (holds) {
                return;
            }
            if (event.path("test_hold").asBoolean()) {
                heldSince.put(id, System.nanoTime());
                synchronized (held) {
                    held.put(id, usage(input, output / 2));
                }
                if (outOfBand) {
                    heldOutOfBand.add(id);
                }
                vadOnCancel |= event.path("test_vad_on_cancel").asBoolean();
                deaf |= event.path("test_deaf").asBoolean();
                return;
            }
            if (!outOfBand) {
                contextTokens += output;
            }
            done(id, "completed", usage(input, output), outOfBand);
        }

        private static String conversationId(boolean outOfBand) {
            return outOfBand ? "null" : "\"conv_1\"";
        }

        /**
         * Cancels the held response named (or the first one held), or answers with the API's error
         * when none is in progress; with {@code test_vad_on_cancel}, a cancel of the response in
         * progress (no id) first lets a response of the upstream's own start (server VAD found a
         * new turn); a
         * held transcription completes now (it finishes whatever the client does, and the provider
         * bills it).
         */
        private void cancel(JsonNode event) {
            String named = event.path("response_id").asText("");
            if (unfinished.contains(named)) {
                return;
            }
            if (vadOnCancel && named.isEmpty()) {
                vadOnCancel = false;
                responseCreate(JSON.createObjectNode().put("type", "response.create").put("test_hold", true));
            }
            String id;
            JsonNode usage;
            synchronized (held) {
                id = named.isEmpty() ? held.keySet().stream().findFirst().orElse(null) : held.containsKey(named) ? named : null;
                usage = id == null ? null : held.remove(id);
            }
            if (id != null) {
                Long since = heldSince.remove(id);
                if (since != null) {
                    c.cancelMicros.add((System.nanoTime() - since) / 1_000);
                }
                done(id, "cancelled", usage, heldOutOfBand.remove(id));
            } else {
                send("{\"type\":\"error\",\"event_id\":\"event_err\",\"error\":{\"type\":\"invalid_request_error\","
                        + "\"code\":\"response_cancel_not_active\",\"message\":\"There is no active response\",\"param\":null,"
                        + "\"event_id\":" + event.path("event_id") + "}}");
            }
            String transcription = heldTranscription;
            if (transcription != null) {
                heldTranscription = null;
                send(transcription);
            }
        }

        /**
         * Commits the input audio as server VAD or a client commit does, and transcribes it, billed
         * by duration ({@code seconds}); with {@code hold} the completion waits for the next
         * {@code response.cancel}, as a transcription still running when the client leaves.
         */
        private void transcribe(JsonNode t) {
            String itemId = "item_audio_" + (++commits);
            send("{\"type\":\"input_audio_buffer.committed\",\"event_id\":\"event_ic\",\"previous_item_id\":null,"
                    + "\"item_id\":\"" + itemId + "\"}");
            var usage = JSON.createObjectNode().put("type", "duration").put("seconds", t.path("seconds").asInt(1));
            c.billed.add(usage);
            String completed = "{\"type\":\"conversation.item.input_audio_transcription.completed\",\"event_id\":\"event_tc\","
                    + "\"item_id\":\"" + itemId + "\",\"content_index\":0,\"transcript\":\"hello\",\"usage\":" + usage + "}";
            if (t.path("hold").asBoolean()) {
                heldTranscription = completed;
            } else {
                send(completed);
            }
        }

        private void done(String id, String status, JsonNode usage, boolean outOfBand) {
            c.billed.add(usage);
            send("{\"type\":\"response.done\",\"event_id\":\"event_rd\",\"response\":{\"id\":\"" + id
                    + "\",\"object\":\"realtime.response\",\"status\":\"" + status + "\",\"conversation_id\":"
                    + conversationId(outOfBand) + ",\"output\":[],\"usage\":" + usage + "}}");
        }

        private static JsonNode usage(long input, long output) {
            var u = JSON.createObjectNode();
            u.put("total_tokens", input + output);
            u.put("input_tokens", input);
            u.put("output_tokens", output);
            u.putObject("input_token_details").put("text_tokens", input).put("audio_tokens", 0).put("cached_tokens", 0);
            u.putObject("output_token_details").put("text_tokens", 0).put("audio_tokens", output);
            return u;
        }

        private void send(String text) {
            int t = text.indexOf("\"type\":\"");
            if (t >= 0) {
                c.sentTypes.add(text.substring(t + 8, text.indexOf('"', t + 8)));
            }
            Session s = c.session;
            if (s != null && s.isOpen()) {
                s.sendText(text, Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketPong(ByteBuffer payload) {
            c.pongs.add(StandardCharsets.UTF_8.decode(payload).toString());
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            c.received.add("<binary " + copy.remaining() + " bytes>");
            c.session.sendBinary(copy, Callback.NOOP);
        }
    }
}
