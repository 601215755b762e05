package ducke.relay;

import ducke.core.drain.Drain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Drives this node's {@link Drain} over the sessions it relays: from the drain's start a thread of
 * its own waits — parked on a condition signalled whenever a session ends, a drain is requested
 * again or cut short, and at the deadline read from the injected clock — until no session is left,
 * or ends the rest ({@code node_shutdown}: tails charged, close 1012) at the timeout or when cut,
 * then runs what stops the node ({@link #whenDrained}). Sessions of the session API are not waited
 * for: they live in the grid and any other node answers their reports. Thread-safe.
 */
public final class NodeDrain {

    private static final Logger LOG = LoggerFactory.getLogger(NodeDrain.class);

    private final Drain drain;
    private final RelayRegistry registry;
    private final Clock clock;
    private final Duration endWait;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private long changes;
    private boolean waiting;
    private volatile Runnable whenDrained = () -> { };

    /**
     * @param endWait how long the sessions ended at the timeout may take to charge their last
     *                responses and record their ends
     */
    public NodeDrain(Drain drain, RelayRegistry registry, Clock clock, Duration endWait) {
        this.drain = drain;
        this.registry = registry;
        this.clock = clock;
        this.endWait = endWait;
        registry.onRemoved(this::nudge);
    }

    /** What stops the node once drained: the {@code server} command exits; embedded (tests) nothing. */
    public void whenDrained(Runnable action) {
        this.whenDrained = action;
    }

    /** Starts the drain (false when one had started: it is only asked to look again). */
    public boolean start(String by) {
        boolean started = drain.start(clock.millis());
        if (started) {
            Drain.Status s = drain.status();
            LOG.warn("Draining ({}): new sessions are refused (503 node_draining); {} relayed session(s) may go on until {}",
                    by, registry.size(), Instant.ofEpochMilli(s.deadlineMillis()));
        }
        ensureWaiting();
        nudge();
        return started;
    }

    /** Ends the drain now: the sessions still live are ended at once (a second SIGTERM). */
    public void cut(String by) {
        drain.cut(clock.millis());
        LOG.warn("Drain cut short ({}): ending {} relayed session(s) now", by, registry.size());
        ensureWaiting();
        nudge();
    }

    public boolean draining() {
        return drain.draining();
    }

    public Drain.Status status() {
        return drain.status();
    }

    public int liveSessions() {
        return registry.size();
    }

    /** Completes once the drain is over and {@link #whenDrained} has been called. */
    public CompletableFuture<Void> drained() {
        return drained;
    }

    private void nudge() {
        lock.lock();
        try {
            changes++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void ensureWaiting() {
        lock.lock();
        try {
            if (waiting) {
                return;
            }
            waiting = true;
        } finally {
            lock.unlock();
        }
        Thread t = new Thread(this::waitForSessions, "ducke-drain");
        t.setDaemon(true);
        t.start();
    }

    private void waitForSessions() {
        try {
            while (true) {
                long seen = changesSoFar();
                Drain.Step step = drain.next(clock.millis(), registry.size());
                switch (step.kind()) {
                    case WAIT -> park(seen, step.waitMillis());
                    case END_REST -> {
                        LOG.warn("Drain {}: ending {} relayed session(s) still live (node_shutdown, close 1012)",
                                step.cut() == Drain.Cut.TIMEOUT ? "timeout" : "cut short", registry.size());
                        registry.shutdown(endWait);
                    }
                    case STOP -> {
                        LOG.warn("Drained: no relayed session left; stopping the node");
                        whenDrained.run();
                        drained.complete(null);
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained.completeExceptionally(e);
        } catch (RuntimeException e) {
            LOG.error("The drain failed; the node keeps refusing new sessions", e);
            drained.completeExceptionally(e);
        }
    }

    private long changesSoFar() {
        lock.lock();
        try {
            return changes;
        } finally {
            lock.unlock();
        }
    }

    /** Parks until something changed since {@code seen} or {@code millis} have passed. */
    private void park(long seen, long millis) throws InterruptedException {
        lock.lock();
        try {
            long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
            while (changes == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
