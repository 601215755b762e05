package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;
import ducke.core.settings.LiveSettings;
import ducke.core.settings.Settings;

import java.util.function.Supplier;

/**
 * The gates a new session passes (breaker, cluster's hourly cap, client's hourly cap, its day and
 * month budgets and the day's session time, concurrent sessions) and its slot, taken before the
 * session exists and given back if it never opens. Thread-safe; all state lives in the stores.
 */
final class Admission {

    /** How long after a session's duration cap its reservation of session time lapses if its end is never counted. */
    static final long TIME_HOLD_GRACE_MILLIS = 60_000;

    private final LiveSettings settings;
    private final SessionStore sessions;
    private final SpendStore spend;
    private final SpendView view;
    private final CostObserver observer;
    private final String nodeName;
    private final Supplier<String> ids;
    private final ClusterHealth health;
    private final java.util.function.BooleanSupplier ready;
    private final ClientBudgets budgets;

    Admission(LiveSettings settings, SessionStore sessions, SpendStore spend, SpendView view, CostObserver observer,
              String nodeName, Supplier<String> ids, ClusterHealth health, java.util.function.BooleanSupplier ready,
              ClientBudgets budgets) {
        this.budgets = budgets;
        this.settings = settings;
        this.sessions = sessions;
        this.spend = spend;
        this.view = view;
        this.observer = observer;
        this.nodeName = nodeName;
        this.ids = ids;
        this.health = health;
        this.ready = ready;
    }

    /** See {@link CostGuard#reserve(String, String, String, long, long, long)}. */
    CostGuard.Start reserve(String clientId, String model, String holder, long maxCostNanoUsd, long firstResponseNanoUsd,
                            long nowMillis) {
        if (!health.quorum() || !ready.getAsBoolean()) {
            // no quorum, or the cluster's spend state is not complete yet (StateRebuild): as good as none
            return degraded();
        }
        try {
            return reserveWithQuorum(clientId, model, holder, maxCostNanoUsd, firstResponseNanoUsd, nowMillis);
        } catch (QuorumLostException e) {
            return degraded();
        }
    }

    private CostGuard.Start degraded() {
        return new CostGuard.Start(null, CostGuard.Refusal.CLUSTER_DEGRADED, health.retryAfterMillis(), view.get(),
                ClientSpend.Snapshot.NONE);
    }

    private CostGuard.Start reserveWithQuorum(String clientId, String model, String holder, long maxCostNanoUsd,
                                              long firstResponseNanoUsd, long nowMillis) {
        // one version of the settings for the whole admission: its caps, and the prices the session's row names
        Settings current = settings.get();
        CostLimits limits = current.limits();
        SpendLedger.Snapshot s = refreshSpend(nowMillis, limits);
        ClientSpend.Snapshot c = ClientSpend.Snapshot.NONE;
        if (limits.enforced()) {
            if (s.breakerOpenAt(nowMillis)) {
                return refused("circuit_breaker", CostGuard.Refusal.CIRCUIT_BREAKER_OPEN, s.breakerClosesAtMillis() - nowMillis, s, c);
            }
            if (s.hourlyNanoUsd() >= limits.maxHourlyCostNanoUsd()) {
                return refused("hourly", CostGuard.Refusal.HOURLY_LIMIT, s.hourlyRetryAfterMillis(), s, c);
            }
            c = spend.clientSnapshot(clientId, nowMillis, limits);
            // a client's hour with less room than the session's first response would admit a session that
            // ends before it can answer (every response reserves against it): refused like a full hour.
            // firstResponseNanoUsd is 0 for the session API. The cluster's hour refuses new sessions only
            // (live ones go on past it), so any room admits there.
            if (!fits(c.committedNanoUsd(), firstResponseNanoUsd, limits.maxClientHourlyCostNanoUsd())) {
                // spent, or reserved by the client's live sessions: those free within a response, at the latest
                long wait = fits(c.hourlyNanoUsd(), firstResponseNanoUsd, limits.maxClientHourlyCostNanoUsd())
                        ? 1000 : Math.max(1000, c.retryAfterMillis());
                return refused("client_hourly", CostGuard.Refusal.CLIENT_BUDGET, wait, s, c);
            }
            ClientBudget.Refusal over = budgets.refusal(clientId, nowMillis, firstResponseNanoUsd);
            if (over != null) {
                return overBudget(clientId, over, s, c, nowMillis);
            }
        }
        String sessionId = ids.get();
        long duration = limits.maxSessionDurationMillis();
        if (limits.enforced()) {
            // the day's session time: the session lasts no longer than what is left of it
            duration = budgets.reserveTime(clientId, sessionId, duration, nowMillis + duration + TIME_HOLD_GRACE_MILLIS, nowMillis);
            if (duration <= 0) {
                return overBudget(clientId, new ClientBudget.Refusal(BudgetWindow.MINUTES,
                        budgets.windows(nowMillis).resetAtMillis(BudgetWindow.MINUTES)), s, c, nowMillis);
            }
        }
        SessionLedger ledger = SessionLedger.open(sessionId, clientId, nodeName, model, current.prices().version(), nowMillis,
                duration < limits.maxSessionDurationMillis() ? limits.withMaxSessionDuration(duration) : limits, holder, maxCostNanoUsd);
        CostGuard.Start start = slot(ledger, s, c, limits, nowMillis);
        if (!start.started()) {
            releaseTime(ledger, nowMillis);
        }
        return start;
    }

