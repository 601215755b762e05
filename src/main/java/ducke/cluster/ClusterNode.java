package ducke.cluster;

import com.hazelcast.cluster.ClusterState;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import ducke.core.cluster.ClusterView;
import ducke.core.cost.AuditSink;
import ducke.core.cost.BreakerBroadcast;
import ducke.core.cost.CostGuard;
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

    private ClusterNode(HazelcastInstance hz, String nodeName, String clusterName) {
        this.hz = hz;
        this.nodeName = nodeName;
        this.clusterName = clusterName;
    }

    /** Starts a member and joins (or forms) the cluster; {@code denials} receive cluster-wide resets. */
    public static ClusterNode start(HazelcastFactory factory, String nodeName, LocalDenials denials) {
        LOG.info("Node {} starting its grid member on port {} (cluster '{}', members {})", nodeName, factory.getPort(),
                factory.getClusterName(), factory.getMembers().isEmpty() ? "none: alone" : factory.getMembers());
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(
                factory.toConfig(nodeName, Map.of(ForgetDenialsTask.LOCAL_DENIALS, denials)));
        LOG.info("Node {} joined cluster '{}' with {} member(s)", nodeName, factory.getClusterName(),
                hz.getCluster().getMembers().size());
        return new ClusterNode(hz, nodeName, factory.getClusterName());
    }

    /** Session ledgers and concurrent-session slots shared by the whole cluster. */
    public SessionStore sessionStore() {
        return new GridSessionStore(hz);
    }

    /** The cluster's spend ledger and circuit breaker. */
    public SpendStore spendStore() {
        return new GridSpendStore(hz);
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
        String me = memberId();
        topic.addMessageListener(m -> {
            if (me.equals(m.getMessageObject().holder())) {
                onEnded.accept(m.getMessageObject());
            }
        });
    }

    /** The reaper of this node's share of the session ledgers; manage it to run it. */
    public SessionReaper sessionReaper(CostGuard guard, AuditSink sink, Clock clock, long retentionMillis, long intervalMillis) {
        return new SessionReaper(hz, guard, sink, clock, retentionMillis, intervalMillis);
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

    /** Leaves the cluster gracefully: owned partitions migrate to the remaining members first. */
    @Override
    public void stop() {
        if (hz.getLifecycleService().isRunning()) {
            LOG.info("Node {} leaving cluster '{}'", nodeName, clusterName);
            hz.getLifecycleService().shutdown();
        }
    }
}
