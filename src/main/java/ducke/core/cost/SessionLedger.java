package ducke.core.cost;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The live ledger of one session, held in the grid; immutable, every change makes a new value.
 * Times are wall-clock epoch milliseconds; money is nano-USD. Cost, tokens and charged responses
 * are the sums of the {@code shares} of the processes that charged the session, so that two copies
 * diverged by a network partition merge without losing or doubling a charge ({@link #merge}).
 *
 * <p>{@link #chargedResponses()} grows with every charge, so it also orders the versions of the
 * final record: a later record has more.
 *
 * @param holder    grid member holding the session's live connection, or "" when none (API sessions)
 * @param shares    writer → its contribution; see {@link ChargeId}
 * @param endReason null while the session is active
 * @param audited   whether the final record, as it is now, has been handed to the audit sink
 * @param keys      the keys of its keyed charges, so that a repeat counts once ({@link ChargeKeys})
 */
public record SessionLedger(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                            long startedAtMillis, long expiresAtMillis, long maxCostNanoUsd, Map<String, Share> shares,
                            boolean warned, String holder, EndReason endReason, long endedAtMillis, boolean audited,
                            ChargeKeys keys) {

    public SessionLedger {
        shares = Map.copyOf(shares);
        keys = keys == null ? ChargeKeys.NONE : keys;
    }

    /** A ledger that has taken no keyed charge. */
    public SessionLedger(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                         long startedAtMillis, long expiresAtMillis, long maxCostNanoUsd, Map<String, Share> shares,
                         boolean warned, String holder, EndReason endReason, long endedAtMillis, boolean audited) {
        this(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis, maxCostNanoUsd, shares,
                warned, holder, endReason, endedAtMillis, audited, ChargeKeys.NONE);
    }

    public static SessionLedger open(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                                     long nowMillis, CostLimits limits, String holder) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, nowMillis,
                nowMillis + limits.maxSessionDurationMillis(), limits.maxSessionCostNanoUsd(), Map.of(), false,
                holder == null ? "" : holder, null, 0, false);
    }

    /** The same, with a budget of its own (at most the configured cap: a client secret's). */
    public static SessionLedger open(String sessionId, String clientId, String nodeName, String model, String priceVersion,
                                     long nowMillis, CostLimits limits, String holder, long maxCostNanoUsd) {
        SessionLedger l = open(sessionId, clientId, nodeName, model, priceVersion, nowMillis, limits, holder);
        return new SessionLedger(l.sessionId, l.clientId, l.nodeName, l.model, l.priceVersion, l.startedAtMillis,
                l.expiresAtMillis, Math.min(maxCostNanoUsd, limits.maxSessionCostNanoUsd()), Map.of(), false, l.holder,
                null, 0, false);
    }

    public long costNanoUsd() {
        long sum = 0;
        for (Share s : shares.values()) {
            sum = Math.addExact(sum, s.costNanoUsd());
        }
        return sum;
    }

    public TokenCounts tokens() {
        TokenCounts sum = TokenCounts.ZERO;
        for (Share s : shares.values()) {
            sum = sum.plus(s.tokens());
        }
        return sum;
    }

    public int chargedResponses() {
        int sum = 0;
        for (Share s : shares.values()) {
            sum = Math.addExact(sum, s.charges());
        }
        return sum;
    }

    public boolean active() {
        return endReason == null;
    }

    public long remainingBudgetNanoUsd() {
        return Math.max(0, maxCostNanoUsd - costNanoUsd());
    }

    /** Whole seconds until the duration cap, rounded down, never negative. */
    public long remainingDurationSeconds(long nowMillis) {
        return Math.max(0, (expiresAtMillis - nowMillis) / 1000);
    }

    /** Whether the replay {@code id} was applied to this ledger already. */
    boolean seen(ChargeId id) {
        return shares.getOrDefault(id.writer(), Share.NONE).seen(id.seq());
    }

    /** The same ledger with {@code key}'s spend part confirmed. */
    SessionLedger keySpendConfirmed(ChargeKey key) {
        ChargeKeys next = keys.spendConfirmed(key);
        return next == keys ? this : new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis,
                expiresAtMillis, maxCostNanoUsd, shares, warned, holder, endReason, endedAtMillis, audited, next);
    }

    /** Whether {@code key} was charged before, and for the same report. */
    public ChargeKeys.Seen seen(ChargeKey key) {
        return keys.seen(key);
    }

    SessionLedger charged(ChargeId id, ChargeKey key, long callCostNanoUsd, TokenCounts callTokens, boolean nowWarned,
                          long nowMillis) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, plus(id, callCostNanoUsd, callTokens), nowWarned, holder, endReason, endedAtMillis, audited,
                key == null ? keys : keys.plus(key, nowMillis));
    }

    /**
     * A charge recorded after the session ended (usage that arrived late): the money and tokens are
     * added, the end stays as it was, and the record must be handed to the audit sink again.
     */
    SessionLedger chargedAfterEnd(ChargeId id, ChargeKey key, long callCostNanoUsd, TokenCounts callTokens,
                                  long nowMillis) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, plus(id, callCostNanoUsd, callTokens), warned, holder, endReason, endedAtMillis, false,
                key == null ? keys : keys.plus(key, nowMillis));
    }

    private Map<String, Share> plus(ChargeId id, long callCostNanoUsd, TokenCounts callTokens) {
        Map<String, Share> next = new HashMap<>(shares);
        next.put(id.writer(), next.getOrDefault(id.writer(), Share.NONE).plus(callCostNanoUsd, callTokens, id.seq()));
        return next;
    }

    SessionLedger ended(EndReason reason, long nowMillis) {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, shares, warned, holder, reason, Math.max(nowMillis, startedAtMillis), audited, keys);
    }

    public SessionLedger markedAudited() {
        return new SessionLedger(sessionId, clientId, nodeName, model, priceVersion, startedAtMillis, expiresAtMillis,
                maxCostNanoUsd, shares, warned, holder, endReason, endedAtMillis, true, keys);
    }

    /** The final record of an ended session, as the audit trail keeps it. */
    public SessionRecord record() {
        if (active()) {
            throw new IllegalStateException("session " + sessionId + " has not ended");
        }
        return recordAs(endReason, endedAtMillis);
    }

    /**
     * What the audit trail keeps of a live session at a checkpoint: the record it would get if it
     * were lost now ({@code node_lost} at {@code nowMillis}, with its cost so far).
     */
    public SessionRecord checkpoint(long nowMillis) {
        return recordAs(EndReason.NODE_LOST, Math.max(nowMillis, startedAtMillis));
    }

    private SessionRecord recordAs(EndReason reason, long endMillis) {
        return new SessionRecord(sessionId, clientId, nodeName, model, startedAtMillis, endMillis, reason,
                tokens(), chargedResponses(), costNanoUsd(), priceVersion);
    }

    /**
     * Two copies of one session's ledger, diverged while the cluster was split, as one: every
     * writer's later share (so each charge counts once), warned if either warned, and ended if
     * either ended (the earlier end wins), and every key either charged ({@link ChargeKeys#merge}).
     * Audited only if the result is exactly what an audited copy already recorded; otherwise the
     * record is written again. Commutative; null is no copy.
     */
    public static SessionLedger merge(SessionLedger a, SessionLedger b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        Map<String, Share> shares = new TreeMap<>(a.shares);
        b.shares.forEach((writer, share) -> shares.merge(writer, share, Share::later));
        SessionLedger end = firstEnded(a, b);
        SessionLedger merged = new SessionLedger(a.sessionId, a.clientId, a.nodeName, a.model, a.priceVersion,
                a.startedAtMillis, a.expiresAtMillis, a.maxCostNanoUsd, shares, a.warned || b.warned, a.holder,
                end == null ? null : end.endReason, end == null ? 0 : end.endedAtMillis, false,
                ChargeKeys.merge(a.keys, b.keys));
        boolean audited = a.audited && merged.sameOutcome(a) || b.audited && merged.sameOutcome(b);
        return audited ? merged.markedAudited() : merged;
    }

    private static SessionLedger firstEnded(SessionLedger a, SessionLedger b) {
        if (a.active() || b.active()) {
            return a.active() ? (b.active() ? null : b) : a;
        }
        if (a.endedAtMillis != b.endedAtMillis) {
            return a.endedAtMillis < b.endedAtMillis ? a : b;
        }
        return a.endReason.ordinal() <= b.endReason.ordinal() ? a : b;
    }

    private boolean sameOutcome(SessionLedger other) {
        return endReason == other.endReason && endedAtMillis == other.endedAtMillis && shares.equals(other.shares);
    }
}
