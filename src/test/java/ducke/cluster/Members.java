package ducke.cluster;

import ducke.core.ratelimit.LocalDenials;
import ducke.testing.FreePorts;
import io.dropwizard.util.Duration;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Starts several real members on loopback, in a cluster of their own, and waits until they see each other. */
final class Members {

    private static final Map<ClusterNode, LocalDenials> DENIALS = new IdentityHashMap<>();

    private Members() {
    }

    static synchronized LocalDenials denials(ClusterNode node) {
        return DENIALS.get(node);
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
                LocalDenials denials = new LocalDenials(1000);
                String name = "member-" + i;
                started.add(starter.submit(() -> {
                    ClusterNode node = ClusterNode.start(f, name, denials);
                    synchronized (Members.class) {
                        DENIALS.put(node, denials);
                    }
                    return node;
                }));
            }
            List<ClusterNode> nodes = new ArrayList<>();
            for (Future<ClusterNode> f : started) {
                nodes.add(f.get());
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (nodes.stream().anyMatch(n -> n.memberCount() < count)) {
                assertThat(System.currentTimeMillis()).as("%d members joined in time", count).isLessThan(deadline);
                Thread.onSpinWait();
            }
            return nodes;
        } finally {
            starter.shutdown();
        }
    }
}
