package ducke.core.cost;

/**
 * Pure session-ledger transitions. The grid runs them inside entry processors, so each one is
 * atomic on the owning partition and every replica computes the same value.
 */
public final class SessionRules {

    private SessionRules() {
    }

    /**
     * The result of one charge. {@code ledger} is the value after it (null: no such session, and
     * nothing was {@code applied}). {@code repeated}: a journal replay that was applied before, so
     * nothing changed this time. {@code key}: whether the charge's key was charged before
     * ({@link ChargeKeys.Seen#NEW} for an unkeyed charge); if so nothing changed, and nothing else
     * (the cluster's spend, the client's) is to be charged for it.
     */
    public record Charge(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean warningNow,
                         EndReason endedNow, boolean repeated, ChargeKeys.Seen key) {

        public Charge {
            key = key == null ? ChargeKeys.Seen.NEW : key;
        }

        public Charge(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean warningNow, EndReason endedNow,
                      boolean repeated) {
            this(ledger, applied, callCostNanoUsd, warningNow, endedNow, repeated, ChargeKeys.Seen.NEW);
        }

        public Charge(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean warningNow, EndReason endedNow) {
            this(ledger, applied, callCostNanoUsd, warningNow, endedNow, false);
        }

        /** Whether the charge's key had been charged before: a repeat, charged nothing. */
        public boolean keyRepeated() {
            return key != ChargeKeys.Seen.NEW;
        }

        public boolean budgetOk() {
            return ledger != null && ledger.costNanoUsd() < ledger.maxCostNanoUsd();
        }

        /** Whether the session had ended before this charge, which was recorded all the same. */
        public boolean afterEnd() {
            return applied && endedNow == null && !ledger.active();
        }
    }

    /** {@link #charge(SessionLedger, ChargeId, long, TokenCounts, long, CostLimits)} by an anonymous live writer. */
    public static Charge charge(SessionLedger l, long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits) {
        return charge(l, ChargeId.live(""), costNanoUsd, tokens, nowMillis, limits);
    }

    /**
     * Adds a priced report to a ledger, as {@code id}'s share. At or over the cap ({@code cost < cap}
     * is fine) an active session ends with {@code budget_exceeded}; past its duration it ends with
     * {@code session_timeout}. The first charge that reaches the warning share (and stays under the
     * cap) sets {@code warningNow}. Money that was spent is always recorded: an ended ledger takes
     * the charge too (its end stays as it was, and its record is audited again). A replay applied
     * before changes nothing ({@code repeated}).
     */
    public static Charge charge(SessionLedger l, ChargeId id, long costNanoUsd, TokenCounts tokens, long nowMillis,
                                CostLimits limits) {
        return charge(l, id, null, costNanoUsd, tokens, nowMillis, limits);
    }

    /**
     * The same, for a keyed charge ({@code key} null: unkeyed). A key the ledger has seen is a
     * repeat and changes nothing ({@link Charge#key()}), whether the session is live or ended. A
     * journal replay applied before is recognised first ({@code repeated}), so that a replay retried
     * after its session part went through still completes its spend part.
     */
    public static Charge charge(SessionLedger l, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                                long nowMillis, CostLimits limits) {
        if (l == null) {
            return new Charge(null, false, 0, false, null);
        }
        if (l.seen(id)) {
            return new Charge(l, false, 0, false, null, true);
        }
        if (key != null && l.seen(key) != ChargeKeys.Seen.NEW) {
            return new Charge(l, false, 0, false, null, false, l.seen(key));
        }
        if (!l.active()) {
            return new Charge(l.chargedAfterEnd(id, key, costNanoUsd, tokens, nowMillis), true, costNanoUsd, false, null);
        }
        long newCost = Math.addExact(l.costNanoUsd(), costNanoUsd);
        boolean overBudget = newCost >= l.maxCostNanoUsd();
        boolean reachesWarning = Money.basisPoints(newCost, l.maxCostNanoUsd()) >= limits.warningBasisPoints();
        boolean warningNow = !l.warned() && reachesWarning && !overBudget;
        SessionLedger after = l.charged(id, key, costNanoUsd, tokens, l.warned() || reachesWarning, nowMillis);
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

    /** Records that the spend part of the keyed charge {@code key} completed; a ledger without it is returned as it is. */
    public static SessionLedger spendConfirmed(SessionLedger l, ChargeKey key) {
        return l == null ? null : l.keySpendConfirmed(key);
    }

    /** Ends an active ledger; an ended one is returned as it is (the first end wins). */
    public static SessionLedger end(SessionLedger l, EndReason reason, long nowMillis) {
        return l == null || !l.active() ? l : l.ended(reason, nowMillis);
    }

    /** Whether the duration cap has passed for an active, enforced session. */
    public static boolean expired(SessionLedger l, long nowMillis, CostLimits limits) {
        return l.active() && limits.enforced() && nowMillis >= l.expiresAtMillis();
    }

    /**
     * A live session's cap after the configured cap changed from {@code oldCapNanoUsd} to
     * {@code newCapNanoUsd} (the operator asked that live sessions follow): a session at the old cap
     * takes the new one; a session with a budget of its own keeps it unless the new cap is lower.
     * An ended ledger is returned as it is.
     */
    public static SessionLedger recapped(SessionLedger l, long oldCapNanoUsd, long newCapNanoUsd) {
        if (l == null || !l.active()) {
            return l;
        }
        long cap = l.maxCostNanoUsd() == oldCapNanoUsd ? newCapNanoUsd : Math.min(l.maxCostNanoUsd(), newCapNanoUsd);
        return cap == l.maxCostNanoUsd() ? l : new SessionLedger(l.sessionId(), l.clientId(), l.nodeName(), l.model(),
                l.priceVersion(), l.startedAtMillis(), l.expiresAtMillis(), cap, l.shares(), l.warned(), l.holder(),
                l.endReason(), l.endedAtMillis(), l.audited(), l.keys());
    }

    /**
     * A live session's cap set to {@code capNanoUsd} (raised or lowered: {@code PATCH
     * /v1/sessions/{id}}); an ended ledger, one at that cap already, or a cap at or under the cost
     * so far (the session would end at its next charge) is returned as it is.
     */
    public static SessionLedger capped(SessionLedger l, long capNanoUsd) {
        if (l == null || !l.active() || l.maxCostNanoUsd() == capNanoUsd || capNanoUsd <= l.costNanoUsd()) {
            return l;
        }
        return new SessionLedger(l.sessionId(), l.clientId(), l.nodeName(), l.model(), l.priceVersion(), l.startedAtMillis(),
                l.expiresAtMillis(), capNanoUsd, l.shares(), l.warned(), l.holder(), l.endReason(), l.endedAtMillis(),
                l.audited(), l.keys());
    }

    /**
     * Hands a live session's connection over to another grid member ({@code to}) when it is still
     * held by {@code from} (a WebRTC call whose node left: another node re-attaches its sideband).
     * Any other ledger is returned as it is.
     */
    public static SessionLedger reheld(SessionLedger l, String from, String to) {
        if (l == null || !l.active() || !l.holder().equals(from) || from.equals(to)) {
            return l;
        }
        return new SessionLedger(l.sessionId(), l.clientId(), l.nodeName(), l.model(), l.priceVersion(), l.startedAtMillis(),
                l.expiresAtMillis(), l.maxCostNanoUsd(), l.shares(), l.warned(), to, l.endReason(), l.endedAtMillis(),
                l.audited(), l.keys());
    }
}
