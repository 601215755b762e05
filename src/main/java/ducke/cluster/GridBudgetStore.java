package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.BudgetStore;
import ducke.core.cost.BudgetWindows;
import ducke.core.cost.ClientBudget;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Each client's day and month budgets under its key of a grid map ({@link ClientBudgetGrid}).
 * Every call waits at most the grid-call deadline and needs the cluster's quorum. Whether any
 * client has an override is learnt once from the map and then from its events, so a cluster that
 * never sets one never calls the grid for budgets (a node learns of the first override by its
 * entry's arrival, or, joining later, by reading the map once).
 */
final class GridBudgetStore implements BudgetStore {

    private final IMap<String, ClientBudget> budgets;
    private final GridCalls calls;
    private final AtomicBoolean overrides = new AtomicBoolean();
    private volatile boolean scanned;

    GridBudgetStore(HazelcastInstance hz, GridCalls calls) {
        this.budgets = hz.getMap(HazelcastFactory.CLIENT_BUDGETS_MAP);
        this.calls = calls;
        // without defaults an entry exists only for a client with an override (ClientBudgets puts no other): its
        // arrival is enough, without the value, and the events of charges to entries that exist are not sent
        budgets.addEntryListener((EntryAddedListener<String, ClientBudget>) e -> overrides.set(true), false);
    }

    @Override
    public boolean anyOverride() {
        if (!overrides.get() && !scanned) {
            // the overrides set before this node joined: once, when the map can be read
            try {
                boolean any = budgets.values().stream().anyMatch(b -> b.override() != null);
                scanned = true;
                if (any) {
                    overrides.set(true);
                }
            } catch (RuntimeException e) {
                return false;
            }
        }
        return overrides.get();
    }

    @Override
    public ClientBudget get(String clientId) {
        return calls.await("reading a client's budgets", () -> budgets.getAsync(clientId));
    }

    @Override
    public long reserve(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                        BudgetWindows w, BudgetLimits defaults) {
        return apply(clientId, "reserving against a client's budgets", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.RESERVE,
                holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, w, defaults));
    }

    @Override
    public void charge(String clientId, long costNanoUsd, long nowMillis, BudgetWindows w, String releaseHoldId) {
        apply(clientId, "charging a client's budgets", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.CHARGE, releaseHoldId, 0,
                costNanoUsd, nowMillis, 0, w, BudgetLimits.UNLIMITED));
    }

    @Override
    public void release(String clientId, String holdId, long nowMillis, BudgetWindows w) {
        apply(clientId, "releasing a client's budget reservation", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.RELEASE, holdId,
                0, 0, nowMillis, 0, w, BudgetLimits.UNLIMITED));
    }

    @Override
    public long reserveTime(String clientId, String sessionId, long minMillis, long maxMillis, long nowMillis, long expiresAtMillis,
                            BudgetWindows w, BudgetLimits defaults) {
        return apply(clientId, "reserving a client's session time", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.RESERVE_TIME,
                sessionId, minMillis, maxMillis, nowMillis, expiresAtMillis, w, defaults));
    }

    @Override
    public void useTime(String clientId, String sessionId, long usedMillis, long nowMillis, BudgetWindows w) {
        apply(clientId, "counting a client's session time", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.USE_TIME, sessionId, 0,
                usedMillis, nowMillis, 0, w, BudgetLimits.UNLIMITED));
    }

    @Override
    public ClientBudget override(String clientId, BudgetOverride override, long nowMillis, BudgetWindows w) {
        apply(clientId, "setting a client's budgets", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.OVERRIDE, "", 0, 0, nowMillis, 0,
                w, BudgetLimits.UNLIMITED).withOverride(override));
        overrides.set(true);
        ClientBudget b = get(clientId);
        return b == null ? ClientBudget.EMPTY : b;
    }

    @Override
    public void seed(String clientId, ClientBudget seed, long nowMillis, BudgetWindows w) {
        apply(clientId, "installing a client's rebuilt budgets", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.SEED, "", 0, 0,
                nowMillis, 0, w, BudgetLimits.UNLIMITED).withSeed(seed));
        if (seed.override() != null) {
            overrides.set(true);
        }
    }

    private long apply(String clientId, String what, ClientBudgetGrid.Apply op) {
        Long r = calls.await(what, () -> budgets.submitToKey(clientId, op));
        return r == null ? 0 : r;
    }
}
