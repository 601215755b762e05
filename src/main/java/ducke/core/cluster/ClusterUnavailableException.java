package ducke.core.cluster;

/**
 * The cluster could not answer a call in time (or at all): a member is frozen or gone, the call
 * missed its deadline, or this node is cut off from the cluster. Thrown by the grid adapters in
 * place of any grid failure, so that nothing outside them knows the grid's own exception types;
 * answered 503 {@code cluster_degraded} with {@code Retry-After}.
 *
 * <p>A call that missed its deadline is not cancelled: the grid may still apply it when the member
 * answers again, so callers must not assume it had no effect.
 */
public class ClusterUnavailableException extends RuntimeException {

    private final long retryAfterSeconds;

    /** @param retryAfterSeconds how long a client should wait before trying again, at least 1 */
    public ClusterUnavailableException(String message, long retryAfterSeconds, Throwable cause) {
        super(message, cause);
        this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
