package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import ducke.core.cluster.GridSettings;
import ducke.core.cluster.GridSettingsMismatchException;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Admission of a node into the cluster by its settings. The member starts as a lite member, which
 * holds no data, and announces its limits and prices as a member attribute; it compares them with
 * every other member's and takes its share of the data only when all agree. A node whose settings
 * differ leaves again before any partition has moved to it. Nothing here touches the partition
 * table: nodes that start together have it arranged once they are all data members, with backups.
 */
final class JoinCheck {

    static final String SETTINGS_ATTRIBUTE = "ducke.settings";
    static final String NODE_ATTRIBUTE = "ducke.node";

    /** How long a promotion may be refused while the cluster is busy (another member joining or migrating). */
    private static final long PROMOTION_DEADLINE_MILLIS = 60_000;

    private JoinCheck() {
    }

    /** Makes {@code config} start a data-less member that announces {@code settings}. */
    static void prepare(Config config, GridSettings settings) {
        config.setLiteMember(true);
        config.getMemberAttributeConfig().setAttribute(SETTINGS_ATTRIBUTE, settings.encode());
    }

    /**
     * Compares settings with every other member, then promotes the member to a data member.
     *
     * @throws GridSettingsMismatchException naming the differing settings of the first member that differs
     */
    static void admit(HazelcastInstance hz, GridSettings settings) {
        for (Member m : hz.getCluster().getMembers()) {
            if (m.localMember()) {
                continue;
            }
            GridSettings theirs = GridSettings.decode(m.getAttribute(SETTINGS_ATTRIBUTE));
            if (theirs.equals(GridSettings.NONE) || settings.equals(GridSettings.NONE)) {
                // a bare grid member (a tool or a test's member) serves no requests and applies no limits
                continue;
            }
            List<String> differences = settings.differences(theirs);
            if (!differences.isEmpty()) {
                awaitJoinCompleted(hz);
                throw new GridSettingsMismatchException("'" + m.getAttribute(NODE_ATTRIBUTE) + "' at " + m.getAddress(),
                        differences);
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
