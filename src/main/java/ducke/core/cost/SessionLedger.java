package ducke.core.cost;

/**
 * The live ledger of one session, held in the grid; immutable, every change makes a new value.
 * Times are wall-clock epoch milliseconds; money is nano-USD.
 *
 * @param holder        grid member holding the session's live connection, or "" when none (API sessions)
 * @param endReason     null while the session is active
 * @param audited       whether the final record has been handed to the audit sink
 */
public record SessionLedger(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                            long startedAtMillis, long expiresAtMillis, long maxCostNanoUsd, long costNanoUsd,
                            TokenCounts tokens, int chargedResponses, boolean warned, String holder,
                            EndReason endReason, long endedAtMillis, boolean audited) {

    public static SessionLedger open(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                                     long nowMillis, CostLimits limits, String holder) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, nowMillis,
                nowMillis + limits.maxSessionDurationMillis(), limits.maxSessionCostNanoUsd(), 0, TokenCounts.ZERO, 0,
                false, holder == null ? "" : holder, null, 0, false);
    }

    public boolean active() {
        return endReason == null;
    }

    public long remainingBudgetNanoUsd() {
        return Math.max(0, maxCostNanoUsd - costNanoUsd);
    }

    /** Whole seconds until the duration cap, rounded down, never negative. */
    public long remainingDurationSeconds(long nowMillis) {
        return Math.max(0, (expiresAtMillis - nowMillis) / 1000);
    }

    SessionLedger charged(long callCostNanoUsd, TokenCounts callTokens, boolean nowWarned) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, Math.addExact(costNanoUsd, callCostNanoUsd), tokens.plus(callTokens),
                chargedResponses + 1, nowWarned, holder, endReason, endedAtMillis, audited);
    }

    SessionLedger ended(EndReason reason, long nowMillis) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, costNanoUsd, tokens, chargedResponses, warned, holder, reason,
                Math.max(nowMillis, startedAtMillis), audited);
    }

    public SessionLedger markedAudited() {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, costNanoUsd, tokens, chargedResponses, warned, holder, endReason, endedAtMillis, true);
    }

    /** The final record of an ended session, as the audit trail keeps it. */
    public SessionRecord record() {
        if (active()) {
            throw new IllegalStateException("session " + sessionId + " has not ended");
        }
        return new SessionRecord(sessionId, clientId, nodeName, model, startedAtMillis, endedAtMillis, endReason,
                tokens, chargedResponses, costNanoUsd, priceVersion);
    }
}
