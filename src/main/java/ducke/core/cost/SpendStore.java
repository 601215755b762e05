package ducke.core.cost;

/**
 * The cluster-wide spend ledger and breaker, updated atomically under one key, and each client's
 * rolling hourly spend, updated atomically under the client's key. Every method may throw
 * {@link ducke.core.cluster.QuorumLostException}, having changed nothing.
 */
public interface SpendStore {

    /** Adds spend as {@code id}'s row; a replay applied before changes nothing. */
    SpendLedger.Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits);

    SpendLedger.Snapshot snapshot(long nowMillis, CostLimits limits);

    SpendLedger.Snapshot trip(long nowMillis, CostLimits limits, String cause);

    SpendLedger.Snapshot reset(long nowMillis, CostLimits limits);

    /** Adds to {@code clientId}'s hourly spend; the result is as of {@code nowMillis}, after the charge. */
    ClientSpend.Snapshot chargeClient(String clientId, long costNanoUsd, long nowMillis, CostLimits limits);

    /**
     * Adds spend as {@code id}'s row and gives back the reservation {@code releaseHoldId} (null:
     * none) in the same step.
     */
    default SpendLedger.Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits, String releaseHoldId) {
        SpendLedger.Charged c = charge(id, costNanoUsd, nowMillis, limits);
        if (releaseHoldId != null) {
            release(releaseHoldId, nowMillis, limits);
        }
        return c;
    }

    /** The same for a client's hourly spend. */
    default ClientSpend.Snapshot chargeClient(String clientId, long costNanoUsd, long nowMillis, CostLimits limits,
                                              String releaseHoldId) {
        ClientSpend.Snapshot s = chargeClient(clientId, costNanoUsd, nowMillis, limits);
        if (releaseHoldId != null) {
            releaseClient(clientId, releaseHoldId, nowMillis, limits);
        }
        return s;
    }

    /**
     * Reserves as much as fits of {@code maxNanoUsd}, at least {@code minNanoUsd}, against the
     * breaker's window ({@link SpendLedger#reserveUpTo}); answers whether it was taken, how much,
     * and whether the refusal opened the breaker.
     */
    SpendLedger.Reserved reserve(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                                 CostLimits limits);

    /** The same against {@code clientId}'s hourly cap ({@link ClientSpend#reserveUpTo}); the amount taken, 0: refused. */
    long reserveClient(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                       CostLimits limits);

    void release(String holdId, long nowMillis, CostLimits limits);

    void releaseClient(String clientId, String holdId, long nowMillis, CostLimits limits);

    /** {@code clientId}'s hourly spend as of {@code nowMillis} ({@link ClientSpend.Snapshot#NONE} when it has none). */
    ClientSpend.Snapshot clientSnapshot(String clientId, long nowMillis, CostLimits limits);
}
