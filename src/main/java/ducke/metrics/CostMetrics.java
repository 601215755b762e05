package ducke.metrics;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cost.ChargeJournal;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.stream.LongStream;

/**
 * Cost metrics under the original service's names. Money is counted exactly in nano-USD and only
 * turned into decimal dollars when scraped. Model labels are configured model names or
 * {@code unknown}; nothing client- or session-specific becomes a label.
 */
public final class CostMetrics implements CostObserver {

    /** Seconds; ends at the session duration cap. */
    static double[] durationBuckets(long capMillis) {
        long cap = Math.max(1, capMillis / 1000);
        return LongStream.concat(LongStream.of(1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1500, 1800, 2700, 3600)
                        .filter(s -> s < cap), LongStream.of(cap))
                .asDoubleStream().toArray();
    }

    private final Map<String, AtomicLong> costNanoByModel = new ConcurrentHashMap<>();
    private final Counter tokens;
    private final Counter limitsReached;
    private final Counter reservations;
    private final Counter unknownModelCharges;
    private final Histogram sessionDuration;
    private final Counter journal;
    private final Counter estimated;
    private final AtomicReference<SpendLedger.Snapshot> spend = new AtomicReference<>();

    /** Every value of {@code session_reservations_total}'s {@code outcome} label ({@link CostObserver#reservation}). */
    public static final List<String> RESERVATION_OUTCOMES = List.of("granted", "refused", "settled", "released", "expired");

    /** Every value of {@code budget_exceeded_total}'s {@code limit} label ({@link CostObserver#limitReached}). */
    public static final List<String> LIMITS =
            List.of("session_cost", "session_duration", "hourly", "client_hourly", "client_day", "client_month", "client_minutes",
                    "circuit_breaker", "concurrent_sessions");

    /** Label of the money charged as tool fees in {@code api_cost_total_usd}. */
    static final String TOOL_FEE = "tool_fee";

