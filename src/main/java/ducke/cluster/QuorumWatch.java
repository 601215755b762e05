package ducke.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import ducke.core.cluster.ClusterHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Ties a member to its {@link ClusterHealth}: the grid's split-brain protection asks the health for
 * its verdict (so graceful departures count there too), and membership changes and merges keep the
 * health up to date.
 */
final class QuorumWatch {

    private static final Logger LOG = LoggerFactory.getLogger(QuorumWatch.class);

    private QuorumWatch() {
    }

    /** Before the member starts: the cost maps' protection, if any, decides as {@code health} does. */
    static void prepare(Config config, ClusterHealth health) {
        if (config.getSplitBrainProtectionConfigs().containsKey(HazelcastFactory.COST_QUORUM)) {
            config.getSplitBrainProtectionConfig(HazelcastFactory.COST_QUORUM)
                    .setFunctionImplementation(members -> health.quorumWith(members.size()));
        }
    }

    /** Once the member runs: keeps {@code health} up to date with the members it sees, and logs quorum changes. */
    static void start(HazelcastInstance hz, ClusterHealth health, String nodeName) {
        health.addListener(new ClusterHealth.Listener() {
            @Override
            public void quorumLost() {
                LOG.warn("Node {} sees {} of the {} members cost state needs: new sessions are refused and charges "
                        + "journaled until the cluster is whole again", nodeName, health.members(), health.required());
            }

            @Override
            public void quorumRegained() {
                LOG.warn("Node {} sees a quorum again ({} members)", nodeName, health.members());
            }
        });
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                health.membersSeen(e.getMembers().size());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                health.membersSeen(e.getMembers().size());
            }
        });
        hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                LOG.warn("Node {} merged into the other half of a split cluster", nodeName);
                health.membersSeen(hz.getCluster().getMembers().size());
            }
        });
        // a member may have come or gone before the listener was in place
        health.membersSeen(hz.getCluster().getMembers().size());
        awaitGridAgrees(hz, health);
    }

    /**
     * The grid checks its protection on membership events and every heartbeat; a member that
     * joined as a lite member and was promoted may hear of no event. So that the first request does
     * not meet a refusal the health does not know of, this waits (at most a few heartbeats) until
     * the grid sees the quorum the health sees.
     */
    private static void awaitGridAgrees(HazelcastInstance hz, ClusterHealth health) {
        if (!hz.getConfig().getSplitBrainProtectionConfigs().containsKey(HazelcastFactory.COST_QUORUM)) {
            return;
        }
        var protection = hz.getSplitBrainProtectionService().getSplitBrainProtection(HazelcastFactory.COST_QUORUM);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (health.quorum() && !protection.hasMinimumSize() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }
}
