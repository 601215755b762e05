package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
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

/**
 * One relayed session: the client's WebSocket ({@link ClientEndpoint}) and the upstream's
 * ({@link UpstreamLink}), with the ledger in between. Messages pass as UTF-8 bytes and are never
 * turned into Strings to be relayed. A client message passes the {@link ClientEventPolicy} before
 * it goes upstream (audio appends are measured without parsing); an upstream message is scanned
 * for its type ({@link EventScanner}) and only the few events that cost money or call limited
 * tools are parsed ({@link Metering}, {@link ToolCalls}). Every way a session can end goes
 * through its {@link SessionEnding}, which runs once: it stops taking client frames, lets the
 * response in flight finish (cancelled, then charged, within {@code finalUsageWait}), ends the
 * ledger, tells the client why, and closes both sockets.
 */
public final class RelaySession implements UpstreamLink.Events {

    private static final Logger LOG = LoggerFactory.getLogger(RelaySession.class);

    private final RelayContext ctx;
    private final String sessionId;
    private final String model;
    private final boolean beta;
    private final Metering metering;
    private final ClientEventPolicy policy;
    private final ToolCalls tools;
    /** The link to the upstream; a WebRTC call's sideband, replaced when it re-attaches. */
    private volatile UpstreamLink upstream;
    private final SessionEnding ending;
    /** The spoken goodbye when the session ends for a cap or a drain ({@code RELAY_GOODBYE_INSTRUCTIONS}). */
    private final Goodbye goodbye;
    /**
     * Pause instead of cut ({@code COST_PROTECTION_ON_CAP=pause}). A WebRTC call pauses by reaction:
     * the caller's events reach the provider on its data channel, so every response started while
     * paused finds no reservation and is cancelled through the sideband at its {@code response.created}
     * (and charged what it cost), and server VAD's {@code create_response} is turned off meanwhile.
     */
    private final Pause pause;
    /** Null for a relayed session; what a WebRTC call's sideband needs otherwise. */
    private final CallContext calls;
    /** The provider's id of the call (null for a relayed session, and until the provider answered the offer). */
    private volatile String callId;
    /** The hang-up, once asked for: completes when the provider answered it. */
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> hangup =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Completes when the call's sideband closed (or dropped) while the session ends. */
    private final CompletableFuture<Void> sidebandGone = new CompletableFuture<>();
    /**
     * Responses of a call the guard cancelled for being over the clamp or parallel to another: past
     * this many the call is hung up ({@code budget_exceeded}), since the provider bills each one.
     */
    static final int MAX_CALLER_CANCELS = 5;
    private final java.util.concurrent.atomic.AtomicInteger cancelledForCaller = new java.util.concurrent.atomic.AtomicInteger();
    /** When the caller's current turn of speech started, in the call's audio ms (-1: none). */
    private long speechStartMs = -1;  // guarded by speechLock
    private volatile ClientSender toClient;

    private final Handshake handshake;

    RelaySession(RelayContext ctx, Handshake handshake, boolean beta) {
        this(ctx, handshake, beta, null);
    }

    /** A WebRTC call's session: no client socket; the link is the call's sideband ({@link CallContext}). */
    static RelaySession call(RelayContext ctx, Handshake handshake, CallContext calls) {
        return new RelaySession(ctx, handshake, false, calls);
    }

    private RelaySession(RelayContext ctx, Handshake handshake, boolean beta, CallContext calls) {
        this.calls = calls;
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
        this.policy = new ClientEventPolicy(ctx.mapper(), metering, ctx.guard().prices(), model, beta, ctx.allowedInput());
        this.tools = new ToolCalls(ctx, client);
        this.goodbye = new Goodbye(ctx, metering, sessionId);
        this.upstream = calls == null ? new UpstreamLink(ctx, this) : sideband();
        this.ending = new SessionEnding(ctx, this, metering, () -> upstream, () -> toClient);
        this.pause = new Pause(ctx.registry().pausePolicy(), ctx.mapper(), beta, sessionId);
    }

    String sessionId() {
        return sessionId;
    }

    Goodbye goodbye() {
        return goodbye;
    }

    String clientId() {
        return handshake.client();
    }

    /** Where frames go to be handled when the thread that read them must not block ({@link SelectorReads}). */
    java.util.concurrent.Executor executor() {
        return ctx.upstream().executor();
    }

    /** Completes when the session has ended and its last charge is recorded. */
    CompletableFuture<Void> finished() {
        return ending.finished();
    }

    // ---- WebRTC calls: the sideband ----

    /** A new sideband link whose events count only while it is the session's link. */
    private UpstreamLink sideband() {
        Sideband events = new Sideband();
        UpstreamLink link = new UpstreamLink(ctx, events);
        events.link = link;
        return link;
    }

    /** Events of one sideband connection; those of a link replaced by a re-attachment are dropped. */
    private final class Sideband implements UpstreamLink.Events {
        private UpstreamLink link;

