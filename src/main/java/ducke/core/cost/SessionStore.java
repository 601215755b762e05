package ducke.core.cost;

import java.util.Optional;

/**
 * Where session ledgers and concurrent-session slots live; the cluster keeps them in the grid.
 * Every method may throw {@link ducke.core.cluster.QuorumLostException}, having changed nothing.
 */
public interface SessionStore {

    /** The outcome of ending a session: the ledger after it, and whether this call ended it. */
    record Ended(SessionLedger ledger, boolean endedNow) {
    }

    /**
     * Reserves one of the client's concurrent-session slots for {@code sessionId} until
     * {@code expiresAtMillis}; slots past their expiry are freed first. False when all are taken.
     */
    boolean tryAcquireSlot(String clientId, String sessionId, long expiresAtMillis, int maxSlots, long nowMillis);

    void releaseSlot(String clientId, String sessionId, long nowMillis);

    /** The client's slots as stored now, for telling a refused client how long to wait; read only. */
    default SessionSlots slots(String clientId) {
        return SessionSlots.EMPTY;
    }

    /** Stores a new ledger; false when the id is already taken. */
    boolean create(SessionLedger ledger);

    /**
     * Atomically applies {@link SessionRules#charge} as {@code id}'s share; the ledger is null when
     * the session is unknown.
     */
    default SessionRules.Charge charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens, long nowMillis,
                                       CostLimits limits) {
        return charge(sessionId, id, null, costNanoUsd, tokens, nowMillis, limits);
    }

    /**
     * Atomically applies {@link SessionRules#charge(SessionLedger, ChargeId, ChargeKey, long, TokenCounts, long, CostLimits)}:
     * the same, keyed by {@code key} (null: unkeyed), so that a repeat counts once.
     */
    SessionRules.Charge charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                               long nowMillis, CostLimits limits);

    /** Atomically ends the session; empty when it is unknown. */
    Optional<Ended> end(String sessionId, EndReason reason, long nowMillis);

    Optional<SessionLedger> get(String sessionId);

    /**
     * Atomically applies {@link SessionRules#spendConfirmed}: the spend part of the keyed charge
     * {@code key} completed, so that a retry of it charges nothing more.
     */
    void confirmSpend(String sessionId, ChargeKey key);

    /**
     * Applies {@link SessionRules#recapped} to every live session of the cluster, each atomically.
     *
     * @return how many sessions' caps changed
     */
    int recapLive(long oldCapNanoUsd, long newCapNanoUsd);

    /**
     * Atomically applies {@link SessionRules#capped}: sets a live session's cap. Returns the ledger
     * after it (unchanged when it had ended); empty when the session is unknown.
     */
    Optional<SessionLedger> setCap(String sessionId, long capNanoUsd);
}