    /** Whether a cap with {@code usedNanoUsd} taken has room left, and at least {@code leastNanoUsd} of it. */
    static boolean fits(long usedNanoUsd, long leastNanoUsd, long capNanoUsd) {
        long room = capNanoUsd - usedNanoUsd;
        return room > 0 && room >= leastNanoUsd;
    }

    private CostGuard.Start overBudget(String clientId, ClientBudget.Refusal over, SpendLedger.Snapshot s, ClientSpend.Snapshot c,
                                       long nowMillis) {
        observer.limitReached(over.window().limit());
        return new CostGuard.Start(null, CostGuard.Refusal.CLIENT_BUDGET, Math.max(1000, over.resetAtMillis() - nowMillis), s, c,
                budgets.view(clientId, nowMillis).refusedBy(over));
    }

    /** Gives back the session time a session that never opened reserved. */
    private void releaseTime(SessionLedger reserved, long nowMillis) {
        try {
            budgets.sessionEnded(reserved.clientId(), reserved.sessionId(), nowMillis, nowMillis, nowMillis);
        } catch (RuntimeException e) {
            // it lapses at the session's duration cap
        }
    }

    private CostGuard.Start slot(SessionLedger ledger, SpendLedger.Snapshot s, ClientSpend.Snapshot c, CostLimits limits,
                                 long nowMillis) {
        int maxSlots = limits.enforced() ? limits.maxConcurrentSessionsPerClient() : Integer.MAX_VALUE;
        if (!sessions.tryAcquireSlot(ledger.clientId(), ledger.sessionId(), ledger.expiresAtMillis(), maxSlots, nowMillis)) {
            long firstCap = sessions.slots(ledger.clientId()).firstCapMillis(nowMillis);
            return refused("concurrent_sessions", CostGuard.Refusal.CONCURRENT_LIMIT,
                    firstCap == 0 ? 0 : Math.max(0, firstCap - nowMillis), s, c);
        }
        return new CostGuard.Start(ledger, null, 0, s, c);
    }

    private CostGuard.Start refused(String limit, CostGuard.Refusal refusal, long retryAfterMillis, SpendLedger.Snapshot s,
                                    ClientSpend.Snapshot c) {
        observer.limitReached(limit);
        return new CostGuard.Start(null, refusal, retryAfterMillis, s, c);
    }

    /** See {@link CostGuard#open}. */
    void open(SessionLedger reserved) {
        boolean created;
        try {
            created = sessions.create(reserved);
        } catch (RuntimeException e) {
            // the cluster did not confirm the ledger: give the slot back rather than hold it until it lapses
            sessions.releaseSlot(reserved.clientId(), reserved.sessionId(), reserved.startedAtMillis());
            throw e;
        }
        if (!created) {
            sessions.releaseSlot(reserved.clientId(), reserved.sessionId(), reserved.startedAtMillis());
            throw new IllegalStateException("session id collision: " + reserved.sessionId());
        }
    }

    /** Gives back the slot of a reserved session that was never opened. */
    void release(SessionLedger reserved, long nowMillis) {
        sessions.releaseSlot(reserved.clientId(), reserved.sessionId(), nowMillis);
        releaseTime(reserved, nowMillis);
    }

    /** Reads the cluster's spend and breaker afresh into this node's view. */
    SpendLedger.Snapshot refreshSpend(long nowMillis) {
        return refreshSpend(nowMillis, settings.get().limits());
    }

    private SpendLedger.Snapshot refreshSpend(long nowMillis, CostLimits limits) {
        SpendLedger.Snapshot s = spend.snapshot(nowMillis, limits);
        view.offer(s);
        observer.spend(s);
        return s;
    }
}
