package ducke.metrics;

import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.ratelimit.Endpoints;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/** Metrics of the {@code /session} relay. Labels are fixed words only. */
public final class RelayMetrics {

    public static final String CLIENT_TO_UPSTREAM = "client_to_upstream";
    public static final String UPSTREAM_TO_CLIENT = "upstream_to_client";
    /** The codes of refused client events: a fixed set, fit for a label. */
    public static final List<String> REFUSAL_CODES = List.of("event_not_allowed",
            "model_change_not_allowed", "transcription_model_not_allowed", "conversation_already_has_active_response",
            "session_paused");
    /** Why a session is paused: the end reasons a pause stands in for. */
    public static final List<String> PAUSE_REASONS = List.of(EndReason.BUDGET_EXCEEDED.label(),
            EndReason.CLIENT_BUDGET_EXCEEDED.label());

    /** Handshake outcomes other than the cost refusals (which are {@link CostGuard.Refusal} names, lower case). */
    /** Call offer outcomes besides the handshake's and the cost refusals. */
    static final List<String> CALL_OUTCOMES = List.of("created", "bad_offer", "upstream_unavailable", "origin_forbidden",
            "model_forbidden", "unauthorized", "cluster_degraded", "shutting_down", "upstream_refused", "upstream_failed",
            "sideband_failed");
    /** What a call's sideband did: cancels, undone session updates, hang-ups, re-attachments. */
    public static final List<String> CALL_REACTIONS = List.of("cancel_over_clamp", "cancel_parallel", "cancel_paused", "cancel_ending",
            "undo_session_update", "hangup", "reattached", "reattach_failed");

    static final List<String> HANDSHAKE_OUTCOMES = List.of("accepted", "not_websocket", "bad_version", "bad_key",
            "upstream_unavailable", "origin_forbidden", "model_forbidden", "unauthorized", "cluster_degraded",
            "shutting_down", "upgrade_failed", "aborted");

    private final Counter handshakes;
    private final Counter callOffers;
    private final Counter callReactions;
    private final Counter frames;
    private final Counter bytes;
    private final Counter parseFailures;
    private final Counter connectFailures;
    private final Counter toolCallsBlocked;
    private final Counter closed;
    private final Counter refused;
    private final Counter finalUsageMissed;
    private final Counter goodbyes;
    private final Counter chargesUnconfirmed;
    private final Counter upstreamEventsDropped;
    private final Counter paused;
    private final Counter resumed;
    /** The frame counters by direction, looked up once: they are counted for every relayed frame. */
    private final CounterDataPoint[] framesByDirection;
    private final CounterDataPoint[] bytesByDirection;

    public RelayMetrics(GuardMetrics metrics) {
        var r = metrics.registry();
        handshakes = Counter.builder().name("relay_handshakes_total")
                .help("Handshakes on /session by outcome").labelNames("outcome").register(r);
        callOffers = Counter.builder().name("relay_call_offers_total")
                .help("WebRTC call offers on /v1/realtime/calls by outcome").labelNames("outcome").register(r);
        callReactions = Counter.builder().name("relay_call_reactions_total")
                .help("What the sideband of a WebRTC call did to keep the call within its limits, by action")
                .labelNames("action").register(r);
        frames = Counter.builder().name("relay_frames_total").help("Frames relayed").labelNames("direction").register(r);
        bytes = Counter.builder().name("relay_bytes_total").help("Payload bytes relayed").labelNames("direction").register(r);
        parseFailures = Counter.builder().name("relay_metering_parse_failures_total")
                .help("Upstream events that should have been metered but could not be parsed").register(r);
        connectFailures = Counter.builder().name("relay_upstream_connect_failures_total")
                .help("Upstream connections that could not be opened").register(r);
        toolCallsBlocked = Counter.builder().name("relay_tool_calls_blocked_total")
                .help("Model tool calls answered by the gateway because the client's quota was spent")
                .labelNames("tool").register(r);
        closed = Counter.builder().name("relay_sessions_closed_total")
                .help("Relayed sessions closed, by end reason").labelNames("reason").register(r);
        refused = Counter.builder().name("relay_client_events_refused_total")
                .help("Client events the relay did not forward, by error code").labelNames("code").register(r);
        finalUsageMissed = Counter.builder().name("relay_final_usage_missed_total")
                .help("Sessions that ended before the upstream reported the usage of their last response").register(r);
        goodbyes = Counter.builder().name(MetricNames.RELAY_GOODBYES)
                .help("Spoken goodbyes of sessions ending for a cap or a drain (RELAY_GOODBYE_INSTRUCTIONS), by outcome")
                .labelNames("outcome").register(r);
        chargesUnconfirmed = Counter.builder().name("relay_charges_unconfirmed_total")
                .help("Relayed charges the cluster did not confirm in time or refused; each ended its session").register(r);
        paused = Counter.builder().name(MetricNames.SESSIONS_PAUSED)
                .help("Realtime sessions paused at their cap instead of ended, by the end reason they were spared")
                .labelNames("reason").register(r);
        resumed = Counter.builder().name(MetricNames.SESSIONS_RESUMED)
                .help("Paused realtime sessions resumed by a raised cap or client budget").register(r);
        initialise();
        upstreamEventsDropped = Counter.builder().name("relay_upstream_events_dropped_total")
                .help("Upstream events over RELAY_MAX_UPSTREAM_FRAME_SIZE, dropped (a response.done among them is charged its reservation)")
                .register(r);
        framesByDirection = new CounterDataPoint[]{frames.labelValues(CLIENT_TO_UPSTREAM), frames.labelValues(UPSTREAM_TO_CLIENT)};
        bytesByDirection = new CounterDataPoint[]{bytes.labelValues(CLIENT_TO_UPSTREAM), bytes.labelValues(UPSTREAM_TO_CLIENT)};
    }

