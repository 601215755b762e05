package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;

/**
 * Makes sure a new cluster starts with the hour its predecessor left in the audit store
 * ({@link SpendRebuild}) before any node admits a session: exactly one member rebuilds (the one
 * whose claim the grid takes first; another takes over if it leaves before it is done), the
 * others wait for it. A member of a cluster that was rebuilt already (or that holds spend of its
 * own) has nothing to do. Call {@link #attempt} from one background thread until it says so.
 */
public final class StateRebuild {

    /** A charge's audit row: its session and its key there. */
    public record ChargeRef(String sessionId, String chargeKey) {
    }

    /** The audit store's side. May throw while the database is unavailable. */
    public interface AuditHistory {
        /** The rows of the window. */
        SpendRebuild.History read(long fromMillis, long breakerFromMillis, long nowMillis);

        /** Which of {@code refs} have a charge row. */
        java.util.Set<ChargeRef> recorded(java.util.Collection<ChargeRef> refs);

        /** The clients' budgets (overrides, the spend of the day and month of {@code windows}, the day's session time). */
        default java.util.Map<String, ClientBudget> budgets(BudgetWindows windows) {
            return java.util.Map.of();
        }
    }

    /** The grid's side: who rebuilds, and where the result goes. May throw without a quorum. */
    public interface Store {

        /** {@code DONE}: rebuilt, or nothing to rebuild; {@code MINE}: this member rebuilds; {@code WAITING}: another does. */
        enum Claim { DONE, MINE, WAITING }

        Claim claim(long nowMillis);

        /** As of when the cluster's spend was rebuilt from the audit store; 0 when it was not (the grid held spend). */
        long rebuiltAsOfMillis();

        /** Adds the rebuilt state to the grid's (merged: installing it twice changes nothing). */
        void install(SpendRebuild.Result result, long nowMillis, CostLimits limits);

        /** Marks the rebuild done for every member: as of when, and a line that says what was rebuilt. */
        void done(long asOfMillis, String summary);
    }

    /** What an attempt did: {@code rebuilt} when this member installed {@code result}, read from {@code rows} rows. */
    public record Attempt(boolean ready, boolean rebuilt, SpendRebuild.Result result, int rows, long readMillis,
                          String summary) {
        static final Attempt NOT_YET = new Attempt(false, false, null, 0, 0, "");
        static final Attempt JOINED = new Attempt(true, false, null, 0, 0, "");
    }

    private final AuditHistory history;
    private final Store store;
    private final CostGuard guard;
    private final ClusterHealth health;
    private final BreakerBroadcast broadcast;
    private volatile boolean ready;

    public StateRebuild(AuditHistory history, Store store, CostGuard guard, BreakerBroadcast broadcast) {
        this.history = history;
        this.store = store;
        this.guard = guard;
        this.health = guard.health();
        this.broadcast = broadcast;
    }

    /** Whether this node may admit sessions: the cluster's spend state is complete. */
    public boolean ready() {
        return ready;
    }

    /**
     * One try: claims the rebuild, or finds it done, or waits for another member. Failures of the
     * grid or the database propagate (nothing is marked done); the next try starts over.
     *
     * @param nowMillis the time of this try (one clock read at the edge)
     * @param elapsed   reads a monotonic time in milliseconds, for the measure of the read alone
     */
    public synchronized Attempt attempt(long nowMillis, java.util.function.LongSupplier elapsed) {
        if (ready) {
            return Attempt.JOINED;
        }
        if (!health.quorum()) {
            return Attempt.NOT_YET;
        }
        switch (store.claim(nowMillis)) {
            case WAITING -> {
                return Attempt.NOT_YET;
            }
            case DONE -> {
                guard.alreadyCounted(countedBefore(store.rebuiltAsOfMillis()));
                ready = true;
                guard.refreshSpend(nowMillis);
                return Attempt.JOINED;
            }
            default -> {
                return rebuild(nowMillis, elapsed);
            }
        }
    }

    private Attempt rebuild(long nowMillis, java.util.function.LongSupplier elapsed) {
        CostLimits limits = guard.limits();
        long started = elapsed.getAsLong();
        SpendRebuild.History rows = history.read(SpendRebuild.fromMillis(nowMillis, limits),
                SpendRebuild.breakerFromMillis(nowMillis, limits), nowMillis);
        SpendRebuild.Result result = SpendRebuild.reduce(rows, nowMillis, limits);
        long readMillis = elapsed.getAsLong() - started;
        store.install(result, nowMillis, limits);
        int budgets = guard.budgets().install(history.budgets(guard.budgets().windows(nowMillis)), nowMillis);
        String summary = summary(result, limits) + ", " + budgets + " client budget(s)";
        store.done(nowMillis, summary);
        guard.alreadyCounted(countedBefore(nowMillis));
        ready = true;
        SpendLedger.Snapshot s = guard.refreshSpend(nowMillis);
        if (s.breakerOpenAt(nowMillis)) {
            // every node's view, metrics and log hear of the open breaker as of any other opening
            broadcast.publish(s);
        }
        return new Attempt(true, true, result, rows.rows(), readMillis, summary);
    }

    /**
     * This node's journal entries of an earlier process that the rebuilt spend counts already, so
     * that its replay does not count them again: those journaled before the rebuild read the store
     * whose charge row is there (applied by that process before it stopped: the rebuild read the row),
     * and spend parts of charges whose session part was recorded (the row of that part was read).
     * Nothing when the cluster's spend was not rebuilt ({@code rebuiltAsOfMillis} 0).
     */
    private java.util.Set<ChargeId> countedBefore(long rebuiltAsOfMillis) {
        java.util.Map<ChargeRef, ChargeId> refs = new java.util.HashMap<>();
        java.util.Set<ChargeId> counted = new java.util.HashSet<>();
        for (ChargeJournal.Entry e : guard.journal().restoredEntries()) {
            if (e.atMillis() >= rebuiltAsOfMillis) {
                continue;
            }
            if (e instanceof ChargeJournal.Spend) {
                counted.add(e.id());
            } else if (e instanceof ChargeJournal.Usage u) {
                refs.put(new ChargeRef(u.sessionId(), JournalReplay.auditKey(u)), e.id());
                refs.put(new ChargeRef(u.sessionId(), JournalReplay.orphanKey(e.id())), e.id());
            } else if (e instanceof ChargeJournal.Charge c) {
                refs.put(new ChargeRef(c.sessionId(), JournalReplay.auditKey(c)), e.id());
            }
        }
        if (!refs.isEmpty()) {
            history.recorded(refs.keySet()).forEach(r -> counted.add(refs.get(r)));
        }
        return counted;
    }

    /** One line: what the windows hold now, how many clients, and the breaker. */
    static String summary(SpendRebuild.Result r, CostLimits limits) {
        SpendLedger.Snapshot s = r.ledger().snapshot(r.asOfMillis(), limits);
        String breaker = s.breakerOpenAt(r.asOfMillis())
                ? "open (cause " + s.breakerCause() + ") until " + java.time.Instant.ofEpochMilli(s.breakerClosesAtMillis())
                : "closed";
        return "hourly spend " + Money.usd(s.hourlyNanoUsd()).toPlainString() + " USD, breaker window "
                + Money.usd(s.breakerNanoUsd()).toPlainString() + " USD, " + r.clients().size() + " client(s), "
                + r.charges() + " charge row(s) and " + r.sessions() + " session row(s) counted, breaker " + breaker;
    }
}
