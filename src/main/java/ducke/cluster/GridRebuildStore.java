package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostLimits;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendRebuild;
import ducke.core.cost.StateRebuild;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The rebuild of a new cluster's spend state, on the grid: one marker entry says who rebuilds
 * ({@code claimed:<member uuid>}, taken with putIfAbsent, so exactly one member wins; taken over
 * with a compare-and-set once that member has left) and then that it is done
 * ({@code done:<as of, epoch ms>:<summary>}).
 * The marker map needs the cost quorum like the spend it guards. A grid without the marker but with
 * a spend ledger is a running cluster (of a version before this one): nothing to rebuild.
 */
final class GridRebuildStore implements StateRebuild.Store {

    static final String KEY = "spend";
    private static final String CLAIMED = "claimed:";
    private static final String DONE = "done:";

    private final HazelcastInstance hz;
    private final IMap<String, String> marker;
    private final IMap<String, SpendLedger> spend;
    private final IMap<String, ClientSpend> clients;
    private final GridCalls calls;

    GridRebuildStore(HazelcastInstance hz, GridCalls calls) {
        this.hz = hz;
        this.marker = hz.getMap(HazelcastFactory.REBUILD_MAP);
        this.spend = hz.getMap(HazelcastFactory.SPEND_MAP);
        this.clients = hz.getMap(HazelcastFactory.CLIENT_SPEND_MAP);
        this.calls = calls;
    }

    @Override
    public Claim claim(long nowMillis) {
        String mine = CLAIMED + hz.getCluster().getLocalMember().getUuid();
        String current = call("reading the rebuild marker", () -> marker.get(KEY));
        if (current == null && call("reading the cluster's spend", () -> spend.containsKey(GridSpendStore.KEY))) {
            call("marking the rebuild done", () -> marker.putIfAbsent(KEY, DONE + "0:the grid holds spend already"));
            return Claim.DONE;
        }
        if (current == null) {
            current = call("claiming the rebuild", () -> marker.putIfAbsent(KEY, mine));
            if (current == null) {
                return Claim.MINE;
            }
        }
        if (current.startsWith(DONE)) {
            return Claim.DONE;
        }
        if (current.equals(mine)) {
            return Claim.MINE;
        }
        if (!memberIsHere(current.substring(CLAIMED.length()))) {
            String claimed = current;
            return call("taking the rebuild over", () -> marker.replace(KEY, claimed, mine)) ? Claim.MINE : Claim.WAITING;
        }
        return Claim.WAITING;
    }

    /** Clients first, the ledger last: a ledger in the grid means the rest is there (see {@link #claim}). */
    @Override
    public void install(SpendRebuild.Result result, long nowMillis, CostLimits limits) {
        List<CompletionStage<Boolean>> pending = new ArrayList<>();
        for (Map.Entry<String, ClientSpend> c : result.clients().entrySet()) {
            pending.add(clients.submitToKey(c.getKey(), new ClientSpendGrid.Seed(c.getValue(), nowMillis, limits)));
            if (pending.size() >= 256) {
                awaitAll(pending);
            }
        }
        awaitAll(pending);
        calls.await("installing the rebuilt spend",
                () -> spend.submitToKey(GridSpendStore.KEY, new SpendProcessors.Seed(result.ledger()).with(nowMillis, limits, 0, "")));
    }

    @Override
    public void done(long asOfMillis, String summary) {
        call("marking the rebuild done", () -> marker.put(KEY, DONE + asOfMillis + ":" + summary));
    }

    @Override
    public long rebuiltAsOfMillis() {
        String current = call("reading the rebuild marker", () -> marker.get(KEY));
        if (current == null || !current.startsWith(DONE)) {
            return 0;
        }
        String rest = current.substring(DONE.length());
        int colon = rest.indexOf(':');
        try {
            return colon < 0 ? 0 : Long.parseLong(rest.substring(0, colon));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void awaitAll(List<CompletionStage<Boolean>> pending) {
        for (CompletionStage<Boolean> p : pending) {
            calls.await("installing a client's rebuilt spend", () -> p);
        }
        pending.clear();
    }

    private boolean memberIsHere(String uuid) {
        for (Member m : hz.getCluster().getMembers()) {
            if (m.getUuid().toString().equals(uuid)) {
                return true;
            }
        }
        return false;
    }

    /** A blocking map call with the grid-call deadline, its failures wrapped like every other. */
    private <T> T call(String what, java.util.function.Supplier<T> call) {
        return calls.awaitBlocking(what, call);
    }
}