    /** Every labelled series at zero from the first scrape, so that dashboards and rate() see the first event. */
    private void initialise() {
        HANDSHAKE_OUTCOMES.forEach(handshakes::initLabelValues);
        CALL_OUTCOMES.forEach(callOffers::initLabelValues);
        CALL_REACTIONS.forEach(callReactions::initLabelValues);
        List.of("done", "cancelled", "skipped").forEach(goodbyes::initLabelValues);
        Arrays.stream(CostGuard.Refusal.values()).forEach(refusal -> callOffers.initLabelValues(refusal.name().toLowerCase(Locale.ROOT)));
        Arrays.stream(CostGuard.Refusal.values()).forEach(refusal -> handshakes.initLabelValues(refusal.name().toLowerCase(Locale.ROOT)));
        for (String direction : List.of(CLIENT_TO_UPSTREAM, UPSTREAM_TO_CLIENT)) {
            frames.initLabelValues(direction);
            bytes.initLabelValues(direction);
        }
        Endpoints.TOOLS.forEach(toolCallsBlocked::initLabelValues);
        Arrays.stream(EndReason.values()).forEach(reason -> closed.initLabelValues(reason.label()));
        REFUSAL_CODES.forEach(refused::initLabelValues);
        PAUSE_REASONS.forEach(paused::initLabelValues);
    }

    public void sessionPaused(String reason) {
        paused.labelValues(PAUSE_REASONS.contains(reason) ? reason : PAUSE_REASONS.get(0)).inc();
    }

    public void sessionResumed() {
        resumed.inc();
    }

    public void liveSessions(GuardMetrics metrics, IntSupplier live) {
        GaugeWithCallback.builder().name("relay_sessions_live").help("Sessions relayed by this node right now")
                .callback(cb -> cb.call(live.getAsInt())).register(metrics.registry());
    }

    public void handshake(String outcome) {
        handshakes.labelValues(outcome).inc();
    }

    public void callOffer(String outcome) {
        callOffers.labelValues(outcome).inc();
    }

    /** A spoken goodbye ended: {@code done}, {@code cancelled} or {@code skipped}. */
    public void goodbye(String outcome) {
        goodbyes.labelValues(outcome).inc();
    }

    public void callReaction(String action) {
        callReactions.labelValues(action).inc();
    }

    public void frame(String direction, long size) {
        int d = CLIENT_TO_UPSTREAM.equals(direction) ? 0 : 1;
        framesByDirection[d].inc();
        bytesByDirection[d].inc(size);
    }

    public void parseFailure() {
        parseFailures.inc();
    }

    public void connectFailure() {
        connectFailures.inc();
    }

    public void toolCallBlocked(String tool) {
        toolCallsBlocked.labelValues(tool).inc();
    }

    public void clientEventRefused(String code) {
        refused.labelValues(REFUSAL_CODES.contains(code) ? code : "event_not_allowed").inc();
    }

    /** A relayed charge the cluster did not confirm (it may still be applied late); its session ends. */
    public void chargeUnconfirmed() {
        chargesUnconfirmed.inc();
    }

    public void upstreamEventDropped() {
        upstreamEventsDropped.inc();
    }

    public void finalUsageMissed() {
        finalUsageMissed.inc();
    }

    public void sessionClosed(String reason) {
        closed.labelValues(reason).inc();
    }
}
