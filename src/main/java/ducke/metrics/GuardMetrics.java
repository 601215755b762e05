package ducke.metrics;

import com.codahale.metrics.MetricRegistry;
import ducke.core.cluster.ClusterView;
import ducke.core.ratelimit.LocalDenials;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.DoubleSupplier;

/**
 * The service's Prometheus metrics, one registry per application instance. Labels stay bounded:
 * endpoint names and fixed words only, never client addresses or ids. Thread-safe.
 */
public final class GuardMetrics {

    /** Seconds: 10 µs to 100 ms, so a local decision and a grid round trip both resolve. */
    static final double[] CHECK_BUCKETS = {
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1};

    private static final String FAIL_OPEN = "fail_open";
    private static final String FAIL_CLOSED = "fail_closed";

    /** A gauge exposed under a name the client library would refuse; see {@link MetricsServlet}. */
    public record LegacyGauge(String help, DoubleSupplier value) {
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Map<String, LegacyGauge> legacyGauges = new ConcurrentSkipListMap<>();
    private final Counter rateLimitExceeded;
    private final Histogram rateLimitCheckDuration;
    private final Counter rateLimitGridErrors;
    private final Counter rateLimitLocalRejections;

    /**
     * @param endpoints every endpoint and tool name: each labelled series exists, at zero, from the
     *                  first scrape, so that {@code rate()} and dashboards see the first event too
     */
    public GuardMetrics(MetricRegistry dropwizardMetrics, ClusterView cluster, LocalDenials denials,
                        Collection<String> endpoints) {
        DropwizardExports.builder().dropwizardRegistry(dropwizardMetrics).register(registry);
        rateLimitExceeded = Counter.builder().name(MetricNames.RATE_LIMIT_EXCEEDED)
                .help("Requests rejected by a rate limit").labelNames("endpoint").register(registry);
        rateLimitCheckDuration = Histogram.builder().name(MetricNames.RATE_LIMIT_CHECK_DURATION)
                .help("Time taken by the rate-limit check itself").labelNames("endpoint")
                .classicOnly().classicUpperBounds(CHECK_BUCKETS).register(registry);
        rateLimitGridErrors = Counter.builder().name(MetricNames.RATE_LIMIT_GRID_ERRORS)
                .help("Rate-limit checks the grid could not answer in time, by what was done (fail_open, fail_closed)")
                .labelNames("endpoint", "action").register(registry);
        rateLimitLocalRejections = Counter.builder().name(MetricNames.RATE_LIMIT_LOCAL_REJECTIONS)
                .help("Rejections answered from this node's denial cache without a grid round trip")
                .labelNames("endpoint").register(registry);
        for (String endpoint : endpoints) {
            rateLimitExceeded.initLabelValues(endpoint);
            rateLimitCheckDuration.initLabelValues(endpoint);
            rateLimitLocalRejections.initLabelValues(endpoint);
            rateLimitGridErrors.initLabelValues(endpoint, FAIL_OPEN);
            rateLimitGridErrors.initLabelValues(endpoint, FAIL_CLOSED);
        }
        GaugeWithCallback.builder().name(MetricNames.RATE_LIMIT_LOCAL_DENIALS)
                .help("Denials currently cached on this node")
                .callback(cb -> cb.call(denials.size())).register(registry);
        GaugeWithCallback.builder().name(MetricNames.CLUSTER_MEMBERS)
                .help("Cluster members this node sees, itself included")
                .callback(cb -> cb.call(cluster.memberCount())).register(registry);
    }

    /** 1 while this node drains (refuses new sessions, lets live ones finish), else 0. */
    public void nodeDraining(java.util.function.BooleanSupplier draining) {
        GaugeWithCallback.builder().name(MetricNames.NODE_DRAINING)
                .help("1 while this node drains: new sessions refused, live ones finishing before it stops")
                .callback(cb -> cb.call(draining.getAsBoolean() ? 1 : 0)).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public void legacyGauge(String name, String help, DoubleSupplier value) {
        legacyGauges.put(name, new LegacyGauge(help, value));
    }

    public Map<String, LegacyGauge> legacyGauges() {
        return legacyGauges;
    }

    public void rateLimitChecked(String endpoint, long nanos) {
        rateLimitCheckDuration.labelValues(endpoint).observe(nanos / 1e9);
    }

    public void rateLimitExceeded(String endpoint, boolean fromLocalCache) {
        rateLimitExceeded.labelValues(endpoint).inc();
        if (fromLocalCache) {
            rateLimitLocalRejections.labelValues(endpoint).inc();
        }
    }

    public void rateLimitGridError(String endpoint, boolean failedOpen) {
        rateLimitGridErrors.labelValues(endpoint, failedOpen ? FAIL_OPEN : FAIL_CLOSED).inc();
    }
}
