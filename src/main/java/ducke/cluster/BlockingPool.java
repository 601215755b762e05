package ducke.cluster;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node's own threads for grid calls that block until the grid answers (Hazelcast has no
 * asynchronous form of them): a few daemon threads that end when idle, and a short queue; a call
 * that finds both full is refused at once ({@link GridCalls#awaitBlocking}) rather than queued
 * behind calls a frozen member is holding. Never the common pool: a blocking call outlives its
 * caller's deadline (the caller is released, the thread is not), and on the common pool it would
 * delay everything else queued there, whatever the caller's deadline. Shut down with the node.
 */
final class BlockingPool implements Executor, AutoCloseable {

    /** The operator's whole-map reads: a console's refresh reads four maps, two consoles at once. */
    static final int OPERATOR_READ_THREADS = 4;
    /** Operator reads that may wait for a thread. */
    static final int OPERATOR_READ_QUEUE = 8;
    /**
     * Settings, rebuild and cap changes (a few, at start-up or on an operator's command) and the
     * session API's reservations (one compare-and-set per reservation, settle or release, each a grid
     * round trip: a busy backend's concurrent requests must not find the threads taken).
     */
    static final int GRID_CALL_THREADS = 16;
    /** Such calls that may wait for a thread. */
    static final int GRID_CALL_QUEUE = 256;

    private final ThreadPoolExecutor pool;
    private final String purpose;

    private BlockingPool(String purpose, String threadPrefix, int threads, int queue) {
        this.purpose = purpose;
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, threadPrefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
    }

    /** For the operator's reads of whole maps ({@link GridActivity}); threads {@code ducke-operator-read-<node>-N}. */
    static BlockingPool operatorReads(String nodeName) {
        return new BlockingPool("operator reader", "ducke-operator-read-" + nodeName + "-", OPERATOR_READ_THREADS,
                OPERATOR_READ_QUEUE);
    }

    /** For the node's other blocking grid calls; threads {@code ducke-grid-call-<node>-N}. */
    static BlockingPool gridCalls(String nodeName) {
        return new BlockingPool("thread for blocking grid calls", "ducke-grid-call-" + nodeName + "-", GRID_CALL_THREADS,
                GRID_CALL_QUEUE);
    }

    /** What one of its threads is, for refusals ("every operator reader is still waiting for the grid"). */
    String purpose() {
        return purpose;
    }

    @Override
    public void execute(Runnable command) {
        pool.execute(command);
    }

    /** Threads alive now (idle ones end after 30 s). */
    int threads() {
        return pool.getPoolSize();
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
