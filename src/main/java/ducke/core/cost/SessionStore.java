package ducke.core.cost;

import java.util.Optional;

/** Where session ledgers and concurrent-session slots live; the cluster keeps them in the grid. */
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

    /** Stores a new ledger; false when the id is already taken. */
    boolean create(SessionLedger ledger);

    /** Atomically applies {@link SessionRules#charge}; the ledger is null when the session is unknown. */
    SessionRules.Charge charge(String sessionId, long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits);

    /** Atomically ends the session; empty when it is unknown. */
    Optional<Ended> end(String sessionId, EndReason reason, long nowMillis);

    Optional<SessionLedger> get(String sessionId);
}
