package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;
import ducke.metrics.RelayMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One relayed session: the client's WebSocket ({@link ClientEndpoint}) and the upstream's
 * ({@link UpstreamLink}), with the ledger in between. Messages pass as UTF-8 bytes and are never
 * turned into Strings to be relayed. A client message passes the {@link ClientEventPolicy} before
 * it goes upstream (audio appends are measured without parsing); an upstream message is scanned
 * for its type ({@link EventScanner}) and only the few events that cost money or call limited
 * tools are parsed ({@link Metering}, {@link ToolCalls}). Every way a session can end
 * goes through {@link #finish}, which runs once: it stops taking client frames, lets the response
 * in flight finish (cancelled, then charged, within {@code finalUsageWait}), ends the ledger (a
 * no-op if it already ended), tells the client why, and closes both sockets.
 */
public final class RelaySession implements UpstreamLink.Events {

    private static final Logger LOG = LoggerFactory.getLogger(RelaySession.class);
    /** How long a closed client may take to complete the close handshake before its connection is dropped. */
    static final long CLIENT_CLOSE_GRACE_SECONDS = 10;
    /** What the client hears when a charge could not be recorded. */
    static final String UNCONFIRMED_CHARGE = "This server could not record a charge with its cluster in time; reconnect";

    private final RelayContext ctx;
    private final String sessionId;
    private final String model;
    private final boolean beta;
    private final Metering metering;
    private final ClientEventPolicy policy;
    private final ToolCalls tools;
    private final UpstreamLink upstream;
    private final AtomicBoolean finishing = new AtomicBoolean();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private volatile ClientSender toClient;
    private volatile ScheduledFuture<?> timer;
    private final Object chargeLock = new Object();
    private int charging;
    private SessionLedger endedWhileCharging;

    private final Handshake handshake;

    RelaySession(RelayContext ctx, Handshake handshake, boolean beta) {
        SessionLedger ledger = handshake.ledger();
        String client = handshake.client();
        this.handshake = handshake;
        this.ctx = ctx;
        this.sessionId = ledger.sessionId();
        this.model = ledger.model();
        this.beta = beta;
        var price = ctx.guard().prices().match(model).price();
        this.metering = new Metering(ctx.guard(), ledger, ctx.maxResponsesInFlight(),
                ResponseBudget.forModel(price, ctx.minInputReserveTokens()));
        this.policy = new ClientEventPolicy(ctx.mapper(), metering, ctx.guard().prices(), model, beta);
        this.tools = new ToolCalls(ctx, client);
        this.upstream = new UpstreamLink(ctx, this);
    }

    String sessionId() {
        return sessionId;
    }

    /** Where frames go to be handled when the thread that read them must not block ({@link SelectorReads}). */
    java.util.concurrent.Executor executor() {
        return ctx.upstream().executor();
    }

    /** Completes when the session has ended and its last charge is recorded. */
    CompletableFuture<Void> finished() {
        return finished;
    }

    // ---- client side ----

    /** The client's WebSocket is open; true when its messages should be read. */
    boolean clientOpened(ClientSender sender) {
        toClient = sender;
        if (!handshake.open()) {
            // the handshake was given up meanwhile: its slot is already back, there is no session
            finishing.set(true);
            finished.complete(null);
            closeClient(sender, 1011, "handshake abandoned");
            return false;
        }
        try {
            ctx.guard().open(handshake.ledger());
        } catch (RuntimeException e) {
            LOG.warn("Could not open relayed session {}", sessionId, e);
            ctx.guard().release(handshake.ledger(), ctx.clock().millis());
            finishing.set(true);
            finished.complete(null);
            sendToClient(ctx.events().terminalError("server_error", "cluster_degraded", "The session could not be opened; retry"));
            closeClient(toClient, 1013, "cluster_degraded");
            return false;
        }
        if (!ctx.registry().add(this)) {
            finish(EndReason.NODE_SHUTDOWN, null, null);
            return false;
        }
        sendToClient(ctx.events().sessionStarted(metering.ledger(), ctx.guard().limits()));
        scheduleExpiry();
        if (ctx.apiKey().isBlank()) {
            ctx.metrics().connectFailure();
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream model is not configured");
            return false;
        }
        // the clamp goes first, before anything of the client's: server VAD starts responses by itself
        upstream.text(clampEvent(metering.sessionClampUpdate()));
        upstream.connect(model, beta ? Map.of("OpenAI-Beta", "realtime=v1") : Map.of());
        return true;
    }

    /** A whole message from the client. Read on also while the session ends: they are then dropped. */
    void clientMessage(MessageAssembler.Message message) {
        ctx.metrics().frame(RelayMetrics.CLIENT_TO_UPSTREAM, message.payload().remaining());
        if (!message.text()) {
            refuse(new ClientEventPolicy.Refuse(ClientEventPolicy.EVENT_NOT_ALLOWED,
                    "Binary frames are not realtime client events; send JSON text events", null));
        } else if (!finishing.get()) {
            fromClient(message.payload());
        }
    }

    /**
     * A ping from the client, answered with a pong of the same payload behind the frames already
     * queued for it (RFC 6455 5.5.2); a client that pings and never reads is stalled like one that
     * never reads events. Not relayed: the link to the upstream keeps its own pings.
     */
    void clientPing(ByteBuffer payload) {
        ClientSender sender = toClient;
        if (sender != null) {
            sender.pong(payload);
            checkClientBacklog(sender);
        }
    }

    /** The client sent a message over the size limit: closed as Jetty would (1009), the session ends. */
    void clientTooLarge() {
        ClientSender sender = toClient;
        if (sender != null) {
            closeClient(sender, 1009, "message too large");
        }
        finishSoon(EndReason.CLIENT_CLOSED, null);
    }

    /** The client's connection closed or failed. */
    void clientClosed() {
        finish(EndReason.CLIENT_CLOSED, null, null);
    }

    private void fromClient(ByteBuffer message) {
        // scanned before it is forwarded: a frame handed to a socket is the socket's
        boolean audio = EventScanner.type(message).equals(AudioAppend.TYPE);
        ClientEventPolicy.Outcome outcome = policy.inspect(message);
        if (outcome instanceof ClientEventPolicy.Forward f) {
            if (!audio) {
                tools.clientSpoke();
            }
            toUpstream(f.frame());
            refreshSessionClamp();
        } else if (outcome instanceof ClientEventPolicy.Refuse r) {
            refuse(r);
        } else {
            finishSoon(EndReason.BUDGET_EXCEEDED, null);
        }
    }

    private void refuse(ClientEventPolicy.Refuse r) {
        ctx.metrics().clientEventRefused(r.code());
        sendToClient(ClientEventPolicy.errorEvent(ctx.mapper(), r));
    }

    /** A relayed text message, as UTF-8. */
    private void sendToClient(ByteBuffer utf8) {
        ClientSender sender = toClient;
        if (sender != null) {
            sender.text(utf8);
            checkClientBacklog(sender);
        }
    }

    /** One of the gateway's own events. */
    private void sendToClient(String event) {
        sendToClient(ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)));
    }

    private void checkClientBacklog(ClientSender sender) {
        if (sender.pendingBytes() > ctx.maxBufferedBytes()) {
            stalled("client is not reading");
        }
    }

    private void toUpstream(ByteBuffer frame) {
        if (upstream.pendingBytes() + frame.remaining() > ctx.maxBufferedBytes()) {
            stalled("upstream is not reading");
            return;
        }
        upstream.text(frame);
    }

    private void toUpstream(String event) {
        toUpstream(ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)));
    }

    private String clampEvent(long maxOutputTokens) {
        String field = ClientEventPolicy.outputLimitField(beta);
        return beta
                ? "{\"type\":\"session.update\",\"event_id\":\"event_gw_clamp\",\"session\":{\"" + field + "\":" + maxOutputTokens + "}}"
                : "{\"type\":\"session.update\",\"event_id\":\"event_gw_clamp\",\"session\":{\"type\":\"realtime\",\""
                + field + "\":" + maxOutputTokens + "}}";
    }

    // ---- upstream side ----

    @Override
    public void opened() {
        // frames queued before the connection opened are sent in order by the link
    }

    @Override
    public void binary(ByteBuffer message) {
        ClientSender sender = toClient;
        if (sender != null) {
            sender.binary(message);
            checkClientBacklog(sender);
        }
    }

    @Override
    public void failed(String why) {
        finish(EndReason.UPSTREAM_ERROR, null, why);
    }

    @Override
    public void text(ByteBuffer message) {
        String type = EventScanner.type(message);
        if (!RealtimeEvents.matters(type)) {
            sendToClient(message);
            return;
        }
        JsonNode event;
        try {
            event = ctx.mapper().readTree(message.array(), message.arrayOffset() + message.position(), message.remaining());
        } catch (Exception e) {
            ctx.metrics().parseFailure();
            sendToClient(message);
            return;
        }
        switch (type) {
            case RealtimeEvents.RESPONSE_CREATED -> {
                sendToClient(message);
                JsonNode r = event.path("response");
                if (metering.responseCreated(r.path("id").asText(""), RealtimeEvents.maxOutputTokens(r)) && !finishing.get()) {
                    // started before the upstream saw the latest clamp: it may cost more than the budget allows
                    upstream.text(ctx.events().responseCancel(r.path("id").asText("")));
                }
            }
            case RealtimeEvents.RESPONSE_DONE -> responseDone(message, event);
            case RealtimeEvents.ERROR -> {
                sendToClient(message);
                metering.createFailed(event.path("error").path("event_id").asText(""));
            }
            case RealtimeEvents.TRANSCRIPTION_COMPLETED -> {
                sendToClient(message);
                TokenUsage usage = usageOf(() -> RealtimeEvents.transcriptionUsage(event));
                if (usage != null) {
                    charging(() -> charged(metering.chargeTranscription(usage, ctx.clock().millis())));
                }
            }
            default -> {
                if (!tools.withhold(type, event, tool -> charging(() -> charged(metering.chargeToolFee(tool, ctx.clock().millis()))))) {
                    sendToClient(message);
                }
            }
        }
    }

    /**
     * Charges a finished response before the client hears of it: a client that answers a
     * {@code response.done} with its next {@code response.create} finds the charge already in the
     * ledger (and the response no longer in flight).
     */
    private void responseDone(ByteBuffer message, JsonNode event) {
        ByteBuffer forClient = tools.anyBlocked() ? ByteBuffer.wrap(tools.strip(event).getBytes(StandardCharsets.UTF_8)) : message;
        // decided before the client hears of the charge: what it sends next belongs to the next streak
        ToolCalls.Answers answers = tools.answers();
        TokenUsage usage = usageOf(() -> RealtimeEvents.responseUsage(event));
        try {
            charging(() -> {
                CostGuard.Usage u = metering.responseDone(event.path("response").path("id").asText(""), usage, ctx.clock().millis());
                if (finishing.get()) {
                    LOG.info("Session {}: last response charged {} USD", sessionId,
                            u == null ? "0" : ducke.core.cost.Money.usd(u.callCostNanoUsd()).toPlainString());
                }
                sendToClient(forClient);
                charged(u);
            });
        } finally {
            metering.settled();
        }
        if (finishing.get()) {
            return;
        }
        answers.outputs().forEach(this::toUpstream);
        if (!metering.canAffordNext()) {
            finish(EndReason.BUDGET_EXCEEDED, null, null);
            return;
        }
        Long clamp = metering.sessionClampUpdate();
        if (clamp != null) {
            upstream.text(clampEvent(clamp));
        }
        if (answers.askForResponse()) {
            askForResponse();
        }
    }

    /** The gateway's own request for a response after blocked tool calls: counted, clamped and charged. */
    private void askForResponse() {
        ClientEventPolicy.Outcome o = policy.inspect(ByteBuffer.wrap(ctx.events().responseCreate().getBytes(StandardCharsets.UTF_8)));
        if (o instanceof ClientEventPolicy.Forward f) {
            upstream.text(f.frame());
        } else if (o instanceof ClientEventPolicy.EndForBudget) {
            finish(EndReason.BUDGET_EXCEEDED, null, null);
        }
    }

    private interface UsageSource {
        TokenUsage get();
    }

    private TokenUsage usageOf(UsageSource source) {
        try {
            return source.get();
        } catch (IllegalArgumentException e) {
            ctx.metrics().parseFailure();
            return null;
        }
    }

    /** Tells the client about a charge and ends the session when it reached the cap. */
    private void charged(CostGuard.Usage u) {
        if (u == null) {
            return;
        }
        SessionLedger ledger = u.ledger();
        long now = ctx.clock().millis();
        sendToClient(ctx.events().usageUpdate(ledger, u.callCostNanoUsd(), now));
        if (u.warningNow()) {
            sendToClient(ctx.events().budgetWarning(ledger));
        }
        if (u.endedNow() != null) {
            finish(u.endedNow(), ledger, null);
        } else {
            refreshSessionClamp(); // a transcription or a tool fee lowers it too
        }
    }

    /** Sets a lower clamp on the upstream session when the one set last no longer holds. */
    private void refreshSessionClamp() {
        if (finishing.get()) {
            return;
        }
        Long clamp = metering.staleSessionClamp();
        if (clamp != null) {
            upstream.text(clampEvent(clamp));
        }
    }

    // ---- ending ----

    /**
     * The cluster announced that this session's ledger ended (admin, breaker, another node, or a
     * charge of this very session). While a charge is under way the charge reports the end itself,
     * after its usage update, so the announcement waits for it.
     */
    void ledgerEnded(SessionLedger ended) {
        synchronized (chargeLock) {
            if (charging > 0) {
                endedWhileCharging = ended;
                return;
            }
        }
        finish(ended.endReason(), ended, null);
    }

    /** Runs a charge and its messages to the client; endings announced meanwhile wait for it. */
    private void charging(Runnable charge) {
        synchronized (chargeLock) {
            charging++;
        }
        try {
            charge.run();
        } catch (RuntimeException e) {
            // the grid did not confirm the charge in time (it may still apply it) or refused it: a
            // session whose spending the guard cannot record must not go on spending
            if (e instanceof ClusterUnavailableException) {
                LOG.warn("Session {}: a charge was not confirmed by the cluster ({}); ending the session", sessionId, e.getMessage());
            } else {
                LOG.error("Could not charge session {}; ending the session", sessionId, e);
            }
            ctx.metrics().chargeUnconfirmed();
            finishSoon(EndReason.CLUSTER_DEGRADED, UNCONFIRMED_CHARGE);
        } finally {
            SessionLedger deferred;
            synchronized (chargeLock) {
                charging--;
                deferred = charging == 0 ? endedWhileCharging : null;
                if (deferred != null) {
                    endedWhileCharging = null;
                }
            }
            if (deferred != null) {
                finish(deferred.endReason(), deferred, null);
            }
        }
    }

    private void scheduleExpiry() {
        long delay = Math.max(0, metering.ledger().expiresAtMillis() - ctx.clock().millis());
        timer = ctx.timers().schedule(this::checkExpiry, delay, TimeUnit.MILLISECONDS);
    }

    private void checkExpiry() {
        if (finishing.get()) {
            return;
        }
        if (ctx.clock().millis() >= metering.ledger().expiresAtMillis()) {
            finish(EndReason.SESSION_TIMEOUT, null, null);
        } else {
            scheduleExpiry();
        }
    }

    private void stalled(String why) {
        if (finishing.get()) {
            return; // ending already; frames read meanwhile (a flood) would say so once each
        }
        LOG.info("Closing session {}: {}", sessionId, why);
        finishSoon(EndReason.CLIENT_CLOSED, why);
    }

    /**
     * Ends the session from a thread that must not block (a relayed frame may be handled on the
     * selector thread, see {@link SelectorReads}): client frames stop at once, the rest of
     * {@link #finish} (the grid, the last response's usage) runs on a pool thread.
     */
    private void finishSoon(EndReason reason, String detail) {
        if (finishing.compareAndSet(false, true)) {
            executor().execute(() -> finishing(reason, null, detail));
        }
    }

    /**
     * Ends the session once, whatever the path. Client frames stop at once. A response still in
     * flight is cancelled upstream and its {@code response.done} awaited (at most
     * {@code finalUsageWait}) and charged, so what the provider bills is in the ledger; then the
     * ledger ends, the client hears why, and both sockets close.
     *
     * @param ended  the ledger as ended elsewhere, when known
     * @param detail a sentence for upstream errors and stalls
     */
    void finish(EndReason reason, SessionLedger ended, String detail) {
        if (finishing.compareAndSet(false, true)) {
            finishing(reason, ended, detail);
        }
    }

    /** {@link #finish} once {@code finishing} is set. */
    private void finishing(EndReason reason, SessionLedger ended, String detail) {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        if (reason == EndReason.UPSTREAM_ERROR || metering.inFlight() == 0 || !upstream.open()) {
            complete(reason, ended, detail);
            return;
        }
        LOG.info("Session {} ends ({}) with {} response(s) in flight: cancelling and waiting for their usage",
                sessionId, reason.label(), metering.inFlight());
        upstream.text(ctx.events().responseCancel(null));
        CompletableFuture<Void> idle = metering.idle();
        ScheduledFuture<?> giveUp = ctx.timers().schedule(() -> idle.complete(null),
                ctx.finalUsageWait().toMillis(), TimeUnit.MILLISECONDS);
        idle.whenComplete((v, e) -> {
            giveUp.cancel(false);
            if (metering.inFlight() > 0) {
                LOG.warn("Session {} ended before the upstream reported its last response's usage", sessionId);
                ctx.metrics().finalUsageMissed();
            }
            complete(reason, ended, detail);
        });
    }

    private void complete(EndReason reason, SessionLedger ended, String detail) {
        try {
            SessionLedger last = ended;
            try {
                last = ctx.guard().endOrJournal(sessionId, reason, ctx.clock().millis()).map(e -> e.ledger()).orElse(ended);
            } catch (RuntimeException e) {
                LOG.warn("Could not end the ledger of {}; the reaper will", sessionId, e);
            }
            EndReason actual = last != null && last.endReason() != null ? last.endReason() : reason;
            LOG.info("Relayed session {} ended: {}{}", sessionId, actual.label(), detail == null ? "" : " (" + detail + ")");
            ctx.metrics().sessionClosed(actual.label());
            closeClient(actual, last == null ? metering.ledger() : last, detail);
            if (reason == EndReason.UPSTREAM_ERROR) {
                upstream.abort();
            } else {
                upstream.close();
            }
        } finally {
            ctx.registry().remove(this);
            finished.complete(null);
        }
    }

    private void closeClient(EndReason reason, SessionLedger last, String detail) {
        ClientSender sender = toClient;
        if (sender == null) {
            return;
        }
        ClientEnding ending = ClientEnding.of(reason, last, detail, ctx.events(), ctx.guard().limits());
        if (ending.event() != null) {
            sender.text(ending.event());
        }
        if (ending.error() != null) {
            sender.text(ending.error());
        }
        closeClient(sender, ending.code(), ending.closeReason());
    }

    /**
     * Closes the client behind what is queued for it, and drops the connection if the close
     * handshake is not done {@link #CLIENT_CLOSE_GRACE_SECONDS} later (time to read the last events
     * on a slow link; a client that reads nothing holds no socket for the idle timeout).
     */
    private void closeClient(ClientSender sender, int code, String reason) {
        sender.close(code, reason);
        try {
            ctx.timers().schedule(sender::abortIfOpen, CLIENT_CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the node is stopping: its connectors close every socket anyway
        }
    }
}
