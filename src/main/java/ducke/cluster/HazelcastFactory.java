package ducke.cluster;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import ducke.core.cluster.ClusterHealth;
import ducke.config.CommaSeparatedListDeserializer;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code hazelcast} block: how this node's embedded member is built and joins the cluster. */
public class HazelcastFactory {

    static final String RATE_BUCKETS_MAP = "ducke-rate-buckets";
    static final String ADMIN_EXECUTOR = "ducke-admin";
    static final String SESSIONS_MAP = "ducke-sessions";
    static final String SLOTS_MAP = "ducke-session-slots";
    static final String SPEND_MAP = "ducke-spend";
    static final String CLIENT_SPEND_MAP = "ducke-client-spend";
    static final String CLIENT_BUDGETS_MAP = "ducke-client-budgets";
    /** Who rebuilds a new cluster's spend from the audit store, and whether it is done ({@link GridRebuildStore}). */
    static final String REBUILD_MAP = "ducke-rebuild";
    /** The audit's outbox ({@link AuditOutbox}): final records and charge rows not yet written; no quorum needed. */
    static final String AUDIT_RECORDS_MAP = "ducke-audit-records";
    static final String AUDIT_CHARGES_MAP = "ducke-audit-charges";
    static final String BREAKER_TOPIC = "ducke-breaker";
    /** The cluster's settings document ({@link GridSettingsStore}): one entry, on every member where it can be. */
    static final String SETTINGS_MAP = "ducke-settings";
    static final String SESSION_ENDINGS_TOPIC = "ducke-session-endings";
    /** Caps set on live sessions ({@code PATCH /v1/sessions/{id}}), for the node holding each. */
    static final String SESSION_CAPS_TOPIC = "ducke-session-caps";
    static final String CLIENT_BUDGET_CHANGES_TOPIC = "ducke-client-budget-changes";
    /** Sessions paused at their cap: session id → the reason, written by the node holding each. */
    static final String SESSION_PAUSES_MAP = "ducke-session-pauses";
    /** The split-brain protection every cost map refers to. */
    static final String COST_QUORUM = "ducke-cost-quorum";

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

    /**
     * DNS name whose addresses are the members (a Kubernetes headless service, e.g.
     * {@code ducke-grid.ducke.svc.cluster.local}), looked up at join and merge; Hazelcast's Kubernetes
     * discovery in DNS mode, which needs no API permissions. An alternative to {@code members}, never both.
     */
    @NotNull
    private String kubernetesServiceDns = "";

    /** How long a lookup of {@code kubernetesServiceDns} may take before this node starts alone (whole seconds). */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration kubernetesServiceDnsTimeout = Duration.seconds(5);

    /**
     * Interfaces (addresses or wildcards like {@code 10.0.*.*}) the member may bind to; empty = loopback
     * when no other member is listed nor looked up, else the local address that matches a listed member
     * or, with DNS discovery, the first non-loopback address (a pod's IP).
     */
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

