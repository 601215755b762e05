package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;
import ducke.http.RateLimitGate;
import ducke.metrics.RelayMetrics;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One relayed session: the client's WebSocket (Jetty) and the upstream's (JDK client), with the
 * ledger in between. Frames pass unchanged both ways; only the few events that cost money or call
 * limited tools are parsed. Every way a session can end goes through {@link #finish}, which runs
 * once: it ends the ledger (a no-op if it already ended), tells the client why, and closes both
 * sockets. Bytes queued toward either side are bounded.
 */
public final class RelaySession implements Session.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(RelaySession.class);

    private record Blocked(String callId, String tool, long retryAfterSeconds) {
    }

    private final RelayContext ctx;
    private final String client;
    private final String model;
    private volatile SessionLedger ledger;
    private volatile Session clientSession;
    private volatile ClientSender toClient;
    private volatile WebSocket upstream;
    private final Object upstreamLock = new Object();
    private CompletableFuture<?> upstreamTail = CompletableFuture.completedFuture(null);
    private final List<Object> early = new ArrayList<>();
    private final AtomicLong pendingToUpstream = new AtomicLong();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final Map<String, Blocked> blocked = new ConcurrentHashMap<>();
    private final StringBuilder partialText = new StringBuilder();
    private final ByteArrayOutputStream partialBinary = new ByteArrayOutputStream();
    private volatile ScheduledFuture<?> timer;
    private final Object chargeLock = new Object();
    private boolean charging;
    private SessionLedger endedWhileCharging;
    private volatile ScheduledFuture<?> pinger;
    /** Last sign of life from the upstream, by the monotonic clock (a liveness timeout, not domain time). */
    private volatile long lastUpstreamNanos = System.nanoTime();

    RelaySession(RelayContext ctx, SessionLedger ledger, String client) {
        this.ctx = ctx;
        this.ledger = ledger;
        this.client = client;
        this.model = ledger.model();
    }

    String sessionId() {
        return ledger.sessionId();
    }

    // ---- client side (Jetty) ----

    @Override
    public void onWebSocketOpen(Session session) {
        clientSession = session;
        toClient = new ClientSender(session);
        ctx.registry().add(this);
        sendToClient(ctx.events().sessionStarted(ledger, ctx.guard().limits()));
        scheduleExpiry();
        connectUpstream();
        session.demand();
    }

    @Override
    public void onWebSocketText(String message) {
        ctx.metrics().frame(RelayMetrics.CLIENT_TO_UPSTREAM, message.length());
        toUpstream(message, message.length());
        demandNext();
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
        callback.succeed();
        ctx.metrics().frame(RelayMetrics.CLIENT_TO_UPSTREAM, copy.remaining());
        toUpstream(copy, copy.remaining());
        demandNext();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        finish(EndReason.CLIENT_CLOSED, null, null);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.debug("Client connection of {} failed", sessionId(), cause);
        finish(EndReason.CLIENT_CLOSED, null, null);
    }

    private void demandNext() {
        Session s = clientSession;
        if (s != null && s.isOpen() && !finished.get()) {
            s.demand();
        }
    }

    private void sendToClient(Object frame) {
        ClientSender sender = toClient;
        if (sender == null) {
            return;
        }
        sender.send(frame);
        if (sender.pendingBytes() > ctx.maxBufferedBytes()) {
            stalled("client is not reading");
        }
    }

    // ---- upstream side (JDK WebSocket client) ----

    private void connectUpstream() {
        if (ctx.apiKey().isBlank()) {
            ctx.metrics().connectFailure();
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream model is not configured");
            return;
        }
        URI uri = URI.create(ctx.upstreamUrl() + (ctx.upstreamUrl().getQuery() == null ? "?" : "&")
                + "model=" + URLEncoder.encode(model, StandardCharsets.UTF_8));
        ctx.http().newWebSocketBuilder()
                .header("Authorization", "Bearer " + ctx.apiKey())
                .connectTimeout(ctx.connectTimeout())
                .buildAsync(uri, new UpstreamListener())
                .whenComplete((ws, error) -> {
                    if (error != null) {
                        ctx.metrics().connectFailure();
                        finish(EndReason.UPSTREAM_ERROR, null, "the upstream model cannot be reached");
                    }
                });
    }

    private void upstreamOpened(WebSocket ws) {
        lastUpstreamNanos = System.nanoTime();
        long every = ctx.pingInterval().toMillis();
        pinger = ctx.timers().scheduleWithFixedDelay(this::pingUpstream, every, every, TimeUnit.MILLISECONDS);
        synchronized (upstreamLock) {
            upstream = ws;
            for (Object frame : early) {
                chainUpstreamSend(frame);
            }
            early.clear();
        }
        if (finished.get()) {
            ws.abort();
        }
    }

    /** Pings the upstream, or gives it up when it has not answered for two intervals. */
    private void pingUpstream() {
        if (finished.get()) {
            return;
        }
        if (System.nanoTime() - lastUpstreamNanos > 2 * ctx.pingInterval().toNanos()) {
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream stopped answering");
            return;
        }
        synchronized (upstreamLock) {
            WebSocket ws = upstream;
            upstreamTail = upstreamTail.thenCompose(v -> ws.sendPing(ByteBuffer.allocate(0)))
                    .whenComplete((v, error) -> {
                        if (error != null && !finished.get()) {
                            finish(EndReason.UPSTREAM_ERROR, null, "the upstream connection failed");
                        }
                    });
        }
    }

    private void toUpstream(Object frame, long size) {
        if (finished.get()) {
            return;
        }
        if (pendingToUpstream.addAndGet(size) > ctx.maxBufferedBytes()) {
            stalled("upstream is not reading");
            return;
        }
        synchronized (upstreamLock) {
            if (upstream == null) {
                early.add(frame);
            } else {
                chainUpstreamSend(frame);
            }
        }
    }

    /** The JDK client allows one send at a time: each send waits for the one before. Caller holds the lock. */
    private void chainUpstreamSend(Object frame) {
        WebSocket ws = upstream;
        long size = frame instanceof String t ? t.length() : ((ByteBuffer) frame).remaining();
        upstreamTail = upstreamTail
                .thenCompose(v -> frame instanceof String t ? ws.sendText(t, true) : ws.sendBinary((ByteBuffer) frame, true))
                .whenComplete((v, error) -> {
                    pendingToUpstream.addAndGet(-size);
                    if (error != null && !finished.get()) {
                        finish(EndReason.UPSTREAM_ERROR, null, "the upstream connection failed");
                    }
                });
    }

    private final class UpstreamListener implements WebSocket.Listener {
        @Override
        public void onOpen(WebSocket ws) {
            upstreamOpened(ws);
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            // demand first: the JDK client may miss a dropped connection while no message is requested;
            // what is queued toward the client stays bounded by maxBufferedBytes instead
            ws.request(1);
            lastUpstreamNanos = System.nanoTime();
            partialText.append(data);
            if (partialText.length() > ctx.maxFrameBytes()) {
                partialText.setLength(0);
                finish(EndReason.UPSTREAM_ERROR, null, "the upstream sent an oversized frame");
                return null;
            }
            if (last) {
                String message = partialText.toString();
                partialText.setLength(0);
                ctx.metrics().frame(RelayMetrics.UPSTREAM_TO_CLIENT, message.length());
                fromUpstream(message);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ws.request(1);
            lastUpstreamNanos = System.nanoTime();
            if (partialBinary.size() + data.remaining() > ctx.maxFrameBytes()) {
                partialBinary.reset();
                finish(EndReason.UPSTREAM_ERROR, null, "the upstream sent an oversized frame");
                return null;
            }
            byte[] part = new byte[data.remaining()];
            data.get(part);
            partialBinary.writeBytes(part);
            if (last) {
                ByteBuffer frame = ByteBuffer.wrap(partialBinary.toByteArray());
                partialBinary.reset();
                ctx.metrics().frame(RelayMetrics.UPSTREAM_TO_CLIENT, frame.remaining());
                sendToClient(frame);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            ws.request(1);
            lastUpstreamNanos = System.nanoTime();
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
            ws.request(1);
            lastUpstreamNanos = System.nanoTime();
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream closed the connection");
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream connection failed");
        }
    }

    // ---- metering and tool quotas ----

    private void fromUpstream(String message) {
        String type = EventScanner.type(message);
        if (!RealtimeEvents.matters(type)) {
            sendToClient(message);
            return;
        }
        JsonNode event;
        try {
            event = ctx.mapper().readTree(message);
        } catch (Exception e) {
            ctx.metrics().parseFailure();
            sendToClient(message);
            return;
        }
        switch (type) {
            case RealtimeEvents.RESPONSE_DONE -> responseDone(message, event);
            case RealtimeEvents.TRANSCRIPTION_COMPLETED -> {
                sendToClient(message);
                charge(() -> RealtimeEvents.transcriptionUsage(event));
            }
            case RealtimeEvents.OUTPUT_ITEM_ADDED -> {
                if (!blockedCall(event, type, true)) {
                    sendToClient(message);
                }
            }
            default -> {
                if (!blockedCall(event, type, false)) {
                    sendToClient(message);
                }
            }
        }
    }

    /**
     * Whether this event belongs to a call of a limited tool that the gateway answers itself. The
     * quota is checked when the call's item is added; every later event of that item is withheld.
     */
    private boolean blockedCall(JsonNode event, String type, boolean added) {
        RealtimeEvents.FunctionCall call = RealtimeEvents.functionCall(type, event);
        if (call == null) {
            return false;
        }
        if (!added) {
            return blocked.containsKey(call.itemId());
        }
        String tool = ctx.toolFunctions().get(call.name());
        if (tool == null) {
            return false;
        }
        RateLimitGate.Checked quota = ctx.gate().check(tool, client);
        if (quota.permitted()) {
            charge(() -> null, tool);
            return false;
        }
        blocked.put(call.itemId(), new Blocked(call.callId(), tool, quota.outcome().decision().retryAfterSeconds()));
        ctx.metrics().toolCallBlocked(tool);
        return true;
    }

    private void responseDone(String message, JsonNode event) {
        if (blocked.isEmpty()) {
            sendToClient(message);
        } else {
            sendToClient(withoutBlockedItems(event));
        }
        charge(() -> RealtimeEvents.responseUsage(event));
        answerBlockedCalls();
    }

    private String withoutBlockedItems(JsonNode event) {
        JsonNode output = event.path("response").path("output");
        if (output instanceof ArrayNode items) {
            for (int i = items.size() - 1; i >= 0; i--) {
                if (blocked.containsKey(items.get(i).path("id").asText(""))) {
                    items.remove(i);
                }
            }
        }
        return ((ObjectNode) event).toString();
    }

    private void answerBlockedCalls() {
        if (blocked.isEmpty() || finished.get()) {
            return;
        }
        List<Blocked> calls = List.copyOf(blocked.values());
        blocked.clear();
        try {
            for (Blocked b : calls) {
                String output = ctx.events().rateLimitedToolOutput(b.callId(), b.tool(), b.retryAfterSeconds());
                toUpstream(output, output.length());
            }
        } catch (Exception e) {
            LOG.warn("Could not answer a rate-limited tool call of {}", sessionId(), e);
            return;
        }
        String create = ctx.events().responseCreate();
        toUpstream(create, create.length());
    }

    private interface UsageSource {
        TokenUsage get();
    }

    private void charge(UsageSource source) {
        charge(source, null);
    }

    /**
     * The cluster announced that this session's ledger ended. While a charge is under way the
     * charge itself reports the end (after its usage update), so the announcement waits for it.
     */
    void ledgerEnded(SessionLedger ended) {
        synchronized (chargeLock) {
            if (charging) {
                endedWhileCharging = ended;
                return;
            }
        }
        finish(ended.endReason(), ended, null);
    }

    /** Charges a usage report, or a tool's fee when {@code tool} is given, and tells the client. */
    private void charge(UsageSource source, String tool) {
        if (finished.get()) {
            return;
        }
        synchronized (chargeLock) {
            charging = true;
        }
        try {
            chargeNow(source, tool);
        } finally {
            SessionLedger deferred;
            synchronized (chargeLock) {
                charging = false;
                deferred = endedWhileCharging;
                endedWhileCharging = null;
            }
            if (deferred != null) {
                finish(deferred.endReason(), deferred, null);
            }
        }
    }

    private void chargeNow(UsageSource source, String tool) {
        long now = ctx.clock().millis();
        CostGuard.Usage u;
        try {
            if (tool != null) {
                u = ctx.guard().chargeToolFee(sessionId(), tool, now);
            } else {
                TokenUsage usage = source.get();
                u = usage == null ? null : ctx.guard().report(sessionId(), model, null, usage, now);
            }
        } catch (IllegalArgumentException e) {
            ctx.metrics().parseFailure();
            return;
        }
        if (u == null || u.ledger() == null || !u.applied()) {
            return;
        }
        ledger = u.ledger();
        sendToClient(ctx.events().usageUpdate(ledger, u.callCostNanoUsd(), now));
        if (u.warningNow()) {
            sendToClient(ctx.events().budgetWarning(ledger));
        }
        if (u.endedNow() != null) {
            finish(u.endedNow(), ledger, null);
        }
    }

    // ---- ending ----

    private void scheduleExpiry() {
        long delay = Math.max(0, ledger.expiresAtMillis() - ctx.clock().millis());
        timer = ctx.timers().schedule(this::checkExpiry, delay, TimeUnit.MILLISECONDS);
    }

    private void checkExpiry() {
        if (finished.get()) {
            return;
        }
        if (ctx.clock().millis() >= ledger.expiresAtMillis()) {
            finish(EndReason.SESSION_TIMEOUT, null, null);
        } else {
            scheduleExpiry();
        }
    }

    private void stalled(String why) {
        LOG.info("Closing session {}: {}", sessionId(), why);
        finish(EndReason.CLIENT_CLOSED, null, why);
    }

    /**
     * Ends the session once, whatever the path: ends the ledger, sends the client the event that
     * says why, closes the client with the matching code and drops the upstream.
     *
     * @param ended  the ledger as ended elsewhere, when known
     * @param detail a sentence for upstream errors and stalls
     */
    void finish(EndReason reason, SessionLedger ended, String detail) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        ctx.registry().remove(this);
        for (ScheduledFuture<?> t : new ScheduledFuture<?>[]{timer, pinger}) {
            if (t != null) {
                t.cancel(false);
            }
        }
        SessionLedger last = ended;
        try {
            last = ctx.guard().end(sessionId(), reason, ctx.clock().millis()).map(e -> e.ledger()).orElse(ended);
        } catch (RuntimeException e) {
            LOG.warn("Could not end the ledger of {}; the reaper will", sessionId(), e);
        }
        EndReason actual = last != null && last.endReason() != null ? last.endReason() : reason;
        LOG.info("Relayed session {} ended: {}{}", sessionId(), actual.label(), detail == null ? "" : " (" + detail + ")");
        ctx.metrics().sessionClosed(actual.label());
        closeClient(actual, last == null ? ledger : last, detail);
        WebSocket ws = upstream;
        if (ws != null) {
            ws.abort();
        }
    }

    private void closeClient(EndReason reason, SessionLedger last, String detail) {
        ClientSender sender = toClient;
        if (sender == null) {
            return;
        }
        String event;
        int code;
        switch (reason) {
            case BUDGET_EXCEEDED -> { event = ctx.events().budgetExceeded(last); code = 1008; }
            case SESSION_TIMEOUT -> { event = ctx.events().sessionTimeout(ctx.guard().limits()); code = 1008; }
            case CIRCUIT_BREAKER -> { event = ctx.events().serviceUnavailable("circuit_breaker"); code = 1013; }
            case NODE_SHUTDOWN -> { event = ctx.events().serviceUnavailable("node_shutdown"); code = 1013; }
            case UPSTREAM_ERROR -> { event = ctx.events().upstreamUnavailable(detail == null ? "upstream failed" : detail); code = 1011; }
            case ADMIN_ENDED, API_ENDED -> { event = ctx.events().sessionEnded(reason.label()); code = 1008; }
            default -> { event = null; code = detail == null ? 1000 : 1008; }
        }
        String closeReason = detail != null && reason == EndReason.CLIENT_CLOSED ? detail : reason.label();
        if (event != null) {
            sender.send(event);
        }
        sender.close(code, closeReason);
    }
}
