package ducke.core.cost;

import java.util.Locale;

/** Why a session ended; the audit trail and metrics use {@link #label()}. */
public enum EndReason {
    CLIENT_CLOSED, BUDGET_EXCEEDED, SESSION_TIMEOUT, CIRCUIT_BREAKER, ADMIN_ENDED, UPSTREAM_ERROR,
    NODE_SHUTDOWN, NODE_LOST, API_ENDED,
    /** Relayed by a node that lost the cluster's quorum: it stops new spending until the partition heals. */
    CLUSTER_DEGRADED,
    /** The client's rolling hour could not take the worst case of the session's next response. */
    CLIENT_BUDGET_EXCEEDED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static EndReason fromLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
