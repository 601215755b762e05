package ducke.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ServerSocketEndpointConfig;
import ducke.core.cluster.ClusterHealth;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The member network built from the {@code hazelcast} block: how a node finds the others and what it binds. */
class GridNetworkTest {

    private static HazelcastFactory dns(String name) {
        HazelcastFactory f = new HazelcastFactory();
        f.setKubernetesServiceDns(name);
        f.setMinClusterSize(2);
        f.setPort(5801);
        return f;
    }

    private static Config build(HazelcastFactory f) {
        return f.toConfig("node-a", Map.of());
    }

    private static JoinConfig join(Config c) {
        return c.getAdvancedNetworkConfig().getJoin();
    }

    private static ServerSocketEndpointConfig member(Config c) {
        return (ServerSocketEndpointConfig) c.getAdvancedNetworkConfig().getEndpointConfigs().get(EndpointQualifier.MEMBER);
    }

    @Test
    void aDnsNameJoinsByHazelcastsKubernetesDnsLookupAndNoMemberList() {
        HazelcastFactory f = dns("ducke-grid.ducke.svc.cluster.local");
        f.setKubernetesServiceDnsTimeout(Duration.seconds(3));
        Config c = build(f);

        JoinConfig join = join(c);
        assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
        assertThat(join.getKubernetesConfig().getProperties())
                .containsEntry("service-dns", "ducke-grid.ducke.svc.cluster.local")
                .containsEntry("service-dns-timeout", "3")
                .containsEntry("service-port", "5801")
                .as("DNS mode: nothing that would call the Kubernetes API")
                .doesNotContainKeys("service-name", "service-label-name", "pod-label-name", "namespace", "kubernetes-master");
        assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
        assertThat(join.getMulticastConfig().isEnabled()).isFalse();
        assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
        join.verify(); // Hazelcast's own check: one join method only
    }

    @Test
    void withDnsDiscoveryTheMemberBindsOneInterfaceNotLoopbackAndNeverTheWildcard() {
        Config c = build(dns("ducke-grid"));

        assertThat(c.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
        assertThat(member(c).getPort()).isEqualTo(5801);
        assertThat(member(c).isPortAutoIncrement()).isFalse();
        assertThat(member(c).getInterfaces().isEnabled())
                .as("no interface named: Hazelcast takes the first non-loopback address, a pod's IP").isFalse();
        assertThat(member(c).getPublicAddress()).as("the bound address is the one others reach").isNull();
    }

    @Test
    void configuredInterfacesAndPublicAddressApplyWithDnsDiscoveryToo() {
        HazelcastFactory f = dns("ducke-grid");
        f.setInterfaces(List.of("10.244.1.7"));
        f.setPublicAddress("10.244.1.7:5801");
        Config c = build(f);

        assertThat(member(c).getInterfaces().isEnabled()).isTrue();
        assertThat(member(c).getInterfaces().getInterfaces()).containsExactly("10.244.1.7");
        assertThat(member(c).getPublicAddress()).isEqualTo("10.244.1.7:5801");
    }

    @Test
    void listedMembersStillJoinByTcpIpAndALoneNodeBindsLoopback() {
        HazelcastFactory listed = new HazelcastFactory();
        listed.setMembers(List.of("10.0.0.1:5701", "10.0.0.2:5701"));
        Config c = build(listed);
        assertThat(join(c).getTcpIpConfig().isEnabled()).isTrue();
        assertThat(join(c).getTcpIpConfig().getMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
        assertThat(join(c).getKubernetesConfig().isEnabled()).isFalse();
        assertThat(member(c).getInterfaces().isEnabled()).isFalse();

        Config alone = build(new HazelcastFactory());
        assertThat(join(alone).getKubernetesConfig().isEnabled()).isFalse();
        assertThat(member(alone).getInterfaces().getInterfaces()).containsExactly("127.0.0.1");
    }

    @Test
    void withDnsDiscoveryAQuorumOfTwoStaysTwoWhileThreeMembersRun() {
        HazelcastFactory f = dns("ducke-grid");
        assertThat(f.isClustered()).isTrue();
        assertThat(f.effectiveMinClusterSize()).isEqualTo(2);
        assertThat(f.expectedClusterSize()).isEqualTo(3);
        ClusterHealth health = new ClusterHealth(f.effectiveMinClusterSize(), f.expectedClusterSize(), 1, 10_000);
        assertThat(health.quorum()).as("the first pod alone").isFalse();

        health.membersSeen(3);
        health.membersSeen(2);
        assertThat(health.quorum()).as("two of three after a crash").isTrue();
        health.membersSeen(1);
        assertThat(health.quorum()).isFalse();
    }

    @Test
    void bothJoinMethodsOrADnsNameWithoutAQuorumAreInvalid() {
        HazelcastFactory both = dns("ducke-grid");
        both.setMembers(List.of("10.0.0.1:5701"));
        assertThat(both.isOneWayToFindMembers()).isFalse();
        assertThat(dns("ducke-grid").isOneWayToFindMembers()).isTrue();

        HazelcastFactory noQuorum = dns("ducke-grid");
        noQuorum.setMinClusterSize(0);
        assertThat(noQuorum.isQuorumSetForDnsDiscovery()).isFalse();
        assertThat(new HazelcastFactory().isQuorumSetForDnsDiscovery()).as("no DNS name, nothing to require").isTrue();
    }
}
