package ducke.core.cost;

/** The cluster-wide spend ledger and breaker, updated atomically under one key. */
public interface SpendStore {

    SpendLedger.Charged charge(long costNanoUsd, long nowMillis, CostLimits limits);

    SpendLedger.Snapshot snapshot(long nowMillis, CostLimits limits);

    SpendLedger.Snapshot trip(long nowMillis, CostLimits limits, String cause);

    SpendLedger.Snapshot reset(long nowMillis, CostLimits limits);
}