        private boolean current() {
            return upstream == link;
        }

        @Override
        public void opened() {
        }

        @Override
        public void text(ByteBuffer utf8) {
            if (current()) {
                RelaySession.this.text(utf8);
            }
        }

        @Override
        public void binary(ByteBuffer message) {
            // a sideband carries JSON events only
        }

        /** A lost connection may report twice (its close and its error, on two threads): it is re-attached once. */
        private final java.util.concurrent.atomic.AtomicBoolean lost = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void failed(String why) {
            if (current() && lost.compareAndSet(false, true)) {
                sidebandLost(link, why);
            }
        }

        @Override
        public void oversized(ByteBuffer prefix) {
            if (current()) {
                RelaySession.this.oversized(prefix);
            }
        }
    }

    /** Whether this session is a WebRTC call. */
    boolean isCall() {
        return calls != null;
    }

    /** The provider's id of the call; null for a relayed session. */
    String callId() {
        return callId;
    }

    /** The output clamp the call's first session configuration carries (the session's budget alone). */
    long callClamp() {
        return Math.max(1, metering.clamp());
    }

    /**
     * The provider created the call: the ledger is stored, the standing reservation taken, and the
     * sideband attaches with the clamp as its first event. False when the session could not be
     * opened (the caller hangs the call up and answers 503); true otherwise, also when the session
     * ends at once (it then hangs the call up itself).
     */
    boolean callCreated(String providerCallId) {
        this.callId = providerCallId;
        if (!handshake.open()) {
            return false;
        }
        try {
            ctx.guard().open(handshake.ledger());
        } catch (RuntimeException e) {
            LOG.warn("Could not open the session of call {}", sessionId, e);
            ctx.guard().release(handshake.ledger(), ctx.clock().millis());
            return false;
        }
        calls.directory().put(sessionId, providerCallId, ctx.clock().millis(), metering.ledger().expiresAtMillis());
        if (!ctx.registry().add(this)) {
            finish(EndReason.NODE_SHUTDOWN, null, null);
            return true;
        }
        ending.scheduleExpiry();
        EndReason refused;
        try {
            refused = metering.reserveStanding(ctx.clock().millis());
        } catch (RuntimeException e) {
            LOG.warn("Could not reserve the first response of call {}", sessionId, e);
            refused = EndReason.CLUSTER_DEGRADED;
        }
        if (refused != null) {
            finish(refused, null, null);
            return true;
        }
        upstream.text(clampEvent(metering.sessionClampUpdate()));
        attach(upstream, "attach");
        return true;
    }

    /**
     * Takes over the call of a session whose node left the cluster: this node attaches the sideband
     * (the call's id is enough) and meters the call from now on. What was in flight when the other
     * node left is charged its reservation, estimated, if its usage never arrives.
     */
    boolean adopted(String providerCallId) {
        this.callId = providerCallId;
        if (!handshake.open() || !ctx.registry().add(this)) {
            return false;
        }
        ending.scheduleExpiry();
        EndReason refused;
        try {
            refused = metering.reserveStanding(ctx.clock().millis());
        } catch (RuntimeException e) {
            refused = EndReason.CLUSTER_DEGRADED;
        }
        if (refused != null) {
            finish(refused, null, null);
            return true;
        }
        upstream.text(clampEvent(metering.sessionClampUpdate()));
        attach(upstream, "adopt");
        return true;
    }

    /** Attaches {@code link} (the session's current one); a call whose sideband cannot attach is hung up. */
    private void attach(UpstreamLink link, String what) {
        link.attach(callId, calls.attachTimeout()).whenComplete((status, error) -> {
            int s = error != null ? -1 : status;
            if (s == 0) {
                return;
            }
            ctx.metrics().connectFailure();
            ctx.metrics().callReaction("reattach_failed");
            LOG.warn("Call {}: the sideband could not {} ({}); hanging the call up", sessionId, what,
                    s < 0 ? "unreachable" : "status " + s);
            executor().execute(() -> finish(s == 404 ? EndReason.CLIENT_CLOSED : EndReason.UPSTREAM_ERROR, null,
                    s == 404 ? "the call ended" : "the call's sideband could not attach"));
        });
    }

    /**
     * The sideband dropped: it re-attaches within the attach timeout, or the call is hung up — a
     * call the guard cannot see is a call it does not allow. A provider that answers 404 ended the
     * call (the caller hung up): the session ends {@code client_closed}.
     */
    private void sidebandLost(UpstreamLink lost, String why) {
        if (ending.started()) {
            // the provider closed it after the hang-up: nothing more can come for the call
            sidebandGone.complete(null);
            return;
        }
        LOG.info("Call {}: sideband lost ({}); re-attaching", sessionId, why);
        reattach(lost, System.nanoTime() + calls.attachTimeout().toNanos(), why);
    }

