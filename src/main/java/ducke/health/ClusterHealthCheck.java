package ducke.health;

import com.codahale.metrics.health.HealthCheck;
import ducke.core.cluster.ClusterView;

/**
 * Healthy while the embedded member runs in an active cluster and sees a quorum; says how many
 * members it sees.
 */
public final class ClusterHealthCheck extends HealthCheck {

    private final ClusterView cluster;

    public ClusterHealthCheck(ClusterView cluster) {
        this.cluster = cluster;
    }

    @Override
    protected Result check() {
        int members = cluster.memberCount();
        String message = "node " + cluster.nodeName() + " in cluster '" + cluster.clusterName() + "' with " + members + " member(s)";
        if (!cluster.healthy()) {
            return Result.unhealthy(message + ": cluster not active");
        }
        return cluster.quorum() ? Result.healthy(message)
                : Result.unhealthy(message + ": no quorum; new sessions are refused and charges journaled");
    }
}