    /**
     * Deadline of every grid call a request waits for (session start, usage, end, reads): past it
     * the request is answered 503 {@code cluster_degraded} instead of waiting for a frozen member.
     */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.MILLISECONDS)
    private Duration callTimeout = Duration.seconds(2);

    /** Upper bound of rate buckets per node; idle buckets expire long before this is reached. */
    @Min(1000)
    private int maxBucketsPerNode = 1_000_000;

    /**
     * Members a part of the cluster needs to change cost state; 0 = a majority of {@code members}
     * (which should list every member, this one included), or 1 when none are listed.
     */
    @Min(0)
    @Max(1000)
    private int minClusterSize = 0;

    /** How often members tell each other they are alive. */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration heartbeatInterval = Duration.seconds(2);

    /** Silence after which a member is taken for lost (Hazelcast's default: 60 s). */
    @NotNull
    @MinDuration(value = 2, unit = TimeUnit.SECONDS)
    private Duration maxNoHeartbeat = Duration.seconds(12);

    /** When, after start, a member first looks for another half of a split cluster (default: 300 s). */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration mergeFirstRunDelay = Duration.seconds(10);

    /** How often it looks again (default: 120 s); a healed partition merges within about this. */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration mergeNextRunDelay = Duration.seconds(10);

    public String getClusterName() { return clusterName; }
    public void setClusterName(String clusterName) { this.clusterName = clusterName; }
    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }
    public boolean isPortAutoIncrement() { return portAutoIncrement; }
    public void setPortAutoIncrement(boolean portAutoIncrement) { this.portAutoIncrement = portAutoIncrement; }
    public List<String> getMembers() { return members; }
    public void setMembers(List<String> members) { this.members = members; }
    public String getKubernetesServiceDns() { return kubernetesServiceDns; }
    public void setKubernetesServiceDns(String v) { this.kubernetesServiceDns = v == null ? "" : v.strip(); }
    public Duration getKubernetesServiceDnsTimeout() { return kubernetesServiceDnsTimeout; }
    public void setKubernetesServiceDnsTimeout(Duration v) { this.kubernetesServiceDnsTimeout = v; }
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
    public Duration getCallTimeout() { return callTimeout; }
    public void setCallTimeout(Duration callTimeout) { this.callTimeout = callTimeout; }
    public int getMaxBucketsPerNode() { return maxBucketsPerNode; }
    public void setMaxBucketsPerNode(int maxBucketsPerNode) { this.maxBucketsPerNode = maxBucketsPerNode; }
    public int getMinClusterSize() { return minClusterSize; }
    public void setMinClusterSize(int minClusterSize) { this.minClusterSize = minClusterSize; }
    public Duration getHeartbeatInterval() { return heartbeatInterval; }
    public void setHeartbeatInterval(Duration v) { this.heartbeatInterval = v; }
    public Duration getMaxNoHeartbeat() { return maxNoHeartbeat; }
    public void setMaxNoHeartbeat(Duration v) { this.maxNoHeartbeat = v; }
    public Duration getMergeFirstRunDelay() { return mergeFirstRunDelay; }
    public void setMergeFirstRunDelay(Duration v) { this.mergeFirstRunDelay = v; }
    public Duration getMergeNextRunDelay() { return mergeNextRunDelay; }
    public void setMergeNextRunDelay(Duration v) { this.mergeNextRunDelay = v; }

    /** Whether other members are looked up by DNS ({@code kubernetesServiceDns}) rather than listed. */
    public boolean usesDnsDiscovery() {
        return !kubernetesServiceDns.isEmpty();
    }

    /** Whether this node expects other members: listed, or looked up by DNS. */
    public boolean isClustered() {
        return !members.isEmpty() || usesDnsDiscovery();
    }

    /** The quorum in members: {@code minClusterSize}, or a majority of the listed members. */
    public int effectiveMinClusterSize() {
        return minClusterSize > 0 ? minClusterSize : ClusterHealth.majorityOf(members.size());
    }

    /**
     * Members the cluster is made of, which the quorum is a share of: the listed members; with DNS
     * discovery, which lists none, the smallest cluster of which {@code minClusterSize} is a majority
     * (2 → 3, 3 → 5), so that a quorum of 2 stays 2 while three members run.
     */
    public int expectedClusterSize() {
        return usesDnsDiscovery() ? Math.max(1, 2 * minClusterSize - 1) : members.size();
    }

    @ValidationMethod(message = "hazelcast.kubernetesServiceDns and HAZELCAST_MEMBERS (hazelcast.members) are both set: "
            + "a node finds the other members either in a list or by a DNS name, not both. Unset one of them")
    @JsonIgnore
    public boolean isOneWayToFindMembers() {
        return members.isEmpty() || !usesDnsDiscovery();
    }

    @ValidationMethod(message = "hazelcast.kubernetesServiceDns needs HAZELCAST_MIN_CLUSTER_SIZE (hazelcast.minClusterSize), "
            + "the members cost state needs: a majority of the replicas (2 of 3), as no member list tells it")
    @JsonIgnore
    public boolean isQuorumSetForDnsDiscovery() {
        return !usesDnsDiscovery() || minClusterSize > 0;
    }

    /**
     * The member configuration: the network of {@link GridNetwork} (member protocol only, bound to
     * named interfaces, TCP-IP or DNS join), no shutdown hook (the application stops the member), our
     * serializers, and {@code userContext} handed to tasks that run on this member.
     */
    public Config toConfig(String nodeName, Map<String, Object> userContext) {
        Config c = new Config();
        c.setClusterName(clusterName);
        c.setInstanceName(nodeName + "-" + port + "-" + System.identityHashCode(userContext));
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.wait.seconds.before.join", Long.toString(waitBeforeJoin.toSeconds()));
        c.getMemberAttributeConfig().setAttribute(JoinCheck.NODE_ATTRIBUTE, nodeName);

        GridNetwork.apply(c, this);

        c.addMapConfig(new MapConfig(RATE_BUCKETS_MAP)
                .setBackupCount(backupCount)
                .setAsyncBackupCount(0)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setPerEntryStatsEnabled(false)
                .setEvictionConfig(new EvictionConfig()
                        .setEvictionPolicy(EvictionPolicy.LRU)
                        .setMaxSizePolicy(MaxSizePolicy.PER_NODE)
                        .setSize(maxBucketsPerNode)));
        for (String map : new String[]{SESSIONS_MAP, SLOTS_MAP, SPEND_MAP, CLIENT_SPEND_MAP, CLIENT_BUDGETS_MAP}) {
            c.addMapConfig(new MapConfig(map).setBackupCount(backupCount).setAsyncBackupCount(0)
                    .setInMemoryFormat(InMemoryFormat.OBJECT).setPerEntryStatsEnabled(false));
        }
        // answers to keyed usage reports: as safe as the ledgers that decide them, without a quorum of their own
        c.addMapConfig(new MapConfig(GridReportAnswers.MAP).setBackupCount(backupCount).setAsyncBackupCount(0));
        for (String map : new String[]{AUDIT_RECORDS_MAP, AUDIT_CHARGES_MAP}) {
            c.addMapConfig(new MapConfig(map).setBackupCount(backupCount).setAsyncBackupCount(0)
                    .setInMemoryFormat(InMemoryFormat.OBJECT).setPerEntryStatsEnabled(false));
        }
        // which sessions are paused at their cap: best effort, entries lapse by themselves
        c.addMapConfig(new MapConfig(SESSION_PAUSES_MAP).setBackupCount(backupCount).setAsyncBackupCount(0));
        // the session API's open reservations: as safe as the ledgers they are charged to
        c.addMapConfig(new MapConfig(GridReservationStore.MAP).setBackupCount(backupCount).setAsyncBackupCount(0));
        // binary format: replace(key, old, new) compares the stored bytes
        c.addMapConfig(new MapConfig(SETTINGS_MAP).setBackupCount(Math.max(1, backupCount)).setAsyncBackupCount(0)
                .setInMemoryFormat(InMemoryFormat.BINARY));
        c.addExecutorConfig(new ExecutorConfig(ADMIN_EXECUTOR).setPoolSize(2));
        partitionSettings(c);

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
        serializer(c, ducke.core.cost.ClientSpend.class, new ClientSpendGrid.ClientSpendSerializer());
        serializer(c, ducke.core.cost.ClientSpend.Snapshot.class, new ClientSpendGrid.ClientSnapshotSerializer());
        serializer(c, ducke.core.cost.ClientBudget.class, new ClientBudgetGrid.ClientBudgetSerializer());
        serializer(c, ducke.core.cost.SessionRecord.class, new AuditWire.SessionRecordSerializer());
        serializer(c, ducke.core.cost.ChargeRecord.class, new AuditWire.ChargeRecordSerializer());
        c.setUserContext(new java.util.concurrent.ConcurrentHashMap<>(userContext));
        return c;
    }

    /**
     * What a network partition does to cost state (see docs/cluster.md): the cost maps need a
     * quorum of {@link #effectiveMinClusterSize()} members for reads and writes, merge with the
     * core's merge functions when the halves heal, and a lost member is noticed, and a healed
     * split merged, within seconds rather than Hazelcast's minutes. Rate buckets need no quorum.
     */
    private void partitionSettings(Config c) {
        c.setProperty("hazelcast.heartbeat.interval.seconds", Long.toString(heartbeatInterval.toSeconds()));
        c.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(maxNoHeartbeat.toSeconds()));
        c.setProperty("hazelcast.merge.first.run.delay.seconds", Long.toString(mergeFirstRunDelay.toSeconds()));
        c.setProperty("hazelcast.merge.next.run.delay.seconds", Long.toString(mergeNextRunDelay.toSeconds()));
        // a quorum of one is always there: no protection, which would refuse calls until its first check
        boolean protect = effectiveMinClusterSize() > 1;
        if (protect) {
            c.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(COST_QUORUM, true, effectiveMinClusterSize())
                    .setProtectOn(SplitBrainProtectionOn.READ_WRITE));
        }
        costMap(c, SESSIONS_MAP, CostMergePolicy.Ledgers.class, protect);
        costMap(c, SLOTS_MAP, CostMergePolicy.Slots.class, protect);
        costMap(c, SPEND_MAP, CostMergePolicy.Spend.class, protect);
        costMap(c, CLIENT_SPEND_MAP, CostMergePolicy.ClientSpends.class, protect);
        costMap(c, CLIENT_BUDGETS_MAP, CostMergePolicy.ClientBudgets.class, protect);
        if (protect) {
            c.getMapConfig(GridReservationStore.MAP).setSplitBrainProtectionName(COST_QUORUM);
        }
        MapConfig rebuild = c.getMapConfig(REBUILD_MAP).setBackupCount(backupCount).setAsyncBackupCount(0);
        if (protect) {
            rebuild.setSplitBrainProtectionName(COST_QUORUM);
        }
    }

    private static void costMap(Config c, String name, Class<? extends CostMergePolicy<?>> policy, boolean protect) {
        MapConfig map = c.getMapConfig(name)
                .setMergePolicyConfig(new MergePolicyConfig(policy.getName(), MergePolicyConfig.DEFAULT_BATCH_SIZE));
        if (protect) {
            map.setSplitBrainProtectionName(COST_QUORUM);
        }
    }

    private static void serializer(Config c, Class<?> type, com.hazelcast.nio.serialization.Serializer s) {
        c.getSerializationConfig().addSerializerConfig(new SerializerConfig().setTypeClass(type).setImplementation(s));
    }
}
