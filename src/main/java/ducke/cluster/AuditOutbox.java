package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.AuditSink;
import ducke.core.cost.ChargeBuffer;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.SessionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What waits in the grid for the audit store: final records the reaper handed over, and charge
 * records handed over by the node that charged, each kept (with the grid's synchronous backups)
 * until the store has taken it, so a node that dies loses none of them. Neither map needs a
 * quorum: a node cut off from the others, or the last one left, writes what it holds whenever the
 * database takes it (every write is idempotent). Each node writes the entries of its own
 * partitions, charges first.
 */
public final class AuditOutbox implements ChargeBuffer {

    private static final Logger LOG = LoggerFactory.getLogger(AuditOutbox.class);

    /** Records looked at per drain and map, so a long backlog is written in steps. */
    static final int PER_DRAIN = 5_000;
    /** Charges the grid did not take (kept on this node until written; beyond this, logged and dropped). */
    static final int UNPLACED_CAPACITY = 100_000;

    /** What one drain wrote. */
    record Drained(int charges, int finals) {
    }

    private final IMap<String, SessionRecord> finals;
    private final IMap<String, ChargeRecord> charges;
    private final GridCalls calls;
    private final Queue<ChargeRecord> unplaced = new ConcurrentLinkedQueue<>();
    private final AtomicInteger unplacedCount = new AtomicInteger();
    private volatile int localBacklog;
    private final AtomicInteger unplacedWarnings = new AtomicInteger();

    AuditOutbox(HazelcastInstance hz, GridCalls calls) {
        this.finals = hz.getMap(HazelcastFactory.AUDIT_RECORDS_MAP);
        this.charges = hz.getMap(HazelcastFactory.AUDIT_CHARGES_MAP);
        this.calls = calls;
    }

    static String key(ChargeRecord r) {
        return r.sessionId() + "/" + r.chargeKey();
    }

    /**
     * Keeps a charge in the grid, waiting at most the grid-call deadline; what the grid does not
     * take is kept on this node and written from here. Never throws.
     */
    @Override
    public void add(ChargeRecord record) {
        try {
            calls.await("keeping a charge for the audit", () -> charges.setAsync(key(record), record));
        } catch (RuntimeException e) {
            if (unplacedCount.incrementAndGet() > UNPLACED_CAPACITY) {
                unplacedCount.decrementAndGet();
                LOG.error("Charge row not kept for the audit (grid and local backlog full): session {} key {} cost {} nano-USD",
                        record.sessionId(), record.chargeKey(), record.costNanoUsd());
                return;
            }
            unplaced.add(record);
            if (unplacedWarnings.getAndIncrement() % 1000 == 0) {
                LOG.warn("The grid did not take a charge row for the audit; this node keeps it until written "
                        + "({} such row(s) so far)", unplacedWarnings.get(), e);
            }
        }
    }

    /** Hands final records over to be written; throws (a grid failure) when that is not certain. */
    void handOver(List<SessionRecord> records) {
        Map<String, SessionRecord> byId = new HashMap<>();
        records.forEach(r -> byId.merge(r.sessionId(), r, (a, b) -> b.chargedResponses() > a.chargedResponses() ? b : a));
        finals.putAll(byId);
    }

    /** Final records and charges of this node's share (and those the grid did not take), as of the last drain. */
    int localBacklog() {
        return localBacklog;
    }

    /** The final records of this node's share, not yet written. */
    Collection<SessionRecord> localFinals() {
        return finals.getAll(finals.localKeySet()).values();
    }

    /**
     * Writes the charges, then the final records, of this node's partitions to {@code sink}, and
     * removes what it took (a final record only if no later version replaced it meanwhile).
     *
     * @param last the process is about to exit: no waiting out an earlier failure
     * @throws Exception the sink's failure; what it did not take stays for the next drain
     */
    Drained drain(AuditSink sink, boolean last) throws Exception {
        Exception failed = null;
        int wroteCharges = 0;
        int wroteFinals = 0;
        try {
            wroteCharges = drainCharges(sink, last);
        } catch (Exception e) {
            failed = e;
        }
        try {
            wroteFinals = drainFinals(sink, last);
        } catch (Exception e) {
            failed = failed == null ? e : failed;
        }
        localBacklog = finals.localKeySet().size() + charges.localKeySet().size() + unplacedCount.get();
        if (failed != null) {
            throw failed;
        }
        return new Drained(wroteCharges, wroteFinals);
    }

    private int drainCharges(AuditSink sink, boolean last) throws Exception {
        List<ChargeRecord> kept = new ArrayList<>(unplaced);
        Set<String> keys = first(charges.localKeySet());
        List<ChargeRecord> all = new ArrayList<>(kept);
        all.addAll(charges.getAll(keys).values());
        if (all.isEmpty()) {
            return 0;
        }
        if (last) {
            sink.writeChargesFinal(all);
        } else {
            sink.writeCharges(all);
        }
        kept.forEach(r -> {
            if (unplaced.remove(r)) {
                unplacedCount.decrementAndGet();
            }
        });
        List<CompletableFuture<Void>> removals = new ArrayList<>();
        keys.forEach(k -> removals.add(charges.deleteAsync(k).toCompletableFuture().thenApply(removed -> null)));
        calls.await("removing written charge rows", () -> CompletableFuture.allOf(removals.toArray(CompletableFuture[]::new)));
        return all.size();
    }

    private int drainFinals(AuditSink sink, boolean last) throws Exception {
        Map<String, SessionRecord> records = finals.getAll(first(finals.localKeySet()));
        if (records.isEmpty()) {
            return 0;
        }
        List<SessionRecord> list = List.copyOf(records.values());
        if (last) {
            sink.writeFinal(list);
        } else {
            sink.write(list);
        }
        records.forEach(finals::remove);
        return list.size();
    }

    private static Set<String> first(Set<String> keys) {
        if (keys.size() <= PER_DRAIN) {
            return keys;
        }
        Set<String> some = new HashSet<>();
        for (String k : keys) {
            if (some.size() == PER_DRAIN) {
                break;
            }
            some.add(k);
        }
        return some;
    }
}
