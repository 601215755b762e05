package ducke.core.cost;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Cost protection as one service: opening sessions through the gates, charging usage, ending
 * sessions. Every end path goes through {@link #afterEnd}, which frees the client's slot and
 * reports the session once. Thread-safe; all state lives in the stores.
 */
public final class CostGuard {

    public static final String WARNING_BUDGET = "Session budget limit exceeded";
    public static final String WARNING_DURATION = "Session duration limit exceeded";
    public static final String WARNING_BREAKER = "System-wide circuit breaker is active";
    public static final String WARNING_HOURLY = "Hourly cost limit exceeded";

    /** Why a new session was refused. */
    public enum Refusal { CIRCUIT_BREAKER_OPEN, HOURLY_LIMIT, CONCURRENT_LIMIT }

    /** A session start: either the new ledger, or the refusal and how long to wait (0 = no sensible wait). */
    public record Start(SessionLedger ledger, Refusal refusal, long retryAfterMillis, SpendLedger.Snapshot spend) {
        public boolean started() {
            return ledger != null;
        }
    }

    /** The answer to a usage report. {@code ledger} is null when the session is unknown. */
    public record Usage(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean budgetOk, boolean warningNow,
                        EndReason endedNow, SpendLedger.Snapshot spend, List<String> warnings, PriceTable.Priced priced) {
    }

    private final PriceTable prices;
    private final CostLimits limits;
    private final SessionStore sessions;
    private final SpendStore spend;
    private final SpendView view;
    private final BreakerBroadcast broadcast;
    private final CostObserver observer;
    private final String nodeName;
    private final Supplier<String> ids;
    private volatile SessionEndings endings = SessionEndings.NONE;

    public CostGuard(PriceTable prices, CostLimits limits, SessionStore sessions, SpendStore spend, SpendView view,
                     BreakerBroadcast broadcast, CostObserver observer, String nodeName, Supplier<String> ids) {
        this.prices = prices;
        this.limits = limits;
        this.sessions = sessions;
        this.spend = spend;
        this.view = view;
        this.broadcast = broadcast;
        this.observer = observer;
        this.nodeName = nodeName;
        this.ids = ids;
    }

    /** Who hears of every session this node ends; set once while wiring. */
    public void announceEndingsTo(SessionEndings endings) {
        this.endings = endings;
    }

    public CostLimits limits() {
        return limits;
    }

    public PriceTable prices() {
        return prices;
    }

    public SpendView view() {
        return view;
    }

    /**
     * Opens a session unless the breaker is open, the hourly spend is at its cap, or the client
     * already holds its maximum of concurrent sessions.
     *
     * @param holder grid member that will hold the live connection, or "" for API sessions
     */
    public Start start(String clientId, String model, String holder, long nowMillis) {
        SpendLedger.Snapshot s = refreshSpend(nowMillis);
        if (limits.enforced()) {
            if (s.breakerOpenAt(nowMillis)) {
                observer.limitReached("circuit_breaker");
                return new Start(null, Refusal.CIRCUIT_BREAKER_OPEN, s.breakerClosesAtMillis() - nowMillis, s);
            }
            if (s.hourlyNanoUsd() >= limits.maxHourlyCostNanoUsd()) {
                observer.limitReached("hourly");
                return new Start(null, Refusal.HOURLY_LIMIT, s.hourlyRetryAfterMillis(), s);
            }
        }
        SessionLedger ledger = SessionLedger.open(ids.get(), clientId, nodeName, model, prices.version(), nowMillis, limits, holder);
        int maxSlots = limits.enforced() ? limits.maxConcurrentSessionsPerClient() : Integer.MAX_VALUE;
        if (!sessions.tryAcquireSlot(clientId, ledger.sessionId(), ledger.expiresAtMillis(), maxSlots, nowMillis)) {
            observer.limitReached("concurrent_sessions");
            return new Start(null, Refusal.CONCURRENT_LIMIT, 0, s);
        }
        if (!sessions.create(ledger)) {
            sessions.releaseSlot(clientId, ledger.sessionId(), nowMillis);
            throw new IllegalStateException("session id collision: " + ledger.sessionId());
        }
        return new Start(ledger, null, 0, s);
    }

    /** Prices and charges one usage report to the session and to the cluster's spend. */
    public Usage report(String sessionId, String model, TokenUsage usage, long nowMillis) {
        Optional<SessionLedger> current = sessions.get(sessionId);
        if (current.isEmpty()) {
            return new Usage(null, false, 0, false, false, null, view.get(), List.of(), null);
        }
        return report(sessionId, current.get().model(), model, usage, nowMillis);
    }

    /**
     * The same, for callers that already know the session's model (the relay): no grid read first.
     * A report may name another model; it never pays less than the session's own model would.
     */
    public Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, long nowMillis) {
        PriceTable.Priced priced = prices.price(sessionModel, usage);
        if (reportedModel != null && !reportedModel.isBlank()) {
            PriceTable.Priced named = prices.price(reportedModel, usage);
            priced = named.costNanoUsd() >= priced.costNanoUsd() ? named : priced;
        }
        return charge(sessionId, priced.costNanoUsd(), priced.tokens(), priced, nowMillis);
    }

    /** Charges a fixed tool fee; nothing happens when the tool has no fee. */
    public Usage chargeToolFee(String sessionId, String tool, long nowMillis) {
        long fee = prices.toolFeeNanoUsd(tool);
        return fee == 0 ? null : charge(sessionId, fee, TokenCounts.ZERO, null, nowMillis);
    }

    private Usage charge(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced, long nowMillis) {
        SessionRules.Charge c = sessions.charge(sessionId, costNanoUsd, tokens, nowMillis, limits);
        if (c.ledger() == null) {
            return new Usage(null, false, 0, false, false, null, view.get(), List.of(), priced);
        }
        if (!c.applied()) {
            return new Usage(c.ledger(), false, 0, c.budgetOk(), false, null, view.get(), List.of(), priced);
        }
        SpendLedger.Charged spent;
        try {
            spent = spend.charge(costNanoUsd, nowMillis, limits);
        } finally {
            // the session's own end must be completed even if the cluster spend could not be updated
            if (c.endedNow() != null) {
                afterEnd(c.ledger());
            }
        }
        view.offer(spent.snapshot());
        observer.spend(spent.snapshot());
        if (priced != null) {
            observer.charged(priced.match().label(), priced.match().known(), costNanoUsd, tokens);
        } else {
            observer.charged("tool_fee", true, costNanoUsd, tokens);
        }
        if (spent.breakerOpenedNow()) {
            observer.limitReached("circuit_breaker");
            observer.breakerChanged(spent.snapshot(), "spend");
            broadcast.publish(spent.snapshot());
        }
        return new Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(), spent.snapshot(),
                warnings(c.ledger(), spent.snapshot(), nowMillis), priced);
    }

    /** Ends a session; empty when it is unknown. Ending an ended session changes nothing. */
    public Optional<SessionStore.Ended> end(String sessionId, EndReason reason, long nowMillis) {
        Optional<SessionStore.Ended> ended = sessions.end(sessionId, reason, nowMillis);
        ended.filter(SessionStore.Ended::endedNow).ifPresent(e -> afterEnd(e.ledger()));
        return ended;
    }

    public Optional<SessionLedger> get(String sessionId) {
        return sessions.get(sessionId);
    }

    /** Trips the breaker by hand and tells every node. */
    public SpendLedger.Snapshot trip(String cause, long nowMillis) {
        SpendLedger.Snapshot s = spend.trip(nowMillis, limits, cause);
        view.force(s);
        observer.breakerChanged(s, cause);
        broadcast.publish(s);
        return s;
    }

    /** Closes the breaker now and tells every node. */
    public SpendLedger.Snapshot resetBreaker(long nowMillis) {
        SpendLedger.Snapshot s = spend.reset(nowMillis, limits);
        view.force(s);
        observer.breakerChanged(s, "reset");
        broadcast.publish(s);
        return s;
    }

    /** Reads the cluster's spend and breaker afresh into this node's view. */
    public SpendLedger.Snapshot refreshSpend(long nowMillis) {
        SpendLedger.Snapshot s = spend.snapshot(nowMillis, limits);
        view.offer(s);
        observer.spend(s);
        return s;
    }

    /** The one place a freshly ended session is released and reported. */
    private void afterEnd(SessionLedger ended) {
        sessions.releaseSlot(ended.clientId(), ended.sessionId(), ended.endedAtMillis());
        switch (ended.endReason()) {
            case BUDGET_EXCEEDED -> observer.limitReached("session_cost");
            case SESSION_TIMEOUT -> observer.limitReached("session_duration");
            default -> { }
        }
        observer.sessionEnded(ended.record());
        if (!ended.holder().isEmpty()) {
            endings.ended(ended);
        }
    }

    private List<String> warnings(SessionLedger l, SpendLedger.Snapshot s, long nowMillis) {
        List<String> w = new ArrayList<>();
        if (l.costNanoUsd() >= l.maxCostNanoUsd()) {
            w.add(WARNING_BUDGET);
        }
        if (nowMillis >= l.expiresAtMillis()) {
            w.add(WARNING_DURATION);
        }
        if (s.breakerOpenAt(nowMillis)) {
            w.add(WARNING_BREAKER);
        }
        if (s.hourlyNanoUsd() >= limits.maxHourlyCostNanoUsd()) {
            w.add(WARNING_HOURLY);
        }
        return w;
    }
}
