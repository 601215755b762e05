package ducke.core.cost;

import java.time.ZoneId;

/**
 * The budgets of clients over calendar days and months ({@link ClientBudget}), as the guard uses
 * them: reserved by every response beside the client's rolling hour, charged with every charge,
 * checked when a session starts (spend) and reserved for its duration (session time). Off until
 * {@link #use} wires a store (tests and nodes without budgets); in use once a default is configured
 * or any client has an override, so a cluster that never sets one pays nothing for them.
 * Thread-safe.
 */
public final class ClientBudgets {

    /** A client's budgets as of a time: the limits in force, what the windows hold, and when they start over. */
    public record View(String clientId, BudgetLimits limits, BudgetOverride override, BudgetWindows windows,
                       long daySpendNanoUsd, long monthSpendNanoUsd, long dayUsedMillis, long heldNanoUsd, long heldMillis,
                       ClientBudget.Refusal refusal) {

        /** The same view naming {@code r} as the window that refuses (a refusal that counted a first response's room). */
        public View refusedBy(ClientBudget.Refusal r) {
            return new View(clientId, limits, override, windows, daySpendNanoUsd, monthSpendNanoUsd, dayUsedMillis, heldNanoUsd,
                    heldMillis, r);
        }
    }

    private volatile BudgetStore store;
    private volatile BudgetLimits defaults = BudgetLimits.UNLIMITED;
    private volatile ZoneId zone = ZoneId.of("UTC");

    /** Wires the store, the configured defaults and the time zone of the calendar windows; once, at start-up. */
    public void use(BudgetStore store, BudgetLimits defaults, ZoneId zone) {
        this.defaults = defaults;
        this.zone = zone;
        this.store = store;
    }

    public boolean wired() {
        return store != null;
    }

    /** Whether budgets apply at all: a default is configured or a client has an override. */
    public boolean inUse() {
        BudgetStore s = store;
        return s != null && (defaults.any() || s.anyOverride());
    }

    public BudgetLimits defaults() {
        return defaults;
    }

    public ZoneId zone() {
        return zone;
    }

    public BudgetWindows windows(long nowMillis) {
        return BudgetWindows.of(nowMillis, zone);
    }

    /** See {@link BudgetStore#reserve}: {@code maxNanoUsd} when budgets are not in use. */
    long reserve(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long expiresAtMillis, long nowMillis) {
        if (!inUse()) {
            return maxNanoUsd;
        }
        return store.reserve(clientId, holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, windows(nowMillis), defaults);
    }

    /** The window that refuses {@code clientId} now; {@link BudgetWindow#DAY} when the reason is gone already. */
    BudgetWindow refusingWindow(String clientId, long nowMillis) {
        ClientBudget.Refusal r = refusal(clientId, nowMillis);
        if (r != null) {
            return r.window();
        }
        ClientBudget b = store.get(clientId);
        BudgetLimits l = b == null ? defaults : b.limits(defaults);
        return l.dayNanoUsd() == BudgetLimits.NONE ? BudgetWindow.MONTH : BudgetWindow.DAY;
    }

    void charge(String clientId, long costNanoUsd, long nowMillis, String releaseHoldId) {
        if (inUse()) {
            store.charge(clientId, costNanoUsd, nowMillis, windows(nowMillis), releaseHoldId);
        }
    }

    void release(String clientId, String holdId, long nowMillis) {
        if (inUse()) {
            store.release(clientId, holdId, nowMillis, windows(nowMillis));
        }
    }

    /** The window that refuses a new session of {@code clientId}, or null. */
    ClientBudget.Refusal refusal(String clientId, long nowMillis) {
        return refusal(clientId, nowMillis, 0);
    }

    /** The same for a session whose first response reserves at least {@code leastNanoUsd} ({@link ClientBudget#refusal}). */
    ClientBudget.Refusal refusal(String clientId, long nowMillis, long leastNanoUsd) {
        if (!inUse()) {
            return null;
        }
        ClientBudget b = store.get(clientId);
        return (b == null ? ClientBudget.EMPTY : b).refusal(nowMillis, windows(nowMillis), defaults, leastNanoUsd);
    }

    /** Session time for a new session: at most {@code maxMillis}, at least a second; 0 when the day's time is used up. */
    long reserveTime(String clientId, String sessionId, long maxMillis, long expiresAtMillis, long nowMillis) {
        if (!inUse()) {
            return maxMillis;
        }
        return store.reserveTime(clientId, sessionId, Math.min(1000, maxMillis), maxMillis, nowMillis, expiresAtMillis,
                windows(nowMillis), defaults);
    }

    /**
     * Counts a session's time in the day it ends: only its part since the day began (a session across
     * midnight was reserved in the day before, which is over), and gives back what it reserved. A session
     * that never opened ends where it started: it gives its reservation back and counts nothing.
     */
    void sessionEnded(String clientId, String sessionId, long startedAtMillis, long endedAtMillis, long nowMillis) {
        if (inUse()) {
            BudgetWindows w = windows(nowMillis);
            store.useTime(clientId, sessionId, todaysPart(startedAtMillis, endedAtMillis, w), nowMillis, w);
        }
    }

    /** The time between start and end that falls in the day of {@code w}. */
    static long todaysPart(long startedAtMillis, long endedAtMillis, BudgetWindows w) {
        return Math.max(0, endedAtMillis - Math.max(startedAtMillis, w.dayStartMillis()));
    }

    /** Installs clients' budgets rebuilt from the audit store (merged: twice changes nothing); how many. */
    public int install(java.util.Map<String, ClientBudget> rebuilt, long nowMillis) {
        BudgetStore s = store;
        if (s == null) {
            return 0;
        }
        BudgetWindows w = windows(nowMillis);
        // without defaults only clients with an override have budgets (and entries: see BudgetStore#anyOverride)
        java.util.Map<String, ClientBudget> used = new java.util.HashMap<>(rebuilt);
        if (!defaults.any()) {
            used.values().removeIf(b -> b.override() == null);
        }
        used.forEach((client, b) -> s.seed(client, b, nowMillis, w));
        return used.size();
    }

    /** {@code clientId}'s budgets as of {@code nowMillis}. */
    public View view(String clientId, long nowMillis) {
        BudgetStore s = store;
        ClientBudget b = s == null ? null : s.get(clientId);
        return view(clientId, b == null ? ClientBudget.EMPTY : b, nowMillis);
    }

    /** Installs a backend's override; the client's budgets after it. */
    public View override(String clientId, BudgetOverride override, long nowMillis) {
        BudgetStore s = store;
        if (s == null) {
            throw new IllegalStateException("client budgets are not wired");
        }
        return view(clientId, s.override(clientId, override, nowMillis, windows(nowMillis)), nowMillis);
    }

    private View view(String clientId, ClientBudget b, long nowMillis) {
        BudgetWindows w = windows(nowMillis);
        return new View(clientId, b.limits(defaults), b.override(), w, b.daySpend(w), b.monthSpend(w), b.dayUsed(w),
                b.holds().total(nowMillis), b.timeHolds().total(nowMillis), b.refusal(nowMillis, w, defaults));
    }
}
