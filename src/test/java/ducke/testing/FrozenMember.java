package ducke.testing;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Hazelcast member in this JVM that stops answering without leaving: every partition thread
 * that serves one of its partitions is held by a blocking entry processor until {@link #thaw()}
 * (at most 60 s). Calls for keys it owns wait, as they would for a member frozen by SIGSTOP or a
 * long GC pause, while the member stays in the cluster.
 */
public final class FrozenMember implements AutoCloseable {

    /** The latches of frozen members, found by the entry processors that run on them (same JVM). */
    private static final Map<String, CountDownLatch> THAWS = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();

    private FrozenMember() {
        THAWS.put(id, new CountDownLatch(1));
    }

    /** Occupies the partition threads of {@code member} that serve one of its own partitions. */
    public static FrozenMember freeze(HazelcastInstance member) {
        FrozenMember frozen = new FrozenMember();
        var map = member.<String, String>getMap("frozen-" + frozen.id);
        var partitions = member.getPartitionService();
        Set<Integer> owned = partitions.getPartitions().stream().filter(p -> p.getOwner().localMember())
                .map(p -> p.getPartitionId()).collect(Collectors.toSet());
        Map<Integer, String> keyOf = new HashMap<>();
        for (int i = 0; keyOf.size() < owned.size(); i++) {
            String key = "freeze-" + i;
            int p = partitions.getPartition(key).getPartitionId();
            if (owned.contains(p)) {
                keyOf.putIfAbsent(p, key);
            }
        }
        keyOf.values().forEach(k -> map.submitToKey(k, new Block(frozen.id)));
        return frozen;
    }

    /** The first key {@code prefix + n} whose partition {@code member} owns. */
    public static String keyOwnedBy(HazelcastInstance member, String prefix) {
        for (int i = 0; ; i++) {
            String key = prefix + i;
            if (owns(member, key)) {
                return key;
            }
        }
    }

    /** Whether {@code member} owns the partition of {@code key}. */
    public static boolean owns(HazelcastInstance member, String key) {
        return member.getPartitionService().getPartition(key).getOwner().localMember();
    }

    /** Lets the member answer again. */
    public void thaw() {
        THAWS.get(id).countDown();
    }

    @Override
    public void close() {
        thaw();
        THAWS.remove(id);
    }

    /** Holds its partition thread until the member is thawed; no backup, so it never leaves the member. */
    private static final class Block implements EntryProcessor<String, String, Boolean>, Serializable {
        private final String frozen;

        Block(String frozen) {
            this.frozen = frozen;
        }

        @Override
        public Boolean process(Map.Entry<String, String> entry) {
            CountDownLatch thaw = THAWS.get(frozen);
            try {
                return thaw == null || thaw.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public EntryProcessor<String, String, Boolean> getBackupProcessor() {
            return null;
        }
    }
}
