package ducke.cluster;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SerializerConfig;
import ducke.config.CommaSeparatedListDeserializer;
import io.dropwizard.util.Duration;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The {@code hazelcast} block: how this node's embedded member is built and joins the cluster. */
public class HazelcastFactory {

    static final String RATE_BUCKETS_MAP = "ducke-rate-buckets";
    static final String ADMIN_EXECUTOR = "ducke-admin";
    static final String SESSIONS_MAP = "ducke-sessions";
    static final String SLOTS_MAP = "ducke-session-slots";
    static final String SPEND_MAP = "ducke-spend";
    static final String BREAKER_TOPIC = "ducke-breaker";
    static final String SESSION_ENDINGS_TOPIC = "ducke-session-endings";

    @NotBlank
    private String clusterName = "ducke";

    @Min(1)
    @Max(65535)
    private int port = 5701;

    private boolean portAutoIncrement = false;

    /** Other members as {@code host:port}; empty means this node is alone. TCP-IP join only. */
    @NotNull
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> members = new ArrayList<>();

    /** Interfaces (addresses or wildcards like {@code 10.0.*.*}) the member may bind to; empty = any. */
    @NotNull
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> interfaces = new ArrayList<>();

    /** Address other members should use to reach this one (behind NAT or in containers); empty = detected. */
    private String publicAddress = "";

    /** Synchronous backups of every grid entry: 1 survives the loss of any one node. */
    @Min(0)
    @Max(6)
    private int backupCount = 1;

    @NotNull
    private Duration waitBeforeJoin = Duration.seconds(1);

    @NotNull
    private Duration connectTimeout = Duration.seconds(5);

    /** Upper bound of rate buckets per node; idle buckets expire long before this is reached. */
    @Min(1000)
    private int maxBucketsPerNode = 1_000_000;

    public String getClusterName() { return clusterName; }
    public void setClusterName(String clusterName) { this.clusterName = clusterName; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public boolean isPortAutoIncrement() { return portAutoIncrement; }
    public void setPortAutoIncrement(boolean portAutoIncrement) { this.portAutoIncrement = portAutoIncrement; }
    public List<String> getMembers() { return members; }
    public void setMembers(List<String> members) { this.members = members; }
    public List<String> getInterfaces() { return interfaces; }
    public void setInterfaces(List<String> interfaces) { this.interfaces = interfaces; }
    public String getPublicAddress() { return publicAddress; }
    public void setPublicAddress(String publicAddress) { this.publicAddress = publicAddress; }
    public int getBackupCount() { return backupCount; }
    public void setBackupCount(int backupCount) { this.backupCount = backupCount; }
    public Duration getWaitBeforeJoin() { return waitBeforeJoin; }
    public void setWaitBeforeJoin(Duration waitBeforeJoin) { this.waitBeforeJoin = waitBeforeJoin; }
    public Duration getConnectTimeout() { return connectTimeout; }
    public void setConnectTimeout(Duration connectTimeout) { this.connectTimeout = connectTimeout; }
    public int getMaxBucketsPerNode() { return maxBucketsPerNode; }
    public void setMaxBucketsPerNode(int maxBucketsPerNode) { this.maxBucketsPerNode = maxBucketsPerNode; }

    /**
     * The member configuration: TCP-IP join only (multicast and auto-detection off), no shutdown
     * hook (the application stops the member), our serializers, and {@code userContext} handed to
     * tasks that run on this member.
     */
    public Config toConfig(String nodeName, Map<String, Object> userContext) {
        Config c = new Config();
        c.setClusterName(clusterName);
        c.setInstanceName(nodeName + "-" + port + "-" + System.identityHashCode(userContext));
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.wait.seconds.before.join", Long.toString(waitBeforeJoin.toSeconds()));
        c.getMemberAttributeConfig().setAttribute("ducke.node", nodeName);

        NetworkConfig net = c.getNetworkConfig();
        net.setPort(port).setPortAutoIncrement(portAutoIncrement);
        if (!publicAddress.isBlank()) {
            net.setPublicAddress(publicAddress);
        }
        if (!interfaces.isEmpty()) {
            net.getInterfaces().setEnabled(true).setInterfaces(interfaces);
        }
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true)
                .setMembers(new ArrayList<>(members))
                .setConnectionTimeoutSeconds((int) Math.max(1, connectTimeout.toSeconds()));

        c.addMapConfig(new MapConfig(RATE_BUCKETS_MAP)
                .setBackupCount(backupCount)
                .setAsyncBackupCount(0)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setPerEntryStatsEnabled(false)
                .setEvictionConfig(new EvictionConfig()
                        .setEvictionPolicy(EvictionPolicy.LRU)
                        .setMaxSizePolicy(MaxSizePolicy.PER_NODE)
                        .setSize(maxBucketsPerNode)));
        for (String map : new String[]{SESSIONS_MAP, SLOTS_MAP, SPEND_MAP}) {
            c.addMapConfig(new MapConfig(map).setBackupCount(backupCount).setAsyncBackupCount(0)
                    .setInMemoryFormat(InMemoryFormat.OBJECT).setPerEntryStatsEnabled(false));
        }
        c.addExecutorConfig(new ExecutorConfig(ADMIN_EXECUTOR).setPoolSize(2));

        c.getSerializationConfig().addDataSerializableFactory(GridSerializers.FACTORY_ID, new GridSerializers());
        c.getSerializationConfig().addSerializerConfig(new SerializerConfig()
                .setTypeClass(ducke.core.ratelimit.BucketState.class)
                .setImplementation(new GridSerializers.BucketStateSerializer()));
        c.getSerializationConfig().addSerializerConfig(new SerializerConfig()
                .setTypeClass(ducke.core.ratelimit.Decision.class)
                .setImplementation(new GridSerializers.DecisionSerializer()));
        serializer(c, ducke.core.cost.SessionLedger.class, new CostWire.LedgerSerializer());
        serializer(c, ducke.core.cost.SpendLedger.class, new CostWire.SpendSerializer());
        serializer(c, ducke.core.cost.SessionSlots.class, new CostWire.SlotsSerializer());
        serializer(c, ducke.core.cost.SessionRules.Charge.class, new CostWire.ChargeSerializer());
        serializer(c, ducke.core.cost.SessionStore.Ended.class, new CostWire.EndedSerializer());
        serializer(c, ducke.core.cost.SpendLedger.Charged.class, new CostWire.ChargedSerializer());
        serializer(c, ducke.core.cost.SpendLedger.Snapshot.class, new CostWire.SnapshotSerializer());
        c.setUserContext(new java.util.concurrent.ConcurrentHashMap<>(userContext));
        return c;
    }

    private static void serializer(Config c, Class<?> type, com.hazelcast.nio.serialization.Serializer s) {
        c.getSerializationConfig().addSerializerConfig(new SerializerConfig().setTypeClass(type).setImplementation(s));
    }
}
