package ducke.cluster;

import com.hazelcast.cluster.ClusterState;
import com.hazelcast.config.Config;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.ClusterView;
import ducke.core.cluster.WireMismatchException;
import ducke.core.cost.AuditSink;
import ducke.core.cost.BreakerBroadcast;
import ducke.core.cost.ChargeBuffer;
import ducke.core.cost.CostGuard;
import ducke.core.cost.ReportAnswers;
import ducke.core.cost.SessionEndings;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionStore;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendStore;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimitStore;
import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * This node's embedded Hazelcast member and the adapters built on it. The member starts in the
 * constructor (before Jetty accepts requests) and leaves the cluster gracefully in {@link #stop()}.
 */
public final class ClusterNode implements Managed, ClusterView {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final HazelcastInstance hz;
    private final String nodeName;
    private final String clusterName;
    private final GridCalls calls;
    /** The operator's blocking whole-map reads run here, not on the common pool. */
    private final BlockingPool readers;
    private final ClusterHealth health;
    private final AuditOutbox outbox;

    private ClusterNode(HazelcastInstance hz, String nodeName, String clusterName, GridCalls calls, ClusterHealth health) {
        this.hz = hz;
        this.nodeName = nodeName;
        this.clusterName = clusterName;
        this.calls = calls;
        this.health = health;
        this.outbox = new AuditOutbox(hz, calls);
        this.readers = BlockingPool.operatorReads(nodeName);
    }

    /**
     * Starts a member and joins (or forms) the cluster; {@code denials} receive cluster-wide resets.
     *
     * @throws WireMismatchException when a member speaks a grid wire version this node cannot
     *                                   read (this member has left again)
     */
    public static ClusterNode start(HazelcastFactory factory, String nodeName, LocalDenials denials) {
        LOG.info("Node {} starting its grid member on port {} (cluster '{}', members {})", nodeName, factory.getPort(),
                factory.getClusterName(), factory.usesDnsDiscovery() ? "from DNS " + factory.getKubernetesServiceDns()
                        : factory.getMembers().isEmpty() ? "none: alone" : factory.getMembers());
        ClusterHealth health = new ClusterHealth(factory.effectiveMinClusterSize(), factory.expectedClusterSize(), 1,
                factory.getMergeNextRunDelay().toMilliseconds());
        Config config = factory.toConfig(nodeName, Map.of(ForgetDenialsTask.LOCAL_DENIALS, denials,
                DepartureTask.CLUSTER_HEALTH, health));
        QuorumWatch.prepare(config, health);
        JoinCheck.prepare(config);
        WireCheck.prepare(config);
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
        try {
            WireCheck.admit(hz);
            JoinCheck.admit(hz);
        } catch (RuntimeException e) {
            if (e instanceof WireMismatchException) {
                LOG.error(e.getMessage());
            }
            // still a lite member holding no data: a graceful leave is quick and tells the others at once
            hz.getLifecycleService().shutdown();
            throw e;
        }
        LOG.info("Node {} joined cluster '{}' with {} member(s) at {}; cost state needs {} member(s)", nodeName,
                factory.getClusterName(), hz.getCluster().getMembers().size(), hz.getCluster().getLocalMember().getAddress(),
                factory.effectiveMinClusterSize());
        QuorumWatch.start(hz, health, nodeName);
        return new ClusterNode(hz, nodeName, factory.getClusterName(),
                new GridCalls(factory.getCallTimeout().toMilliseconds(), health.retryAfterMillis(), BlockingPool.gridCalls(nodeName)),
                health);
    }

    /** Whether this node's part of the cluster holds the quorum cost state needs. */
    public ClusterHealth health() {
        return health;
    }

    /** Session ledgers and concurrent-session slots shared by the whole cluster; calls have the grid-call deadline. */
    public SessionStore sessionStore() {
        return new GridSessionStore(hz, calls);
    }

    /** The answers to keyed usage reports, for repeats on any node; calls have the grid-call deadline. */
    public ReportAnswers reportAnswers() {
        return new GridReportAnswers(hz, calls);
    }

    /** The cluster's spend ledger and circuit breaker; calls have the grid-call deadline. */
    public SpendStore spendStore() {
        return new GridSpendStore(hz, calls);
    }

    /** Each client's day and month budgets; calls have the grid-call deadline. */
    public ducke.core.cost.BudgetStore budgetStore() {
        return new GridBudgetStore(hz, calls);
    }

    /** Who rebuilds a new cluster's spend from the audit store, and where it goes; calls have the grid-call deadline. */
    public ducke.core.cost.StateRebuild.Store rebuildStore() {
        return new GridRebuildStore(hz, calls);
    }

    /** Announces breaker changes to every node, this one included. */
    public BreakerBroadcast breakerBroadcast() {
        ITopic<SpendLedger.Snapshot> topic = hz.getTopic(HazelcastFactory.BREAKER_TOPIC);
        return topic::publish;
    }

    /** Runs {@code onChange} for every breaker announcement, on a Hazelcast event thread. */
    public void onBreakerChange(Consumer<SpendLedger.Snapshot> onChange) {
        ITopic<SpendLedger.Snapshot> topic = hz.getTopic(HazelcastFactory.BREAKER_TOPIC);
        topic.addMessageListener(m -> onChange.accept(m.getMessageObject()));
    }

    /** Announces ended sessions that a member holds a connection for, to every node. */
    public SessionEndings sessionEndings() {
        ITopic<SessionLedger> topic = hz.getTopic(HazelcastFactory.SESSION_ENDINGS_TOPIC);
        return topic::publish;
    }

    /** Runs {@code onEnded} for every announced ending of a session this member holds. */
    public void onSessionEnded(Consumer<SessionLedger> onEnded) {
        ITopic<SessionLedger> topic = hz.getTopic(HazelcastFactory.SESSION_ENDINGS_TOPIC);
        // read per message: a member that merges after a partition gets a new id
        topic.addMessageListener(m -> {
            if (memberId().equals(m.getMessageObject().holder())) {
                onEnded.accept(m.getMessageObject());
            }
        });
    }

    /** Announces caps set on live sessions that a member holds a connection for, to every node. */
    public ducke.core.cost.SessionCaps sessionCaps() {
        ITopic<SessionLedger> topic = hz.getTopic(HazelcastFactory.SESSION_CAPS_TOPIC);
        return topic::publish;
    }

    /** Announces, to every node, a client whose budgets a backend set (its paused sessions may go on). */
    public Consumer<String> clientBudgetChanges() {
        ITopic<String> topic = hz.getTopic(HazelcastFactory.CLIENT_BUDGET_CHANGES_TOPIC);
        return clientId -> {
            try {
                topic.publish(clientId);
            } catch (RuntimeException e) {
                LOG.info("Budget change of client {} not announced: {}", clientId, e.toString());
            }
        };
    }

    /** Runs {@code onChanged} for every client whose budgets were set, on a Hazelcast event thread. */
    public void onClientBudgetChanged(Consumer<String> onChanged) {
        ITopic<String> topic = hz.getTopic(HazelcastFactory.CLIENT_BUDGET_CHANGES_TOPIC);
        topic.addMessageListener(m -> onChanged.accept(m.getMessageObject()));
    }

    /** Runs {@code onChanged} for every announced cap of a live session this member holds, on a Hazelcast event thread. */
    public void onSessionCapChanged(Consumer<SessionLedger> onChanged) {
        ITopic<SessionLedger> topic = hz.getTopic(HazelcastFactory.SESSION_CAPS_TOPIC);
        topic.addMessageListener(m -> {
            if (memberId().equals(m.getMessageObject().holder())) {
                onChanged.accept(m.getMessageObject());
            }
        });
    }

    /**
     * The sessions paused at their cap, in a grid map (session id → reason); writes do not wait,
     * a failed one is only logged (the entry lapses by itself), a read waits the grid-call deadline.
     */
    public ducke.core.cost.SessionPauses sessionPauses() {
        com.hazelcast.map.IMap<String, String> map = hz.getMap(HazelcastFactory.SESSION_PAUSES_MAP);
        return new ducke.core.cost.SessionPauses() {
            @Override
            public void paused(String sessionId, String reason, long ttlMillis) {
                try {
                    map.setAsync(sessionId, reason, Math.max(1, ttlMillis), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (RuntimeException e) {
                    LOG.info("Pause of session {} not recorded in the grid: {}", sessionId, e.toString());
                }
            }

            @Override
            public void resumed(String sessionId) {
                try {
                    map.deleteAsync(sessionId);
                } catch (RuntimeException e) {
                    LOG.info("Resume of session {} not recorded in the grid: {}", sessionId, e.toString());
                }
            }

            @Override
            public boolean paused(String sessionId) {
                return calls.await("reading a session's pause", () -> map.getAsync(sessionId)) != null;
            }
        };
    }

    /** The reaper of this node's share of the session ledgers, without checkpoints; manage it to run it. */
    public SessionReaper sessionReaper(CostGuard guard, AuditSink sink, Clock clock, long retentionMillis, long intervalMillis) {
        return sessionReaper(guard, sink, clock, retentionMillis, intervalMillis, 0);
    }

    /** The same, checkpointing live sessions to {@code sink} every {@code checkpointIntervalMillis} (0: never). */
    public SessionReaper sessionReaper(CostGuard guard, AuditSink sink, Clock clock, long retentionMillis, long intervalMillis,
                                       long checkpointIntervalMillis) {
        SessionReaper reaper = new SessionReaper(hz, guard, sink, outbox, clock, retentionMillis, intervalMillis, checkpointIntervalMillis);
        reaper.adoptWith(l -> adopter.test(l));
        return reaper;
    }

    /** Where charge rows wait in the grid for the audit store; this node's reaper writes its share. */
    public ChargeBuffer chargeBuffer() {
        return outbox;
    }

    /** The session API's open reservations, one entry per session; calls have the grid-call deadline. */
    public ducke.core.cost.ReservationStore reservationStore() {
        return new GridReservationStore(hz, calls);
    }

    /** The cluster's one settings document; calls have the grid-call deadline. */
    public ducke.core.settings.SettingsStore settingsStore() {
        return new GridSettingsStore(hz, calls);
    }

    private volatile java.util.function.Predicate<SessionLedger> adopter = l -> false;

    /**
     * What this node's reaper asks before it ends a session whose holding member left
     * ({@code node_lost}): true when this node took the session over (a WebRTC call whose sideband it
     * re-attaches), which then stays live.
     */
    public void adoptLostSessionsWith(java.util.function.Predicate<SessionLedger> adopter) {
        this.adopter = adopter;
    }

    /** Hands a live session held by {@code fromHolder} (a member that left) to this member; false when it was not so held. */
    public boolean takeOver(String sessionId, String fromHolder) {
        String self = memberId();
        return Boolean.TRUE.equals(calls.await("taking a session over",
                () -> hz.<String, SessionLedger>getMap(HazelcastFactory.SESSIONS_MAP)
                        .submitToKey(sessionId, new LedgerProcessors.Rehold(fromHolder, self))));
    }

    /** The operator's reads of the whole cluster's sessions, calls, pauses and spend; calls have the grid-call deadline. */
    public ducke.core.cost.ClusterActivity activity() {
        return new GridActivity(hz, calls, readers);
    }

    /** The cluster's live WebRTC calls (session id → the provider's call id). */
    public ducke.core.cluster.CallDirectory callDirectory() {
        return new GridCallDirectory(hz, calls);
    }

    /** Client-secret digests, shared by every member. */
    public ducke.core.auth.ClientSecrets.Store clientSecretStore() {
        return new GridClientSecrets(hz, calls);
    }

    /** This member's id in the cluster: the holder of the sessions whose connections it serves. */
    @Override
    public String memberId() {
        return hz.getCluster().getLocalMember().getUuid().toString();
    }

    /** Buckets shared by the whole cluster; a check that takes longer than {@code timeoutMillis} fails. */
    public RateLimitStore rateLimitStore(long timeoutMillis) {
        return new GridRateLimitStore(hz, timeoutMillis);
    }

    @Override
    public String nodeName() {
        return nodeName;
    }

    @Override
    public String clusterName() {
        return clusterName;
    }

    @Override
    public int memberCount() {
        return hz.getLifecycleService().isRunning() ? hz.getCluster().getMembers().size() : 0;
    }

    @Override
    public boolean healthy() {
        return hz.getLifecycleService().isRunning() && hz.getCluster().getClusterState() == ClusterState.ACTIVE;
    }

    @Override
    public boolean quorum() {
        // the grid's own protection follows membership events a moment after this node's view
        return health.quorum() && gridQuorum();
    }

    /** Whether the grid's split-brain protection of cost state is met on this member right now. */
    boolean gridQuorum() {
        if (hz.getConfig().getSplitBrainProtectionConfigs().get(HazelcastFactory.COST_QUORUM) == null) {
            return true; // a node alone (minimum size 1) has no protection to wait for
        }
        try {
            return hz.getSplitBrainProtectionService().getSplitBrainProtection(HazelcastFactory.COST_QUORUM).hasMinimumSize();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void start() {
        // the member is already running: it had to be, before resources were built on it
    }

    /** The member itself, for tests in this package that inspect the grid. */
    HazelcastInstance hazelcast() {
        return hz;
    }

    /** Drops out of the cluster at once, as a crashed node would: no migration, no goodbye. */
    void terminate() {
        hz.getLifecycleService().terminate();
    }

    /**
     * Leaves the cluster gracefully: tells every member first (so the cluster expects one member
     * less and keeps its quorum), then owned partitions migrate to the remaining members.
     */
    @Override
    public void stop() {
        readers.close();
        if (hz.getLifecycleService().isRunning()) {
            LOG.info("Node {} leaving cluster '{}'", nodeName, clusterName);
            announceDeparture();
            hz.getLifecycleService().shutdown();
        }
        calls.close();
    }

    /** Waits until every other member has heard (a member that left meanwhile need not). */
    private void announceDeparture() {
        if (hz.getCluster().getMembers().size() < 2) {
            return;
        }
        var told = hz.getExecutorService(HazelcastFactory.ADMIN_EXECUTOR).submitToAllMembers(new DepartureTask());
        for (var e : told.entrySet()) {
            try {
                e.getValue().get(5, TimeUnit.SECONDS);
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof MemberLeftException)) {
                    LOG.warn("Member {} did not hear that node {} is leaving; it may lose its quorum", e.getKey(), nodeName, ex);
                }
            } catch (TimeoutException | RuntimeException ex) {
                LOG.warn("Member {} did not hear that node {} is leaving; it may lose its quorum", e.getKey(), nodeName, ex);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
