package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import ducke.DuckeConfiguration;

import java.util.List;

/** For tests outside this package: a plain grid member that joins an application's cluster, its member, and its crash. */
public final class ClusterTesting {

    private ClusterTesting() {
    }

    /** A member of {@code cluster} on {@code port}, listing {@code members}, announcing an application's settings. */
    public static ClusterNode member(String cluster, int port, List<String> members, DuckeConfiguration app) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(members);
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(io.dropwizard.util.Duration.seconds(0));
        return Members.start(f, "member-" + port);
    }

    /** The node's grid member, for tests that freeze it ({@link ducke.testing.FrozenMember}) or ask who owns a key. */
    public static HazelcastInstance hazelcast(ClusterNode node) {
        return node.hazelcast();
    }

    /** Drops out at once, as a crashed node would. */
    public static void crash(ClusterNode node) {
        node.terminate();
    }
}
