package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.CostLimits;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendStore;

/** The cluster's one spend ledger, under one key of a grid map. */
final class GridSpendStore implements SpendStore {

    static final String KEY = "cluster";

    private final IMap<String, SpendLedger> spend;

    GridSpendStore(HazelcastInstance hz) {
        this.spend = hz.getMap(HazelcastFactory.SPEND_MAP);
    }

    @Override
    public SpendLedger.Charged charge(long costNanoUsd, long nowMillis, CostLimits limits) {
        return spend.executeOnKey(KEY, new SpendProcessors.Charge().with(nowMillis, limits, costNanoUsd, ""));
    }

    @Override
    public SpendLedger.Snapshot snapshot(long nowMillis, CostLimits limits) {
        SpendLedger s = spend.get(KEY);
        return (s == null ? SpendLedger.EMPTY : s).snapshot(nowMillis, limits);
    }

    @Override
    public SpendLedger.Snapshot trip(long nowMillis, CostLimits limits, String cause) {
        return spend.executeOnKey(KEY, new SpendProcessors.Trip().with(nowMillis, limits, 0, cause));
    }

    @Override
    public SpendLedger.Snapshot reset(long nowMillis, CostLimits limits) {
        return spend.executeOnKey(KEY, new SpendProcessors.Reset().with(nowMillis, limits, 0, ""));
    }
}
