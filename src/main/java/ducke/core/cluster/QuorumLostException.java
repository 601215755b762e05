package ducke.core.cluster;

/**
 * Cost state was not read or changed because this node's part of the cluster has no quorum
 * (a network partition, or too many members gone). Unlike a missed deadline, the refused call
 * changed nothing, so it may be kept and applied later exactly once.
 */
public final class QuorumLostException extends ClusterUnavailableException {

    public QuorumLostException(String message, long retryAfterSeconds) {
        super(message, retryAfterSeconds, null);
    }
}
