package ducke.bench;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import ducke.cluster.ClusterNode;
import ducke.cluster.HazelcastFactory;
import ducke.core.ratelimit.LocalDenials;
import io.dropwizard.util.Duration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Real members started as the application starts them ({@link ClusterNode#start}), on loopback,
 * on free ports, in a cluster of their own; returned once every member sees all the others and no
 * partition is migrating. All members live in the benchmark JVM, but talk to each other over TCP.
 */
final class BenchCluster implements AutoCloseable {

    private static final long JOIN_TIMEOUT_MILLIS = 60_000;

    private final List<ClusterNode> nodes;
    private final List<LocalDenials> denials;

    private BenchCluster(List<ClusterNode> nodes, List<LocalDenials> denials) {
        this.nodes = nodes;
        this.denials = denials;
    }

    /** Starts {@code count} members; each gets its own denial cache of {@code maxDenials} entries. */
    static BenchCluster start(int count, int maxDenials) throws Exception {
        String cluster = "bench-" + UUID.randomUUID();
        List<String> addresses = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(freePort());
            addresses.add("127.0.0.1:" + ports.get(i));
        }
        List<LocalDenials> denials = new ArrayList<>();
        List<Future<ClusterNode>> started = new ArrayList<>();
        ExecutorService starter = Executors.newFixedThreadPool(count);
        try {
            for (int i = 0; i < count; i++) {
                HazelcastFactory f = new HazelcastFactory();
                f.setClusterName(cluster);
                f.setPort(ports.get(i));
                f.setMembers(addresses);
                f.setInterfaces(List.of("127.0.0.1"));
                f.setWaitBeforeJoin(Duration.seconds(0));
                LocalDenials d = new LocalDenials(maxDenials);
                denials.add(d);
                String name = cluster + "-member-" + i;
                started.add(starter.submit(() -> ClusterNode.start(f, name, d)));
            }
            List<ClusterNode> nodes = new ArrayList<>();
            for (Future<ClusterNode> f : started) {
                nodes.add(f.get());
            }
            BenchCluster c = new BenchCluster(nodes, denials);
            c.awaitSettled(count);
            return c;
        } finally {
            starter.shutdown();
        }
    }

    ClusterNode node(int i) {
        return nodes.get(i);
    }

    LocalDenials denials(int i) {
        return denials.get(i);
    }

    /** Whether the primary replica of the grid entry under {@code key} lives on member {@code i}. */
    boolean ownedBy(int i, String key) {
        HazelcastInstance hz = member(i);
        Member owner = hz.getPartitionService().getPartition(key).getOwner();
        return hz.getCluster().getLocalMember().equals(owner);
    }

    @Override
    public void close() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).stop();
        }
    }

    private void awaitSettled(int count) throws InterruptedException {
        long deadline = System.currentTimeMillis() + JOIN_TIMEOUT_MILLIS;
        while (!settled(count)) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(count + " members did not settle in " + JOIN_TIMEOUT_MILLIS + " ms");
            }
            Thread.sleep(50);
        }
    }

    private boolean settled(int count) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).memberCount() < count) {
                return false;
            }
            HazelcastInstance hz = member(i);
            // asking for any owner triggers the first partition arrangement
            for (Partition p : hz.getPartitionService().getPartitions()) {
                if (p.getOwner() == null) {
                    return false;
                }
            }
            if (!hz.getPartitionService().isClusterSafe()) {
                return false;
            }
        }
        return true;
    }

    /** ClusterNode keeps its member private; find it by the node-name attribute it sets. */
    private HazelcastInstance member(int i) {
        String name = nodes.get(i).nodeName();
        for (HazelcastInstance hz : Hazelcast.getAllHazelcastInstances()) {
            if (name.equals(hz.getCluster().getLocalMember().getAttribute("ducke.node"))) {
                return hz;
            }
        }
        throw new IllegalStateException("no running member named " + name);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
