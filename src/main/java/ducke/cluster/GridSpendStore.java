package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.ChargeId;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostLimits;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendStore;

/**
 * The cluster's one spend ledger, under one key of a grid map; each client's hourly spend under its
 * own key. Every call waits at most the grid-call deadline; both maps need the cluster's quorum.
 */
final class GridSpendStore implements SpendStore {

    static final String KEY = "cluster";

    private final IMap<String, SpendLedger> spend;
    private final IMap<String, ClientSpend> clients;
    private final GridCalls calls;

    GridSpendStore(HazelcastInstance hz, GridCalls calls) {
        this.spend = hz.getMap(HazelcastFactory.SPEND_MAP);
        this.clients = hz.getMap(HazelcastFactory.CLIENT_SPEND_MAP);
        this.calls = calls;
    }

    IMap<String, ClientSpend> clients() {
        return clients;
    }

    @Override
    public SpendLedger.Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits) {
        return calls.await("charging the cluster's spend",
                () -> spend.submitToKey(KEY, new SpendProcessors.Charge().with(nowMillis, limits, costNanoUsd, "").as(id)));
    }

    @Override
    public SpendLedger.Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits, String releaseHoldId) {
        return calls.await("charging the cluster's spend", () -> spend.submitToKey(KEY,
                new SpendProcessors.Charge().with(nowMillis, limits, costNanoUsd, "").as(id).hold(releaseHoldId, 0)));
    }

    @Override
    public ClientSpend.Snapshot chargeClient(String clientId, long costNanoUsd, long nowMillis, CostLimits limits,
                                             String releaseHoldId) {
        return calls.await("charging a client's spend",
                () -> clients.submitToKey(clientId, new ClientSpendGrid.Charge(costNanoUsd, nowMillis, limits, releaseHoldId)));
    }

    @Override
    public SpendLedger.Reserved reserve(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                                        CostLimits limits) {
        long r = calls.await("reserving against the breaker's window", () -> spend.submitToKey(KEY,
                new SpendProcessors.Reserve().with(nowMillis, limits, maxNanoUsd, "").hold(holdId, expiresAtMillis).atLeast(minNanoUsd)));
        return new SpendLedger.Reserved(null, r > 0, r == SpendProcessors.REFUSED_BREAKER_OPENED, null, Math.max(0, r));
    }

    @Override
    public long reserveClient(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis,
                              long expiresAtMillis, CostLimits limits) {
        return calls.await("reserving against a client's hour", () -> clients.submitToKey(clientId,
                new ClientSpendGrid.Reserve(holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, limits)));
    }

    @Override
    public void release(String holdId, long nowMillis, CostLimits limits) {
        calls.await("releasing a reservation", () -> spend.submitToKey(KEY,
                new SpendProcessors.Release().with(nowMillis, limits, 0, "").hold(holdId, 0)));
    }

    @Override
    public void releaseClient(String clientId, String holdId, long nowMillis, CostLimits limits) {
        calls.await("releasing a client's reservation",
                () -> clients.submitToKey(clientId, new ClientSpendGrid.Release(holdId, nowMillis, limits)));
    }

    @Override
    public SpendLedger.Snapshot snapshot(long nowMillis, CostLimits limits) {
        SpendLedger s = calls.await("reading the cluster's spend", () -> spend.getAsync(KEY));
        return (s == null ? SpendLedger.EMPTY : s).snapshot(nowMillis, limits);
    }

    @Override
    public SpendLedger.Snapshot trip(long nowMillis, CostLimits limits, String cause) {
        return calls.await("tripping the breaker",
                () -> spend.submitToKey(KEY, new SpendProcessors.Trip().with(nowMillis, limits, 0, cause)));
    }

    @Override
    public SpendLedger.Snapshot reset(long nowMillis, CostLimits limits) {
        return calls.await("resetting the breaker",
                () -> spend.submitToKey(KEY, new SpendProcessors.Reset().with(nowMillis, limits, 0, "")));
    }

    @Override
    public ClientSpend.Snapshot chargeClient(String clientId, long costNanoUsd, long nowMillis, CostLimits limits) {
        return calls.await("charging a client's spend",
                () -> clients.submitToKey(clientId, new ClientSpendGrid.Charge(costNanoUsd, nowMillis, limits)));
    }

    @Override
    public ClientSpend.Snapshot clientSnapshot(String clientId, long nowMillis, CostLimits limits) {
        ClientSpend s = calls.await("reading a client's spend", () -> clients.getAsync(clientId));
        return s == null ? ClientSpend.Snapshot.NONE : s.snapshot(nowMillis, limits);
    }
}
