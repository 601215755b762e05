package ducke.cluster;

import ducke.core.ratelimit.LocalDenials;
import ducke.testing.FreePorts;
import ducke.testing.Poll;
import io.dropwizard.util.Duration;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;


/** Starts several real members on loopback, in a cluster of their own, and waits until they see each other. */
final class Members {

    private static final Map<ClusterNode, LocalDenials> DENIALS = new IdentityHashMap<>();
    private static final Map<ClusterNode, HazelcastFactory> FACTORIES = new IdentityHashMap<>();

    private Members() {
    }

    static synchronized LocalDenials denials(ClusterNode node) {
        return DENIALS.get(node);
    }

    /** A new member with the settings of {@code like} (its cluster, its address list) on a port of its own. */
    static ClusterNode another(ClusterNode like) {
        HazelcastFactory f = factory(like);
        HazelcastFactory g = new HazelcastFactory();
        g.setClusterName(f.getClusterName());
        g.setPort(FreePorts.next());
        g.setMembers(f.getMembers());
        g.setInterfaces(f.getInterfaces());
        g.setWaitBeforeJoin(Duration.seconds(0));
        g.setMinClusterSize(f.getMinClusterSize());
        return start(g, "member-" + UUID.randomUUID().toString().substring(0, 8));
    }

    /** The same member again, on the same port, after it was terminated or stopped. */
    static ClusterNode restart(ClusterNode gone) {
        return start(factory(gone), gone.nodeName());
    }

    static synchronized HazelcastFactory factory(ClusterNode node) {
        return FACTORIES.get(node);
    }

    static ClusterNode start(HazelcastFactory f, String name) {
        LocalDenials denials = new LocalDenials(1000);
        ClusterNode node = ClusterNode.start(f, name, denials);
        synchronized (Members.class) {
            DENIALS.put(node, denials);
            FACTORIES.put(node, f);
        }
        return node;
    }

    static List<ClusterNode> start(int count) throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(FreePorts.next());
        }
        List<String> addresses = ports.stream().map(p -> "127.0.0.1:" + p).toList();
        ExecutorService starter = Executors.newFixedThreadPool(count);
        try {
            List<Future<ClusterNode>> started = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                HazelcastFactory f = new HazelcastFactory();
                f.setClusterName(cluster);
                f.setPort(ports.get(i));
                f.setMembers(addresses);
                f.setInterfaces(List.of("127.0.0.1"));
                f.setWaitBeforeJoin(Duration.seconds(0));
                String name = "member-" + i;
                started.add(starter.submit(() -> start(f, name)));
            }
            List<ClusterNode> nodes = new ArrayList<>();
            for (Future<ClusterNode> f : started) {
                nodes.add(f.get());
            }
            Poll.until(count + " members joined, with quorum", java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(10),
                    () -> nodes.stream().allMatch(n -> n.memberCount() >= count && n.quorum()));
            // the partition table is laid out at the first keyed call, and calls made while partitions
            // migrate are retried until they time out: lay it out now and wait until it is settled
            nodes.get(0).hazelcast().getPartitionService().getPartition("members-start").getOwner();
            Poll.until("partitions owned and settled on every member", java.time.Duration.ofSeconds(60),
                    java.time.Duration.ofMillis(10),
                    () -> nodes.stream().allMatch(n -> n.hazelcast().getPartitionService().isClusterSafe()));
            return nodes;
        } finally {
            starter.shutdown();
        }
    }
}
