package ducke.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import java.util.function.IntSupplier;

/** Metrics of the {@code /session} relay. Labels are fixed words only. */
public final class RelayMetrics {

    public static final String CLIENT_TO_UPSTREAM = "client_to_upstream";
    public static final String UPSTREAM_TO_CLIENT = "upstream_to_client";

    private final Counter handshakes;
    private final Counter frames;
    private final Counter bytes;
    private final Counter parseFailures;
    private final Counter connectFailures;
    private final Counter toolCallsBlocked;
    private final Counter closed;

    public RelayMetrics(GuardMetrics metrics) {
        var r = metrics.registry();
        handshakes = Counter.builder().name("relay_handshakes_total")
                .help("Handshakes on /session by outcome").labelNames("outcome").register(r);
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
    }

    public void liveSessions(GuardMetrics metrics, IntSupplier live) {
        GaugeWithCallback.builder().name("relay_sessions_live").help("Sessions relayed by this node right now")
                .callback(cb -> cb.call(live.getAsInt())).register(metrics.registry());
    }

    public void handshake(String outcome) {
        handshakes.labelValues(outcome).inc();
    }

    public void frame(String direction, long size) {
        frames.labelValues(direction).inc();
        bytes.labelValues(direction).inc(size);
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

    public void sessionClosed(String reason) {
        closed.labelValues(reason).inc();
    }
}
