package ducke.cluster;

import com.hazelcast.core.HazelcastException;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cluster.QuorumLostException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Grid calls with a deadline: the one place where a request thread waits for the grid, and where
 * the grid's failures become {@link ClusterUnavailableException}. A call past its deadline is not
 * cancelled (the member that holds it applies it when it answers again); the waiting thread is
 * released at the deadline, whatever the grid does.
 */
final class GridCalls implements AutoCloseable {

    private final long timeoutMillis;
    /** Where calls that block (no asynchronous form in Hazelcast) run: the node's own threads, never the common pool. */
    private final BlockingPool blocking;
    private final long retryAfterSeconds;
    private final long noQuorumRetryAfterSeconds;

    /**
     * @param timeoutMillis the longest a caller waits for one grid call
     * @param blocking      the threads blocking calls run on (closed with this)
     */
    GridCalls(long timeoutMillis, BlockingPool blocking) {
        this(timeoutMillis, timeoutMillis, blocking);
    }

    /**
     * @param timeoutMillis           the longest a caller waits for one grid call
     * @param noQuorumRetryAfterMillis what a caller refused for want of a quorum is told to wait
     * @param blocking                 the threads blocking calls run on (closed with this)
     */
    GridCalls(long timeoutMillis, long noQuorumRetryAfterMillis, BlockingPool blocking) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("a grid call needs a positive deadline");
        }
        this.timeoutMillis = timeoutMillis;
        this.blocking = blocking;
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
     * Runs a call that blocks until the grid answers on the node's own threads for such calls, and
     * waits for it until the deadline like {@link #await}.
     *
     * @throws ClusterUnavailableException past the deadline, when the grid failed the call, or at
     *                                     once when every such thread and waiting slot is taken
     */
    <T> T awaitBlocking(String what, Supplier<T> call) {
        return awaitBlocking(what, call, blocking);
    }

    /** The same on {@code pool} (the operator's readers). */
    <T> T awaitBlocking(String what, Supplier<T> call, BlockingPool pool) {
        try {
            return await(what, () -> CompletableFuture.supplyAsync(call, pool));
        } catch (RejectedExecutionException e) {
            // this call would only queue behind calls the grid is still holding
            throw new ClusterUnavailableException("The cluster has not answered this node's earlier calls yet (every "
                    + pool.purpose() + " is still waiting for the grid) while " + what, 1, e);
        }
    }

    /** Ends the node's threads for blocking calls (a call still running is interrupted). */
    @Override
    public void close() {
        blocking.close();
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
