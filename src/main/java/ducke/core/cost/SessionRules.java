package ducke.core.cost;

/**
 * Pure session-ledger transitions. The grid runs them inside entry processors, so each one is
 * atomic on the owning partition and every replica computes the same value.
 */
public final class SessionRules {

    private SessionRules() {
    }

    /** The result of one charge. {@code ledger} is the value after it (null: no such session). */
    public record Charge(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean warningNow,
                         EndReason endedNow) {
        public boolean budgetOk() {
            return ledger != null && ledger.costNanoUsd() < ledger.maxCostNanoUsd();
        }
    }

    /**
     * Adds a priced report to an active ledger. At or over the cap ({@code cost < cap} is fine) the
     * session ends with {@code budget_exceeded}; past its duration it ends with {@code session_timeout}.
     * The first charge that reaches the warning share (and stays under the cap) sets {@code warningNow}.
     * An ended ledger is returned unchanged with {@code applied = false}.
     */
    public static Charge charge(SessionLedger l, long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits) {
        if (l == null || !l.active()) {
            return new Charge(l, false, 0, false, null);
        }
        long newCost = Math.addExact(l.costNanoUsd(), costNanoUsd);
        boolean overBudget = newCost >= l.maxCostNanoUsd();
        boolean reachesWarning = Money.basisPoints(newCost, l.maxCostNanoUsd()) >= limits.warningBasisPoints();
        boolean warningNow = !l.warned() && reachesWarning && !overBudget;
        SessionLedger after = l.charged(costNanoUsd, tokens, l.warned() || reachesWarning);
        EndReason end = null;
        if (limits.enforced() && overBudget) {
            end = EndReason.BUDGET_EXCEEDED;
        } else if (limits.enforced() && nowMillis >= l.expiresAtMillis()) {
            end = EndReason.SESSION_TIMEOUT;
        }
        if (end != null) {
            after = after.ended(end, nowMillis);
        }
        return new Charge(after, true, costNanoUsd, warningNow, end);
    }

    /** Ends an active ledger; an ended one is returned as it is (the first end wins). */
    public static SessionLedger end(SessionLedger l, EndReason reason, long nowMillis) {
        return l == null || !l.active() ? l : l.ended(reason, nowMillis);
    }

    /** Whether the duration cap has passed for an active, enforced session. */
    public static boolean expired(SessionLedger l, long nowMillis, CostLimits limits) {
        return l.active() && limits.enforced() && nowMillis >= l.expiresAtMillis();
    }
}