    /**
     * @param models the model labels charges can carry (configured models and {@code unknown}):
     *               every labelled series exists, at zero, from the first scrape
     */
    public CostMetrics(GuardMetrics metrics, CostLimits limits, Collection<String> models) {
        PrometheusRegistry registry = metrics.registry();
        GaugeWithCallback.builder().name(MetricNames.API_COST)
                .help("Money charged to sessions in USD, by model (monotonic; exact to the nano-dollar)")
                .labelNames("model")
                .callback(cb -> costNanoByModel.forEach((model, nanos) -> cb.call(usd(nanos.get()), model)))
                .register(registry);
        tokens = Counter.builder().name(MetricNames.TOKEN_USAGE).help("Tokens charged, by model and kind")
                .labelNames("model", "type").register(registry);
        limitsReached = Counter.builder().name(MetricNames.BUDGET_EXCEEDED)
                .help("Cost limits reached: session_cost, session_duration, hourly, client_hourly, client_day, client_month, "
                        + "client_minutes, circuit_breaker, concurrent_sessions")
                .labelNames("limit").register(registry);
        unknownModelCharges = Counter.builder().name(MetricNames.UNKNOWN_MODEL_CHARGES)
                .help("Charges for models not in the price table, priced at the most expensive rates").register(registry);
        sessionDuration = Histogram.builder().name(MetricNames.SESSION_DURATION)
                .help("Duration of ended sessions in seconds, by end reason").labelNames("status")
                .classicOnly().classicUpperBounds(durationBuckets(limits.maxSessionDurationMillis())).register(registry);
        journal = Counter.builder().name(MetricNames.COST_JOURNAL)
                .help("Charges and session ends kept while this node had no quorum: journaled, refused (journal full "
                        + "or not writable), then applied, applied_orphan (counted without its session, which is gone) "
                        + "or discarded (the end of a session that is gone) once the quorum was back")
                .labelNames("outcome").register(registry);
        estimated = Counter.builder().name(MetricNames.ESTIMATED_CHARGES)
                .help("Responses and transcriptions charged their reservation because their usage never arrived "
                        + "(upstream failed or closed, unreadable usage, tail wait over), by model")
                .labelNames("model").register(registry);
        reservations = Counter.builder().name(MetricNames.SESSION_RESERVATIONS)
                .help("Session API reservations of one response's worst case: granted, refused, settled (by the "
                        + "response's usage report), released, expired (charged their amount, estimated)")
                .labelNames("outcome").register(registry);
        RESERVATION_OUTCOMES.forEach(o -> reservations.labelValues(o).inc(0));
        initialise(models);
        GaugeWithCallback.builder().name(MetricNames.BREAKER_OPEN).help("1 while the circuit breaker is open")
                .callback(cb -> cb.call(snapshot().breakerOpen() ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name(MetricNames.BREAKER_SPEND).help("Cluster spend counted by the breaker, USD")
                .callback(cb -> cb.call(usd(snapshot().breakerNanoUsd()))).register(registry);
        GaugeWithCallback.builder().name(MetricNames.BREAKER_THRESHOLD).help("Spend that opens the breaker, USD")
                .callback(cb -> cb.call(usd(limits.breakerThresholdNanoUsd()))).register(registry);
        GaugeWithCallback.builder().name(MetricNames.HOURLY_SPEND).help("Cluster spend over the rolling hour, USD")
                .callback(cb -> cb.call(usd(snapshot().hourlyNanoUsd()))).register(registry);
        GaugeWithCallback.builder().name(MetricNames.HOURLY_CAP).help("Hourly spend cap, USD")
                .callback(cb -> cb.call(usd(limits.maxHourlyCostNanoUsd()))).register(registry);
    }

    private void initialise(Collection<String> models) {
        for (String model : models) {
            costNanoByModel.put(model, new AtomicLong());
            Arrays.stream(TokenKind.values()).forEach(k -> tokens.initLabelValues(model, k.label()));
            estimated.initLabelValues(model);
        }
        costNanoByModel.put(TOOL_FEE, new AtomicLong());
        LIMITS.forEach(limitsReached::initLabelValues);
        Arrays.stream(EndReason.values()).forEach(r -> sessionDuration.initLabelValues(r.label()));
    }

    /** Registers {@code active_sessions_total}, read from {@code activeSessions} at each scrape. */
    public void activeSessions(GuardMetrics metrics, IntSupplier activeSessions) {
        metrics.legacyGauge(MetricNames.ACTIVE_SESSIONS,
                "Active sessions in this node's share of the grid; the sum over nodes is the cluster's",
                activeSessions::getAsInt);
    }

    /** Registers the quorum and journal gauges. */
    public void degradedMode(GuardMetrics metrics, ClusterHealth health, ChargeJournal charges) {
        GaugeWithCallback.builder().name(MetricNames.CLUSTER_QUORUM)
                .help("1 while this node sees the quorum cost state needs; 0 in a minority")
                .callback(cb -> cb.call(health.quorum() ? 1 : 0)).register(metrics.registry());
        GaugeWithCallback.builder().name(MetricNames.COST_JOURNAL_ENTRIES)
                .help("Charges and session ends waiting for the quorum to be applied")
                .callback(cb -> cb.call(charges.size())).register(metrics.registry());
    }

    @Override
    public void estimated(String modelLabel, long costNanoUsd) {
        estimated.labelValues(modelLabel).inc();
    }

    @Override
    public void journal(String outcome) {
        journal.labelValues(outcome).inc();
    }

    @Override
    public void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts counted) {
        costNanoByModel.computeIfAbsent(modelLabel, m -> new AtomicLong()).addAndGet(costNanoUsd);
        Arrays.stream(TokenKind.values()).filter(k -> counted.get(k) > 0)
                .forEach(k -> tokens.labelValues(modelLabel, k.label()).inc(counted.get(k)));
        if (!knownModel) {
            unknownModelCharges.inc();
        }
    }

    @Override
    public void limitReached(String limit) {
        limitsReached.labelValues(limit).inc();
    }

    @Override
    public void reservation(String outcome) {
        reservations.labelValues(outcome).inc();
    }

    @Override
    public void sessionEnded(SessionRecord r) {
        sessionDuration.labelValues(r.endReason().label()).observe(r.durationMillis() / 1000.0);
    }

    @Override
    public void spend(SpendLedger.Snapshot s) {
        spend.accumulateAndGet(s, (old, neu) -> old == null || neu.asOfMillis() >= old.asOfMillis() ? neu : old);
    }

    private SpendLedger.Snapshot snapshot() {
        SpendLedger.Snapshot s = spend.get();
        return s != null ? s : new SpendLedger.Snapshot(0, 0, false, 0, 0, "", 0, 0);
    }

    /**
     * A Prometheus sample of exact money: the totals stay whole nano-dollars (longs) in the grid and
     * here; only the exposition, whose samples are float64 by format, sees a double, made at the
     * moment of the scrape and never added to or stored.
     */
    private static double usd(long nanoUsd) {
        return Money.usd(nanoUsd).doubleValue();
    }
}
