package ducke.cluster;

import com.hazelcast.core.HazelcastException;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cluster.QuorumLostException;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Grid calls with a deadline: the one place where a request thread waits for the grid, and where
 * the grid's failures become {@link ClusterUnavailableException}. A call past its deadline is not
 * cancelled (the member that holds it applies it when it answers again); the waiting thread is
 * released at the deadline, whatever the grid does.
 */
final class GridCalls {

    private final long timeoutMillis;
    private final long retryAfterSeconds;
    private final long noQuorumRetryAfterSeconds;

    /** @param timeoutMillis the longest a caller waits for one grid call */
    GridCalls(long timeoutMillis) {
        this(timeoutMillis, timeoutMillis);
    }

    /**
     * @param timeoutMillis           the longest a caller waits for one grid call
     * @param noQuorumRetryAfterMillis what a caller refused for want of a quorum is told to wait
     */
    GridCalls(long timeoutMillis, long noQuorumRetryAfterMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("a grid call needs a positive deadline");
        }
        this.timeoutMillis = timeoutMillis;
        this.retryAfterSeconds = Math.max(1, (timeoutMillis + 999) / 1000);
        this.noQuorumRetryAfterSeconds = Math.max(1, (noQuorumRetryAfterMillis + 999) / 1000);
    }

    long timeoutMillis() {
        return timeoutMillis;
    }

    /**
     * Starts the call and waits for its answer until the deadline.
     *
     * @param what what the call does, for the message ("charging a session")
     * @throws ClusterUnavailableException past the deadline, or when the grid failed the call
     */
    <T> T await(String what, Supplier<? extends CompletionStage<T>> call) {
        try {
            return call.get().toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw unavailable("did not answer within " + timeoutMillis + " ms while " + what
                    + "; the call may still take effect when the cluster answers", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("call was interrupted while " + what, e);
        } catch (ExecutionException e) {
            throw translate(what, e.getCause() == null ? e : e.getCause());
        } catch (HazelcastException | HazelcastInstanceNotActiveException e) {
            // thrown before the call left: the member is shutting down or not (yet) part of a cluster
            throw translate(what, e);
        }
    }

    /**
     * Grid failures become unavailability (a refusal for want of a quorum: {@link QuorumLostException},
     * which changed nothing); anything else (a bug in our own code) stays what it is.
     */
    private RuntimeException translate(String what, Throwable cause) {
        if (cause instanceof SplitBrainProtectionException) {
            return new QuorumLostException("This node cannot reach a quorum of the cluster (" + what
                    + "); cost state changes here again when the partition heals", noQuorumRetryAfterSeconds);
        }
        if (cause instanceof HazelcastException || cause instanceof HazelcastInstanceNotActiveException) {
            return unavailable("failed while " + what + " (" + cause.getClass().getSimpleName() + ")", cause);
        }
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        return unavailable("failed while " + what, cause);
    }

    private ClusterUnavailableException unavailable(String detail, Throwable cause) {
        return new ClusterUnavailableException("The cluster " + detail, retryAfterSeconds, cause);
    }
}
