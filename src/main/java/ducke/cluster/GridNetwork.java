package ducke.cluster;

import com.hazelcast.config.AdvancedNetworkConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ServerSocketEndpointConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * A grid only members can reach: one server socket, for the member protocol only (no client,
 * REST or memcache endpoint), bound to the configured interfaces and never to the wildcard
 * address; a node without other members binds loopback. Members are listed (TCP-IP join) or
 * looked up by a DNS name (Hazelcast's Kubernetes discovery in DNS mode), never both. Java
 * deserialization accepts only this service's classes besides the JDK's and Hazelcast's own
 * (which carry Hazelcast's exceptions).
 */
final class GridNetwork {

    static final String LOOPBACK = "127.0.0.1";

    /** Class-name prefixes Java deserialization accepts on top of Hazelcast's defaults (com.hazelcast., java, arrays). */
    static final String OWN_CLASSES = "ducke.";

    private GridNetwork() {
    }

    static void apply(Config c, HazelcastFactory f) {
        c.setProperty("hazelcast.socket.bind.any", "false");
        AdvancedNetworkConfig net = c.getAdvancedNetworkConfig().setEnabled(true);
        ServerSocketEndpointConfig member = new ServerSocketEndpointConfig();
        member.setPort(f.getPort()).setPortAutoIncrement(f.isPortAutoIncrement());
        if (!f.getPublicAddress().isBlank()) {
            member.setPublicAddress(f.getPublicAddress());
        }
        List<String> interfaces = interfaces(f);
        if (!interfaces.isEmpty()) {
            member.getInterfaces().setEnabled(true).setInterfaces(interfaces);
        }
        net.setMemberEndpointConfig(member);

        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (f.usesDnsDiscovery()) {
            // every member listens on the same grid port, so the addresses of the name are enough
            join.getTcpIpConfig().setEnabled(false);
            join.getKubernetesConfig().setEnabled(true)
                    .setProperty("service-dns", f.getKubernetesServiceDns())
                    .setProperty("service-dns-timeout", Long.toString(Math.max(1, f.getKubernetesServiceDnsTimeout().toSeconds())))
                    .setProperty("service-port", Integer.toString(f.getPort()));
        } else {
            join.getTcpIpConfig().setEnabled(true)
                    .setMembers(new ArrayList<>(f.getMembers()))
                    .setConnectionTimeoutSeconds((int) Math.max(1, f.getConnectTimeout().toSeconds()));
        }

        JavaSerializationFilterConfig filter = new JavaSerializationFilterConfig();
        filter.getWhitelist().addPrefixes(OWN_CLASSES);
        c.getSerializationConfig().setJavaSerializationFilterConfig(filter);
    }

    /**
     * The interfaces the member may bind: the configured ones; loopback for a node that neither
     * lists nor looks up other members; otherwise none named, and Hazelcast binds the one local
     * address that matches a listed member or, with DNS discovery, the first non-loopback address
     * (in a pod: the pod's IP). Still a single address, never the wildcard.
     */
    static List<String> interfaces(HazelcastFactory f) {
        if (!f.getInterfaces().isEmpty()) {
            return List.copyOf(f.getInterfaces());
        }
        return f.isClustered() ? List.of() : List.of(LOOPBACK);
    }
}
