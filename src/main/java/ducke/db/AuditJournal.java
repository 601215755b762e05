package ducke.db;

import ducke.core.cost.Money;
import ducke.core.cost.SpendLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Records admin actions and breaker changes, off the request path: entries wait in a bounded
 * queue on this node and are written in order, retried while the database is unavailable.
 * When the queue is full the oldest entry is dropped and logged.
 */
public final class AuditJournal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditJournal.class);
    private static final int CAPACITY = 10_000;

    private final AuditDao dao;
    private final Clock clock;
    private final String node;
    private final BlockingQueue<Runnable> pending = new ArrayBlockingQueue<>(CAPACITY);
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ducke-audit-journal");
        t.setDaemon(true);
        return t;
    });

    public AuditJournal(AuditDao dao, Clock clock, String node) {
        this.dao = dao;
        this.clock = clock;
        this.node = node;
        writer.scheduleWithFixedDelay(this::drain, 200, 500, TimeUnit.MILLISECONDS);
    }

    public void adminAction(String task, String parameters, String result) {
        long at = clock.millis();
        offer(() -> dao.adminAction(task, parameters, node, at, result));
    }

    public void breakerChange(SpendLedger.Snapshot s, String cause) {
        long at = clock.millis();
        boolean open = s.breakerOpenAt(at);
        long openedAt = open ? s.breakerOpenedAtMillis() : 0;
        long closesAt = open ? s.breakerClosesAtMillis() : 0;
        offer(() -> dao.breakerChange(at, open ? "open" : "closed", Money.usd(s.breakerNanoUsd()), cause, node, openedAt, closesAt));
    }

    /** Entries not written yet. */
    public int backlog() {
        return pending.size();
    }

    private void offer(Runnable entry) {
        while (!pending.offer(entry)) {
            pending.poll();
            LOG.warn("Audit journal full; dropped its oldest entry");
        }
        writer.execute(this::drain);
    }

    private synchronized void drain() {
        Runnable next;
        while ((next = pending.peek()) != null) {
            try {
                next.run();
            } catch (RuntimeException e) {
                return;
            }
            pending.poll();
        }
    }

    @Override
    public void close() {
        drain();
        writer.shutdown();
    }
}
