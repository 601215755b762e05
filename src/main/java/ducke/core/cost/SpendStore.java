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

    /** {@code clientId}'s hourly spend as of {@code nowMillis} ({@link ClientSpend.Snapshot#NONE} when it has none). */
    ClientSpend.Snapshot clientSnapshot(String clientId, long nowMillis, CostLimits limits);
}