    /** Guards the replacement of the sideband: one re-attachment replaces a given link. */
    private final Object sidebandSwap = new Object();

    /** Replaces {@code old} (unless something replaced it already) with a new sideband, retried within the deadline. */
    private void reattach(UpstreamLink old, long deadlineNanos, String why) {
        if (ending.started()) {
            return;
        }
        UpstreamLink next = sideband();
        synchronized (sidebandSwap) {
            if (upstream != old) {
                return;
            }
            upstream = next;
        }
        old.abort();
        long left = Math.max(100, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
        next.attach(callId, java.time.Duration.ofMillis(left)).whenComplete((status, error) -> {
            int s = error != null ? -1 : status;
            if (s == 0) {
                ctx.metrics().callReaction("reattached");
                LOG.info("Call {}: sideband re-attached", sessionId);
                executor().execute(this::afterReattach);
            } else if (s == 404 || s == 410) {
                executor().execute(() -> finish(EndReason.CLIENT_CLOSED, null, "the call ended"));
            } else if (System.nanoTime() - deadlineNanos < 0) {
                try {
                    ctx.timers().schedule(() -> reattach(next, deadlineNanos, why), 250, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException stopping) {
                    finish(EndReason.NODE_SHUTDOWN, null, null);
                }
            } else {
                ctx.metrics().callReaction("reattach_failed");
                executor().execute(() -> finish(EndReason.UPSTREAM_ERROR, null, "the call's sideband dropped and could not re-attach"));
            }
        });
    }

    /**
     * Back on the call: what was in flight may have ended unseen, so it is charged its reservation
     * (estimated; a {@code response.done} that still comes for it is not charged again), and the
     * clamp is set again.
     */
    private void afterReattach() {
        if (ending.started()) {
            return;
        }
        if (metering.inFlight() > 0) {
            ending.charging(() -> metering.chargeOutstanding(ctx.clock().millis()));
            EndReason refused = metering.canAffordNext() ? metering.reserveStanding(ctx.clock().millis()) : EndReason.BUDGET_EXCEEDED;
            if (refused != null) {
                finish(refused, null, null);
                return;
            }
        }
        upstream.text(clampEvent(metering.currentSessionClamp()));
    }

    /** Cancels, by id, every response the ending waits for (out-of-band ones run beside the conversation's). */
    void cancelledForEnding(UpstreamLink link) {
        if (calls == null) {
            return;
        }
        for (String id : metering.activeResponseIds()) {
            ctx.metrics().callReaction("cancel_ending");
            link.text(ctx.events().responseCancel(id));
        }
    }

    /**
     * The session has ended (ledger ended, last charge recorded): a call is hung up at the provider.
     * Completes when the provider answered the hang-up (at once for a relayed session); no thread
     * waits for it meanwhile.
     */
    CompletableFuture<Void> ended() {
        pause.ended(ctx.clock().millis());
        if (calls == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (speechLock) {
            stopSpeechTicker();
        }
        calls.directory().remove(sessionId);
        return hangUp();
    }

    /**
     * Hangs the call up at the provider, once (later calls return the same answer); completes when
     * the provider answered. At once for a relayed session, or a call the provider never created.
     */
    CompletableFuture<Void> hangUp() {
        String id = callId;
        if (calls == null || id == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        if (hangup.compareAndSet(null, mine)) {
            ctx.metrics().callReaction("hangup");
            calls.provider().hangupLater(id).whenComplete((taken, error) -> mine.complete(null));
        }
        return hangup.get();
    }

    /**
     * Completes when nothing more can come on the call's sideband while it ends: the provider
     * closed it (after the hang-up), or it is not attached.
     */
    CompletableFuture<Void> sidebandGone() {
        if (!upstream.open()) {
            sidebandGone.complete(null);
        }
        return sidebandGone;
    }

    /**
     * The provider applied a {@code session.update} — the guard's own, or the caller's, sent on its
     * data channel where the guard cannot refuse it. A change of the model, a higher output limit
     * than the clamp, a tool of a type not allowed or a transcription model without a price is
     * undone at once with the guard's own {@code session.update}.
     */
    private void sessionUpdated(JsonNode event) {
        JsonNode s = event.path("session");
        com.fasterxml.jackson.databind.node.ObjectNode fix = ctx.mapper().createObjectNode();
        fix.put("type", "realtime");
        String m = s.path("model").asText("");
        if (!m.isEmpty() && !sameModel(m, model)) {
            fix.put("model", model);
        }
        long clamp = metering.currentSessionClamp();
        for (String field : RealtimeEvents.OUTPUT_LIMIT_FIELDS) {
            JsonNode limit = s.get(field);
            // a limit of null (or "inf", or anything not a number) is no limit
            if (limit != null && clamp > 0) {
                long asked = limit.isNumber() ? limit.asLong() : Long.MAX_VALUE;
                if (asked > clamp) {
                    fix.put(RealtimeEvents.MAX_OUTPUT_TOKENS, clamp);
                }
            }
        }
        JsonNode tools = s.get("tools");
        if (tools != null && tools.isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode kept = ctx.mapper().createArrayNode();
            for (JsonNode t : tools) {
                if (ctx.allowedInput().toolTypes().contains(t.path("type").asText(""))) {
                    kept.add(t);
                }
            }
            if (kept.size() != tools.size()) {
                fix.set("tools", kept);
            }
        }
        JsonNode transcription = s.path("audio").path("input").path("transcription");
        if (transcription.isObject()) {
            String tm = transcription.path("model").asText("");
            var prices = ctx.guard().prices();
            if (!tm.isEmpty() && prices.priced(tm)) {
                metering.transcribing(tm, prices.match(tm).price().maxInputRate());
                metering.transcribes(true);
            } else {
                fix.putObject("audio").putObject("input").putNull("transcription");
            }
        } else if (transcription.isNull()) {
            metering.transcribes(false);
        }
        if (fix.size() > 1) {
            ctx.metrics().callReaction("undo_session_update");
            LOG.info("Call {}: undoing a session update ({})", sessionId, String.join(", ", iterable(fix.fieldNames())));
            com.fasterxml.jackson.databind.node.ObjectNode update = ctx.mapper().createObjectNode();
            update.put("type", "session.update");
            update.put("event_id", "event_gw_undo");
            update.set("session", fix);
            upstream.text(update.toString());
        }
    }

    /**
     * The call's session as the provider applied it, seen by the pause: its turn detection is
     * remembered for a pause; while paused, turn detection the caller turned back on to start
     * responses is turned off again (a response it still starts is cancelled all the same).
     */
    private void pauseSeesSession(JsonNode event) {
        String off = pause.callSessionReportedWhilePaused(event);
        if (off != null) {
            ctx.metrics().callReaction("undo_session_update");
            LOG.info("Call {}: the caller turned response creation back on while paused; turning it off again", sessionId);
            upstream.text(off);
        } else if (!pause.paused()) {
            pause.sessionReported(event);
        }
    }

    /** A dated snapshot of it ({@code gpt-realtime-2025-08-28}) is the model; another name is not. */
    private static final java.util.regex.Pattern SNAPSHOT = java.util.regex.Pattern.compile("-\\d{4}-\\d{2}-\\d{2}");

    /**
     * Whether the provider's name for the session's model is the guard's: the same, or one of its
     * dated snapshots. {@code gpt-realtime-mini} is not {@code gpt-realtime}: it is priced otherwise.
     */
    static boolean sameModel(String reported, String model) {
        return reported.equals(model) || reported.startsWith(model) && SNAPSHOT.matcher(reported.substring(model.length())).matches();
    }

    private static java.util.List<String> iterable(java.util.Iterator<String> names) {
        java.util.List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(n -> {
            if (!n.equals("type")) {
                out.add(n);
            }
        });
        return out;
    }

    /** Base64 characters of one second of 24 kHz PCM16, as the relay counts appended audio. */
    static final long AUDIO_CHARS_PER_SECOND = 64_000;
    private final Object speechLock = new Object();
    /** Milliseconds of the current turn of speech already counted, while the caller speaks. */
    private long speechCountedMs;
    private java.util.concurrent.ScheduledFuture<?> speechTicker;

    /**
     * Speech the provider detected in the call's audio, which the guard does not see on this path:
     * counted as appended audio, so that the next response's reservation and clamp account for it.
     * While the caller speaks, a second of audio is counted every second (the clamp stays the
     * relay's two seconds of audio ahead, so a response server VAD starts at the end of the turn
     * is within it); at {@code speech_stopped} the rest of the turn the provider committed
     * ({@code audio_end_ms - audio_start_ms}, padding included).
     */
    private void speech(String type, JsonNode event) {
        synchronized (speechLock) {
            if (type.equals("input_audio_buffer.speech_started")) {
                stopSpeechTicker();
                speechStartMs = event.path("audio_start_ms").asLong(-1);
                speechCountedMs = 0;
                try {
                    speechTicker = ctx.timers().scheduleAtFixedRate(this::speechTick, 1000, 1000,
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException stopping) {
                    // the node is stopping: the turn is counted when it ends
                }
                return;
            }
            if (!type.equals("input_audio_buffer.speech_stopped") || speechStartMs < 0) {
                return;
            }
            stopSpeechTicker();
            long end = event.path("audio_end_ms").asLong(-1);
            long rest = end - speechStartMs - speechCountedMs;
            speechStartMs = -1;
            if (rest > 0) {
                metering.audioAppended(Math.multiplyExact(rest, AUDIO_CHARS_PER_SECOND / 1000));
            }
        }
        refreshSessionClamp();
    }

    private void speechTick() {
        synchronized (speechLock) {
            if (speechStartMs < 0 || ending.started()) {
                stopSpeechTicker();
                return;
            }
            speechCountedMs += 1000;
            metering.audioAppended(AUDIO_CHARS_PER_SECOND);
        }
        refreshSessionClamp();
    }

    private void stopSpeechTicker() {
        if (speechTicker != null) {
            speechTicker.cancel(false);
            speechTicker = null;
        }
    }

    // ---- client side ----

    /** The client's WebSocket is open; true when its messages should be read. */
    boolean clientOpened(ClientSender sender) {
        toClient = sender;
        if (!handshake.open()) {
            // the handshake was given up meanwhile: its slot is already back, there is no session
            ending.abandoned(sender, 1011, "handshake abandoned");
            return false;
        }
        try {
            ctx.guard().open(handshake.ledger());
        } catch (RuntimeException e) {
            LOG.warn("Could not open relayed session {}", sessionId, e);
            ctx.guard().release(handshake.ledger(), ctx.clock().millis());
            sendToClient(ctx.events().terminalError("server_error", "cluster_degraded", "The session could not be opened; retry"));
            ending.abandoned(sender, 1013, "cluster_degraded");
            return false;
        }
        if (!ctx.registry().add(this)) {
            finish(EndReason.NODE_SHUTDOWN, null, null);
            return false;
        }
        sendToClient(ctx.events().sessionStarted(metering.ledger(), ctx.guard().limits()));
        ending.scheduleExpiry();
        if (ctx.apiKey().isBlank()) {
            ctx.metrics().connectFailure();
            finish(EndReason.UPSTREAM_ERROR, null, "the upstream model is not configured");
            return false;
        }
        // the standing reservation and the clamp go first, before anything of the client's: server VAD
        // starts responses by itself
        EndReason refused;
        try {
            refused = metering.reserveStanding(ctx.clock().millis());
        } catch (RuntimeException e) {
            LOG.warn("Could not reserve the first response of relayed session {}", sessionId, e);
            refused = EndReason.CLUSTER_DEGRADED;
        }
        if (refused != null) {
            finish(refused, null, null);
            return false;
        }
        upstream.text(clampEvent(metering.sessionClampUpdate()));
        upstream.connect(model, beta ? Map.of("OpenAI-Beta", "realtime=v1") : Map.of());
        return true;
    }

    /** A whole message from the client. Read on also while the session ends: they are then dropped. */
    void clientMessage(MessageAssembler.Message message) {
        ending.clientFrame();
        ctx.metrics().frame(RelayMetrics.CLIENT_TO_UPSTREAM, message.payload().remaining());
        if (!message.text()) {
            refuse(new ClientEventPolicy.Refuse(ClientEventPolicy.EVENT_NOT_ALLOWED,
                    "Binary frames are not realtime client events; send JSON text events", null));
        } else if (!ending.started()) {
            fromClient(message.payload());
        } else if (goodbye.running() && EventScanner.type(message.payload()).equals("response.create")) {
            // the model is saying goodbye: nothing else starts
            String eventId = EventScanner.string(message.payload(), "event_id");
            refuse(new ClientEventPolicy.Refuse(ClientEventPolicy.ACTIVE_RESPONSE,
                    "The session is ending; the model is saying goodbye", eventId.isEmpty() ? null : eventId));
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

    /** The client sent a message over the size limit: the session ends, the client is closed with 1009. */
    void clientTooLarge() {
        ending.clientTooLarge();
    }

    /** The client's connection closed or failed. */
    void clientClosed() {
        if (handshake.abandon()) {
            // closed before the WebSocket opened: the slot is back, there is no session to end
            ctx.metrics().handshake("aborted");
            return;
        }
        // a goodbye spoken to nobody is cut short; the session ends as it was ending
        goodbye.clientGone(upstream);
        finish(EndReason.CLIENT_CLOSED, null, null);
    }

    private void fromClient(ByteBuffer message) {
        // scanned before it is forwarded: a frame handed to a socket is the socket's
        String type = EventScanner.type(message);
        boolean audio = type.equals(AudioAppend.TYPE);
        if (pause.enabled() && refusedWhilePaused(type, message)) {
            return;
        }
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
            EndReason refused = metering.holdRefusal();
            outOfBudget(refused != null ? refused : EndReason.BUDGET_EXCEEDED, false);
            if (pause.paused() && !audio) {
                // the event that found the budget spent is refused like those that follow it
                refusedWhilePaused(type, message);
            }
        }
    }

    // ---- pause instead of cut: Pause ----

    /** Whether this client event is refused (or dropped) because the session is paused. */
    private boolean refusedWhilePaused(String type, ByteBuffer message) {
        Pause.Verdict v = pause.verdict(type);
        if (v == Pause.Verdict.PASS) {
            return false;
        }
        ctx.metrics().clientEventRefused(Pause.CODE);
        if (v == Pause.Verdict.REFUSE) {
            String eventId = null;
            if (!type.equals(AudioAppend.TYPE)) {
                try {
                    JsonNode e = ctx.mapper().readTree(message.array(), message.arrayOffset() + message.position(), message.remaining());
                    eventId = e.path("event_id").isTextual() ? e.get("event_id").asText() : null;
                } catch (Exception unreadable) {
                    // refused all the same
                }
            }
            refuse(pause.refusal(type, eventId));
        }
        return true;
    }

    /**
     * The session cannot afford its next response ({@code reason}: its cap, or a reservation
     * refused): it pauses when the node pauses for that reason, and ends otherwise ({@code now}:
     * on this thread, as {@link #finish}; else as {@link SessionEnding#soon}).
     */
    private void outOfBudget(EndReason reason, boolean now) {
        if (!pause.pausesFor(reason) || ending.started()) {
            if (now) {
                finish(reason, null, null);
            } else {
                ending.soon(reason, null);
            }
            return;
        }
        if (!pause.enter(reason, ctx.clock().millis())) {
            return;
        }
        ctx.metrics().sessionPaused(reason.label());
        LOG.info("Session {} paused at its cost limit ({}); waiting up to {} s for a raise", sessionId, reason.label(),
                ctx.registry().pausePolicy().timeout().toSeconds());
        String off = pause.turnDetectionOff();
        if (off != null) {
            upstream.text(off);
        }
        sendToClient(pause.pausedEvent(metering.ledger(), reason));
        armPauseCheck();
    }

    /** Looks at the clock again within a second (or at the timeout, if sooner). */
    private void armPauseCheck() {
        long left = pause.leftMillis(ctx.clock().millis());
        try {
            pause.checkWith(ctx.timers().schedule(this::checkPause, Math.min(left, Pause.CHECK_MILLIS),
                    java.util.concurrent.TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the node is stopping: its sessions end anyway
        }
    }

    /** A paused session whose timeout has passed ends as it would have without the pause. */
    private void checkPause() {
        synchronized (resuming) {
            if (ending.started() || !pause.paused()) {
                return;
            }
            EndReason expired = pause.expired(ctx.clock().millis());
            if (expired != null) {
                LOG.info("Session {}: pause timed out; ending ({})", sessionId, expired.label());
                ending.soon(expired, null);
                return;
            }
        }
        armPauseCheck();
    }

    /** Whether the session is paused at its cost limit. */
    boolean paused() {
        return pause.paused();
    }

    /**
     * The session's cap was set in the grid: metered against it from now on; a paused session
     * resumes if its next response fits now. Returns whether it is paused after that. Blocks for
     * the grid when it tries to resume.
     */
    boolean capChanged(long capNanoUsd) {
        metering.capChanged(capNanoUsd);
        if (ending.started()) {
            return false;
        }
        if (pause.paused()) {
            tryResume();
            return pause.paused();
        }
        // a raised cap: the standing reservation grows to the new clamp's worst case first, since the clamp stays within it
        Long raise = metering.standingShortfall();
        if (raise != null) {
            try {
                EndReason refused = metering.raiseStanding(raise, ctx.clock().millis());
                if (refused != null) {
                    outOfBudget(refused, false);
                    return pause.paused();
                }
            } catch (RuntimeException e) {
                LOG.warn("Session {}: could not raise its reservation to a new cap: {}", sessionId, e.toString());
            }
        }
        Long clamp = metering.sessionClampUpdate();
        if (clamp != null) {
            upstream.text(clampEvent(clamp));
        }
        return false;
    }

    /**
     * Resumes a paused session when its next response fits its budget and its next reservation
     * is taken now: responses are allowed again on the same upstream session, and the client hears
     * {@code session_resumed}. A reservation the breaker refuses ends the session. Blocks for the grid.
     */
    boolean tryResume() {
        synchronized (resuming) {
            return resume();
        }
    }

    /** One resume at a time: a PATCH answered here and the cluster's announcement of it may both try. */
    private final Object resuming = new Object();

    private boolean resume() {
        if (ending.started() || !pause.paused() || !metering.canAffordNext()) {
            return false;
        }
        EndReason refused;
        try {
            refused = metering.reserveStanding(ctx.clock().millis());
        } catch (RuntimeException e) {
            LOG.warn("Session {}: could not take the reservation to resume: {}", sessionId, e.toString());
            return false;
        }
        if (refused != null) {
            if (!pause.pausesFor(refused)) {
                ending.soon(refused, null);
            }
            return false;
        }
        if (!pause.leave(ctx.clock().millis())) {
            return false;
        }
        ctx.metrics().sessionResumed();
        LOG.info("Session {} resumed", sessionId);
        String back = pause.turnDetectionBack();
        if (back != null) {
            upstream.text(back);
        }
        Long clamp = metering.sessionClampUpdate();
        if (clamp != null) {
            upstream.text(clampEvent(clamp));
        }
        sendToClient(pause.resumedEvent(metering.ledger()));
        return true;
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
        String field = RealtimeEvents.sessionOutputLimit(beta);
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

    /**
     * An upstream event over {@code RELAY_MAX_UPSTREAM_FRAME_SIZE} was dropped: the client hears
     * so, and a {@code response.done} among them is charged its reservation (its usage is unread).
     */
    @Override
    public void oversized(ByteBuffer prefix) {
        String type = EventScanner.type(prefix);
        LOG.warn("Session {}: dropped an upstream event over the size limit ({})", sessionId, type.isEmpty() ? "unknown type" : type);
        ctx.metrics().upstreamEventDropped();
        sendToClient(ctx.events().clientError("upstream_event_too_large",
                "An event from the model (" + (type.isEmpty() ? "unknown type" : type)
                        + ") was larger than this gateway relays and was dropped", null));
        if (type.equals(RealtimeEvents.RESPONSE_DONE)) {
            responseDone(null, RealtimeEvents.responseIdIn(prefix), null, tools.answers());
        }
    }

    @Override
    public void failed(String why) {
        finish(EndReason.UPSTREAM_ERROR, null, why);
    }

    @Override
    public void text(ByteBuffer message) {
        String type = EventScanner.type(message);
        if (calls != null && (type.equals("session.updated") || type.startsWith("input_audio_buffer.speech_"))) {
            try {
                JsonNode e = ctx.mapper().readTree(message.array(), message.arrayOffset() + message.position(), message.remaining());
                if (type.equals("session.updated")) {
                    sessionUpdated(e);
                    if (pause.enabled()) {
                        pauseSeesSession(e);
                    }
                } else {
                    speech(type, e);
                }
            } catch (Exception e) {
                ctx.metrics().parseFailure();
            }
            return;
        }
        if (pause.enabled() && (type.equals("session.created") || type.equals("session.updated"))) {
            try {
                pause.sessionReported(ctx.mapper().readTree(message.array(), message.arrayOffset() + message.position(),
                        message.remaining()));
            } catch (Exception e) {
                ctx.metrics().parseFailure();
            }
        }
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
                // in flight before the client hears of it: a client that leaves on hearing it leaves an
                // ending that waits for it
                JsonNode r = event.path("response");
                boolean parallel = calls != null && !metering.activeResponseIds().isEmpty();
                // the guard's own goodbye, asked for while the session ends: not cancelled for the ending
                boolean farewell = goodbye.announced(r.path("id").asText(""), metering.nextAnnouncedIs(Goodbye.EVENT_ID));
                boolean overBudget = metering.responseCreated(r.path("id").asText(""), RealtimeEvents.maxOutputTokens(r),
                        RealtimeEvents.outOfBand(r));
                sendToClient(message);
                // started before the upstream saw the latest clamp, it may cost more than the budget
                // allows; started while the session ends (server VAD found a turn in audio already sent),
                // nobody is left to hear it: either way it is cancelled, and charged when it is done
                if (overBudget || ending.started() && !farewell) {
                    upstream.text(ctx.events().responseCancel(r.path("id").asText("")));
                    if (calls != null) {
                        // the caller's own response.create went to the provider on its data channel
                        EndReason pausedFor = pause.reason();
                        ctx.metrics().callReaction(ending.started() ? "cancel_ending" : pausedFor != null ? "cancel_paused"
                                : parallel ? "cancel_parallel" : "cancel_over_clamp");
                        if (!ending.started() && cancelledForCaller.incrementAndGet() > MAX_CALLER_CANCELS) {
                            // every cancelled response is still billed (its input, and output until the
                            // cancel arrives): a caller that keeps starting them is hung up; while paused, it
                            // ends as the pause would have at its timeout
                            LOG.warn("Call {}: the caller started {} responses over its limits{}; hanging up", sessionId,
                                    cancelledForCaller.get(), pausedFor != null ? " or while paused" : "");
                            ending.soon(pausedFor != null ? pausedFor : EndReason.BUDGET_EXCEEDED,
                                    "the caller kept starting responses over its limits");
                        }
                    }
                }
            }
            case RealtimeEvents.RESPONSE_DONE -> responseDone(message, event);
            case RealtimeEvents.ERROR -> {
                String about = event.path("error").path("event_id").asText("");
                // released before the client hears of it: a client that answers the error with its
                // next response.create finds the refused one no longer in flight
                metering.createFailed(about);
                // the gateway's own cancel finding nothing to cancel (it raced the response's end, or
                // only transcriptions were awaited), or its goodbye refused, is not the client's business
                if (!about.equals(GatewayEvents.CANCEL_EVENT_ID) && !about.equals(Goodbye.EVENT_ID)) {
                    sendToClient(policy.errorForClient(message, event));
                }
            }
            case RealtimeEvents.AUDIO_COMMITTED -> {
                // awaited before the client hears of it (a client that leaves right then leaves it awaited)
                metering.audioCommitted(event.path("item_id").asText(""));
                sendToClient(message);
            }
            case RealtimeEvents.TRANSCRIPTION_COMPLETED -> {
                sendToClient(message);
                TokenUsage usage = usageOf(() -> RealtimeEvents.transcriptionUsage(event));
                String item = event.path("item_id").asText("");
                metering.transcriptionArrived(item);
                try {
                    if (usage != null) {
                        ending.charging(() -> charged(metering.chargeTranscription(item, usage, ctx.clock().millis())));
                    }
                } finally {
                    metering.settled();
                }
            }
            case RealtimeEvents.TRANSCRIPTION_FAILED -> {
                sendToClient(message);
                metering.transcriptionFailed(event.path("item_id").asText(""));
            }
            default -> {
                if (!tools.withhold(type, event, tool -> ending.charging(() -> charged(metering.chargeToolFee(tool, ctx.clock().millis()))))) {
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
        responseDone(forClient, event.path("response").path("id").asText(""), usage, answers);
    }

    /**
     * A response ended: charged by its usage, or by its reservation (estimated) when its usage is
     * null (unreadable, or the event was too large to read); {@code forClient} (null: nothing)
     * goes to the client after the charge.
     */
    private void responseDone(ByteBuffer forClient, String responseId, TokenUsage usage, ToolCalls.Answers answers) {
        // decided before the client hears of the charge: a response it asks for right after (in flight
        // by the time this thread looks again) is not the budget's concern here
        boolean[] affordable = {true};
        EndReason[] pauseFor = {null};
        try {
            ending.charging(() -> {
                CostGuard.Usage u = metering.responseDone(responseId, usage, ctx.clock().millis());
                affordable[0] = metering.canAffordNext();
                if (!ending.started() && (u == null || u.endedNow() == null) && affordable[0]) {
                    // the next response's reservation before the client hears of this one's end: what it
                    // asks for next starts on it
                    EndReason refused = metering.reserveStanding(ctx.clock().millis());
                    if (refused != null && pause.pausesFor(refused)) {
                        pauseFor[0] = refused; // after the client heard of this response and its charge
                    } else if (refused != null) {
                        ending.soon(refused, null);
                    }
                }
                if (ending.started()) {
                    LOG.info("Session {}: last response charged {} USD", sessionId,
                            u == null ? "0" : ducke.core.cost.Money.usd(u.callCostNanoUsd()).toPlainString());
                }
                if (forClient != null) {
                    sendToClient(forClient);
                }
                charged(u);
            });
        } finally {
            metering.settled();
        }
        if (ending.started()) {
            return;
        }
        answers.outputs().forEach(this::toUpstream);
        if (pauseFor[0] != null) {
            outOfBudget(pauseFor[0], false);
            return;
        }
        if (affordable[0] && pause.paused()) {
            // the last response of a pause took the next reservation: the client's budget has room again
            tryResume();
        }
        if (!affordable[0]) {
            outOfBudget(EndReason.BUDGET_EXCEEDED, true);
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
            outOfBudget(EndReason.BUDGET_EXCEEDED, true);
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
        if (ending.started()) {
            return;
        }
        Long clamp = metering.staleSessionClamp();
        if (clamp != null) {
            upstream.text(clampEvent(clamp));
        }
        Long raise = metering.standingShortfall();
        if (raise != null) {
            // a grid call: never on the thread that read the frame (it may be the selector's)
            executor().execute(() -> {
                try {
                    EndReason refused = metering.raiseStanding(raise, ctx.clock().millis());
                    if (refused != null) {
                        outOfBudget(refused, false);
                    }
                } catch (RuntimeException e) {
                    LOG.warn("Session {}: could not raise its reservation", sessionId, e);
                    ending.soon(EndReason.CLUSTER_DEGRADED, SessionEnding.UNCONFIRMED_CHARGE);
                }
            });
        }
    }

    private void stalled(String why) {
        if (ending.started()) {
            return; // ending already; frames read meanwhile (a flood) would say so once each
        }
        LOG.info("Closing session {}: {}", sessionId, why);
        ending.soon(EndReason.CLIENT_CLOSED, why);
    }

    // ---- ending: SessionEnding ----

    /** The cluster announced that this session's ledger ended; see {@link SessionEnding#ledgerEnded}. */
    void ledgerEnded(SessionLedger ended) {
        ending.ledgerEnded(ended);
    }

    /** Ends the session once, whatever the path; see {@link SessionEnding#now}. */
    void finish(EndReason reason, SessionLedger ended, String detail) {
        ending.now(reason, ended, detail);
    }
}
