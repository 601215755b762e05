package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import ducke.core.cluster.GridWireMismatchException;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Admission of a node into the cluster by what cannot be mixed. The member starts as a lite member,
 * which holds no data, and announces its grid wire version as a member attribute; it compares it
 * with every other member's and takes its share of the data only when it can read theirs. A node
 * that cannot leaves again before any partition has moved to it. Settings (prices, caps, limits)
 * are no reason to refuse: the cluster holds one versioned document of them, which every node
 * follows ({@link GridSettingsStore}). The cluster name is Hazelcast's own check. Nothing here
 * touches the partition table: nodes that start together have it arranged once they are all data
 * members, with backups.
 */
final class JoinCheck {

    /** The version of what this node writes into the grid; a member announcing another one is refused. */
    static final int WIRE_VERSION = 1;
    static final String WIRE_ATTRIBUTE = "ducke.wire";
    static final String NODE_ATTRIBUTE = "ducke.node";

    /** How long a promotion may be refused while the cluster is busy (another member joining or migrating). */
    private static final long PROMOTION_DEADLINE_MILLIS = 60_000;

    private JoinCheck() {
    }

    /** Makes {@code config} start a data-less member that announces this node's wire version. */
    static void prepare(Config config) {
        config.setLiteMember(true);
        config.getMemberAttributeConfig().setAttribute(WIRE_ATTRIBUTE, Integer.toString(WIRE_VERSION));
    }

    /** Whether this node reads what a member announcing {@code announced} writes. */
    static boolean readable(String announced) {
        return Integer.toString(WIRE_VERSION).equals(announced);
    }

    /**
     * Checks every other member's wire version, then promotes the member to a data member.
     *
     * @throws GridWireMismatchException naming the first member whose wire version this node cannot read
     */
    static void admit(HazelcastInstance hz) {
        for (Member m : hz.getCluster().getMembers()) {
            if (m.localMember()) {
                continue;
            }
            String theirs = m.getAttribute(WIRE_ATTRIBUTE);
            if (!readable(theirs)) {
                awaitJoinCompleted(hz);
                throw new GridWireMismatchException("'" + m.getAttribute(NODE_ATTRIBUTE) + "' at " + m.getAddress(),
                        theirs == null ? "none (an older version of this service)" : theirs, WIRE_VERSION);
            }
        }
        promote(hz);
    }

    /**
     * Lets the last step of the join finish (the cluster creates its maps and topics on the new
     * member) before the member leaves again, so that leaving does not race it and log errors
     * that hide the real reason. Bounded: a cluster without objects yet has nothing to send.
     */
    private static void awaitJoinCompleted(HazelcastInstance hz) {
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
