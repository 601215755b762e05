package ducke.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import ducke.core.cluster.WireMismatchException;
import ducke.core.ratelimit.LocalDenials;
import ducke.testing.FreePorts;
import ducke.testing.Poll;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Joining by wire version, with real members: a member of a release this one cannot talk to (one that
 * announces no wire version, or versions this release does not share) keeps the cluster, and this node
 * leaves at once, saying why; a member of this release joins as a data member.
 */
class WireCheckTest {

    private final List<ClusterNode> started = new ArrayList<>();
    private final List<HazelcastInstance> foreign = new ArrayList<>();
    private final String cluster = "test-" + UUID.randomUUID();

    @AfterEach
    void stop() {
        started.forEach(ClusterNode::terminate);
        foreign.forEach(HazelcastInstance::shutdown);
    }

    private HazelcastFactory factory(int port, List<String> members) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(members);
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(Duration.seconds(0));
        return f;
    }

    /** A member of another release: this release's grid configuration, announcing {@code wire} (null: none). */
    private HazelcastInstance otherRelease(int port, List<String> members, String wire) {
        Config c = factory(port, members).toConfig("other-release", Map.of(ForgetDenialsTask.LOCAL_DENIALS, new LocalDenials(10)));
        if (wire != null) {
            c.getMemberAttributeConfig().setAttribute(WireVersion.ATTRIBUTE, wire);
        }
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(c);
        foreign.add(hz);
        return hz;
    }

    private ClusterNode start(int port, List<String> members) {
        ClusterNode node = ClusterNode.start(factory(port, members), "this-release", new LocalDenials(10));
        started.add(node);
        return node;
    }

    @Test
    void aMemberOfAReleaseBeforeWireVersionsIsNotJoined() {
        int a = FreePorts.next();
        int b = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + a, "127.0.0.1:" + b);
        HazelcastInstance old = otherRelease(a, members, null);

        assertThatThrownBy(() -> start(b, members))
                .isInstanceOf(WireMismatchException.class)
                .hasMessageContaining("'other-release'")
                .hasMessageContaining("announces no wire version")
                .hasMessageContaining("stopping every node");
        Poll.until("the refused member has left", 30_000, () -> old.getCluster().getMembers().size() == 1);
    }

    @Test
    void aMemberSharingNoVersionIsNotJoinedAndOneSharingOneIs() {
        int a = FreePorts.next();
        int b = FreePorts.next();
        int c = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + a, "127.0.0.1:" + b, "127.0.0.1:" + c);
        int beyond = WireVersion.RANGE.newest() + 1;
        HazelcastInstance future = otherRelease(a, members, beyond + "-" + (beyond + 1));

        assertThatThrownBy(() -> start(b, members))
                .isInstanceOf(WireMismatchException.class)
                .hasMessageContaining("reads and writes wire versions " + beyond + "-" + (beyond + 1))
                .hasMessageContaining("this node " + WireVersion.RANGE.encode());
        Poll.until("the refused member has left", 30_000, () -> future.getCluster().getMembers().size() == 1);
        future.shutdown();

        // a release that still reads this one's newest version: both serve, and this one writes its newest
        HazelcastInstance next = otherRelease(a, members, WireVersion.RANGE.newest() + "-" + beyond);
        ClusterNode node = start(c, members);
        assertThat(node.memberCount()).isEqualTo(2);
        assertThat(node.hazelcast().getCluster().getLocalMember().isLiteMember()).isFalse();
        assertThat(WireVersion.writing()).isEqualTo(WireVersion.RANGE.newest());
        next.getMap("probe").put("k", new ducke.core.cost.SessionSlots(Map.of("s", 1L)));
        assertThat(node.hazelcast().getMap("probe").get("k")).isEqualTo(new ducke.core.cost.SessionSlots(Map.of("s", 1L)));
    }
}
