package ducke.db;

import ducke.core.cost.AuditSink;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.SessionRecord;

import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The durable audit sink: writes final records (and checkpoints of live sessions as open rows) in
 * batches, idempotently on the session id. While
 * the database fails, attempts back off exponentially (up to {@code maxRetryMillis}); the records
 * meanwhile stay in the grid where the reaper keeps them, so nothing is lost and nothing is
 * written twice. Never called on a request path.
 */
public final class JdbiAuditSink implements AuditSink {

    /** Thrown instead of touching the database while backing off. */
    static final class BackingOff extends Exception {
        BackingOff(long untilMillis) {
            super("audit database unavailable; next attempt at " + java.time.Instant.ofEpochMilli(untilMillis));
        }
    }

    /** Open rows looked at per call when closing those of lost sessions. */
    static final int OPEN_ROWS_PER_CALL = 1000;

    private final AuditDao dao;
    private final Clock clock;
    private final int batchSize;
    private final long maxRetryMillis;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong chargesWritten = new AtomicLong();
    private volatile long nextAttemptMillis;
    private volatile long retryMillis;
    private volatile boolean up = true;
    private volatile String lastError = "";

    public JdbiAuditSink(AuditDao dao, Clock clock, int batchSize, long maxRetryMillis) {
        this.dao = dao;
        this.clock = clock;
        this.batchSize = batchSize;
        this.maxRetryMillis = maxRetryMillis;
    }

    @Override
    public void write(List<SessionRecord> records) throws Exception {
        attempt(now -> insertAll(records, now), false);
    }

    @Override
    public void writeFinal(List<SessionRecord> records) throws Exception {
        attempt(now -> insertAll(records, now), true);
    }

    private void insertAll(List<SessionRecord> records, long now) {
        for (int from = 0; from < records.size(); from += batchSize) {
            written.addAndGet(dao.insert(records.subList(from, Math.min(records.size(), from + batchSize)), now));
        }
    }

    @Override
    public void writeCharges(List<ChargeRecord> charges) throws Exception {
        attempt(now -> insertCharges(charges, now), false);
    }

    @Override
    public void writeChargesFinal(List<ChargeRecord> charges) throws Exception {
        attempt(now -> insertCharges(charges, now), true);
    }

    private void insertCharges(List<ChargeRecord> charges, long now) {
        for (int from = 0; from < charges.size(); from += batchSize) {
            chargesWritten.addAndGet(dao.insertCharges(charges.subList(from, Math.min(charges.size(), from + batchSize)), now));
        }
    }

    @Override
    public void checkpoint(List<SessionRecord> live) throws Exception {
        attempt(now -> {
            for (int from = 0; from < live.size(); from += batchSize) {
                dao.checkpoint(live.subList(from, Math.min(live.size(), from + batchSize)), now);
            }
        }, false);
    }

    @Override
    public List<String> openSessions() throws Exception {
        List<String> open = new java.util.ArrayList<>();
        attempt(now -> open.addAll(dao.openSessions(OPEN_ROWS_PER_CALL)), false);
        return open;
    }

    @Override
    public int closeLost(Collection<String> sessionIds) throws Exception {
        int[] closed = new int[1];
        attempt(now -> closed[0] = dao.closeOpen(sessionIds), false);
        return closed[0];
    }

    /** One database call with the sink's back-off; {@code now} is the time of recording. */
    private void attempt(java.util.function.LongConsumer call, boolean evenWhileBackingOff) throws Exception {
        long now = clock.millis();
        if (!evenWhileBackingOff && now < nextAttemptMillis) {
            throw new BackingOff(nextAttemptMillis);
        }
        try {
            call.accept(now);
            up = true;
            retryMillis = 0;
            nextAttemptMillis = 0;
        } catch (RuntimeException e) {
            up = false;
            lastError = String.valueOf(e.getMessage());
            retryMillis = Math.min(maxRetryMillis, retryMillis == 0 ? 500 : retryMillis * 2);
            nextAttemptMillis = now + retryMillis;
            throw e;
        }
    }

    /** Whether the last attempt reached the database. */
    public boolean up() {
        return up;
    }

    public String lastError() {
        return lastError;
    }

    /** New session rows this node has written since it started. */
    public long written() {
        return written.get();
    }

    /** New charge rows this node has written since it started. */
    public long chargesWritten() {
        return chargesWritten.get();
    }
}
