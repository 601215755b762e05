package ducke.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Admission of a node into the cluster by what cannot be mixed. The member starts as a lite member,
 * which holds no data; {@link WireCheck} compares the grid wire versions it and every other member
 * announce, and only then does it take its share of the data. A node that cannot join leaves again
 * before any partition has moved to it. Settings (prices, caps, limits) are no reason to refuse: the
 * cluster holds one versioned document of them, which every node follows ({@link GridSettingsStore}).
 * The cluster name is Hazelcast's own check. Nothing here touches the partition table: nodes that
 * start together have it arranged once they are all data members, with backups.
 */
final class JoinCheck {

    static final String NODE_ATTRIBUTE = "ducke.node";

    /** How long a promotion may be refused while the cluster is busy (another member joining or migrating). */
    private static final long PROMOTION_DEADLINE_MILLIS = 60_000;

    private JoinCheck() {
    }

    /** Makes {@code config} start a data-less member. */
    static void prepare(Config config) {
        config.setLiteMember(true);
    }

    /** Promotes the member to a data member, once {@link WireCheck} has let it in. */
    static void admit(HazelcastInstance hz) {
        promote(hz);
    }

    /**
     * Lets the last step of the join finish (the cluster creates its maps and topics on the new
     * member) before the member leaves again, so that leaving does not race it and log errors
     * that hide the real reason. Bounded: a cluster without objects yet has nothing to send.
     */
    static void awaitJoinCompleted(HazelcastInstance hz) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (hz.getDistributedObjects().isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static void promote(HazelcastInstance hz) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROMOTION_DEADLINE_MILLIS);
        while (true) {
            try {
                hz.getCluster().promoteLocalLiteMember();
                return;
            } catch (IllegalStateException e) {
                if (!hz.getCluster().getLocalMember().isLiteMember()) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }
}
