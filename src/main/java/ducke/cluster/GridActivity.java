package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.ClusterActivity;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SpendLedger;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The operator's reads of the grid maps, each one pass over a map ({@code values()}, {@code keySet()},
 * {@code entrySet()}: every member sends its share), waiting at most the grid-call deadline. Nothing
 * new crosses the wire: the values are the types the maps already hold.
 * <p>
 * These map reads block until the grid answers (Hazelcast has no asynchronous form of them), so they
 * run on the node's own small pool of readers ({@link BlockingPool#operatorReads}), never on the
 * common pool: while a frozen member holds them, a console that keeps polling is told 503 at once
 * once the readers are busy, and the guard's other grid calls are not starved.
 */
final class GridActivity implements ClusterActivity {

    private final IMap<String, SessionLedger> ledgers;
    private final IMap<String, String> calls;
    private final IMap<String, String> pauses;
    private final IMap<String, SpendLedger> spend;
    private final IMap<String, ClientSpend> clients;
    private final GridCalls grid;
    private final BlockingPool readers;

    GridActivity(HazelcastInstance hz, GridCalls grid, BlockingPool readers) {
        this.ledgers = hz.getMap(HazelcastFactory.SESSIONS_MAP);
        this.calls = hz.getMap(GridCallDirectory.MAP);
        this.pauses = hz.getMap(HazelcastFactory.SESSION_PAUSES_MAP);
        this.spend = hz.getMap(HazelcastFactory.SPEND_MAP);
        this.clients = hz.getMap(HazelcastFactory.CLIENT_SPEND_MAP);
        this.grid = grid;
        this.readers = readers;
    }

    @Override
    public Collection<SessionLedger> ledgers() {
        return read("reading the session ledgers", () -> List.copyOf(ledgers.values()));
    }

    @Override
    public Set<String> calls() {
        return read("reading the live calls", () -> Set.copyOf(calls.keySet()));
    }

    @Override
    public Set<String> pausedSessions() {
        return read("reading the paused sessions", () -> Set.copyOf(pauses.keySet()));
    }

    @Override
    public SpendLedger spend() {
        SpendLedger s = grid.await("reading the cluster's spend", () -> spend.getAsync(GridSpendStore.KEY));
        return s == null ? SpendLedger.EMPTY : s;
    }

    @Override
    public Map<String, ClientSpend> clientSpend() {
        return read("reading the clients' spend", () -> Map.copyOf(clients));
    }

    private <T> T read(String what, Supplier<T> read) {
        return grid.awaitBlocking(what, read, readers);
    }
}
