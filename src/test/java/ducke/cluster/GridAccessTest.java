package ducke.cluster;

import com.fasterxml.jackson.databind.node.TextNode;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.map.IMap;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import ducke.core.cluster.WireMismatchException;
import ducke.core.ratelimit.LocalDenials;
import ducke.testing.FreePorts;
import ducke.testing.Listeners;
import ducke.testing.Poll;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who can reach the grid: members on the configured interface, with the same settings, and no one else. */
class GridAccessTest {

    private final List<ClusterNode> started = new ArrayList<>();
    private final String cluster = "test-" + UUID.randomUUID();

    @AfterEach
    void stop() {
        started.forEach(ClusterNode::terminate);
    }

    private HazelcastFactory factory(int port, List<String> members, List<String> interfaces) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(members);
        f.setInterfaces(interfaces);
        f.setWaitBeforeJoin(Duration.seconds(0));
        return f;
    }

    private ClusterNode start(HazelcastFactory f, String name) {
        ClusterNode node = ClusterNode.start(f, name, new LocalDenials(100));
        started.add(node);
        return node;
    }

    @Test
    void aLoneNodeListensOnLoopbackOnlyNeverOnTheWildcardAddress() throws Exception {
        int port = FreePorts.next();
        ClusterNode node = start(factory(port, List.of(), List.of()), "alone");

        assertThat(node.hazelcast().getCluster().getLocalMember().getAddress().getHost()).isEqualTo("127.0.0.1");
        List<String> listeners = Listeners.on(port);
        assertThat(listeners).as("listening sockets on the grid port").isNotEmpty().noneMatch(Listeners::isWildcard);
        assertThat(connects("127.0.0.1", port)).isTrue();
        // every 127/8 address reaches the loopback interface: only a wildcard listener would answer here
        assertThat(connects("127.0.0.2", port)).isFalse();
    }

    @Test
    void aHazelcastClientCannotConnect() {
        int port = FreePorts.next();
        start(factory(port, List.of(), List.of("127.0.0.1")), "member");

        ClientConfig client = new ClientConfig().setClusterName(cluster);
        client.getNetworkConfig().addAddress("127.0.0.1:" + port);
        client.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3000);
        assertThatThrownBy(() -> HazelcastClient.newHazelcastClient(client).shutdown())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Unable to connect");
    }

    @Test
    void foreignClassesAreNotDeserialized() {
        ClusterNode node = start(factory(FreePorts.next(), List.of(), List.of("127.0.0.1")), "member");
        IMap<String, Object> probe = node.hazelcast().getMap("probe");

        probe.put("jdk", new AtomicLong(7));
        assertThat(probe.get("jdk")).hasToString("7");
        probe.put("foreign", TextNode.valueOf("gadget"));
        assertThatThrownBy(() -> probe.get("foreign"))
                .hasRootCauseInstanceOf(SecurityException.class)
                .rootCause().hasMessageContaining("com.fasterxml.jackson");
    }

    @Test
    void aNodeRefusesToJoinAMemberOfAnotherGridWireVersionAndNamesIt() throws Exception {
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
        // a member of a later version of the service: it writes a grid wire format this node cannot read
        Config later = factory(portA, members, List.of("127.0.0.1")).toConfig("node-a", Map.of());
        int beyond = WireVersion.RANGE.newest() + 1;
        later.getMemberAttributeConfig().setAttribute(WireVersion.ATTRIBUTE, beyond + "-" + beyond);
        HazelcastInstance a = Hazelcast.newHazelcastInstance(later);
        try {
            assertThatThrownBy(() -> start(factory(portB, members, List.of("127.0.0.1")), "node-b"))
                    .isInstanceOf(WireMismatchException.class)
                    .hasMessageContaining("'node-a'")
                    .hasMessageContaining("reads and writes wire versions " + beyond + "-" + beyond);
            Poll.until("the refused member has left", 30_000, () -> a.getCluster().getMembers().size() == 1);
            assertThat(connects("127.0.0.1", portB)).as("the refused member has closed its port").isFalse();
        } finally {
            a.getLifecycleService().terminate();
        }
    }

    @Test
    void membersOfOneWireVersionJoinAsDataMembers() {
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
        start(factory(portA, members, List.of("127.0.0.1")), "node-a");
        ClusterNode b = start(factory(portB, members, List.of("127.0.0.1")), "node-b");
        assertThat(b.memberCount()).isEqualTo(2);
        assertThat(b.hazelcast().getCluster().getLocalMember().isLiteMember()).isFalse();
        assertThat(b.hazelcast().getCluster().getLocalMember().getAttribute(WireVersion.ATTRIBUTE))
                .isEqualTo(WireVersion.RANGE.encode());
    }

    private static boolean connects(String host, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}
