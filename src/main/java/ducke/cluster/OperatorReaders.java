package ducke.cluster;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's pool for the operator's blocking reads of whole grid maps ({@link GridActivity}): a
 * few daemon threads that end when idle, and a short queue; a read that finds both full is refused
 * at once rather than queued behind reads a frozen member is holding. Shut down with the node.
 */
final class OperatorReaders implements Executor, AutoCloseable {

    /** Threads: a console's refresh reads four maps, two consoles at once. */
    static final int THREADS = 4;
    /** Reads that may wait for a thread. */
    static final int QUEUE = 8;

    private final ThreadPoolExecutor pool;

    OperatorReaders(String nodeName) {
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "ducke-operator-read-" + nodeName + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
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
