package ducke.db;

import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The pauses of sessions this node held, on their way to the sessions' audit rows. The row of a
 * session is written by whichever node's reaper hands its final record to the audit store, on its
 * next pass after the end, so a note usually arrives first: it is kept and offered again every
 * {@code retryMillis} until its row exists, for at most {@link #MAX_ATTEMPTS} tries (a row held back
 * longer, by an audit store that is down, keeps 0). Off the hot path: {@link #ended} never waits.
 * Bounded: past {@link #MAX_PENDING} notes the oldest is dropped (and logged). Thread-safe.
 */
public final class PauseNotes implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(PauseNotes.class);
    static final int MAX_PENDING = 10_000;
    static final int MAX_ATTEMPTS = 3600;

    private final AuditDao dao;
    private final long retryMillis;
    /** Session id → its note and the tries it has had; guarded by itself. */
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private ScheduledExecutorService timer;

    private record Pending(PauseRows.Note note, int attempts) {
    }

    public PauseNotes(AuditDao dao, long retryMillis) {
        this.dao = dao;
        this.retryMillis = Math.max(10, retryMillis);
    }

    /** A session this node held has ended after {@code pauses} pauses of {@code pausedMillis} in all. */
    public void ended(String sessionId, int pauses, long pausedMillis) {
        synchronized (pending) {
            pending.put(sessionId, new Pending(new PauseRows.Note(sessionId, pauses, pausedMillis), 0));
            if (pending.size() > MAX_PENDING) {
                String oldest = pending.keySet().iterator().next();
                pending.remove(oldest);
                LOG.warn("Pauses of session {} not recorded: too many notes wait for their rows", oldest);
            }
        }
    }

    /** Writes what it can now; returns how many notes are still waiting for their rows. */
    public int flush() {
        List<PauseRows.Note> notes;
        synchronized (pending) {
            notes = pending.values().stream().map(Pending::note).toList();
        }
        if (notes.isEmpty()) {
            return 0;
        }
        List<PauseRows.Note> missing;
        try {
            missing = dao.writePauses(notes);
        } catch (RuntimeException e) {
            LOG.info("Pauses of {} session(s) not written yet: {}", notes.size(), e.toString());
            missing = notes;
        }
        synchronized (pending) {
            List<String> written = new ArrayList<>();
            for (PauseRows.Note n : notes) {
                written.add(n.sessionId());
            }
            for (PauseRows.Note n : missing) {
                written.remove(n.sessionId());
                Pending p = pending.get(n.sessionId());
                if (p != null && p.attempts() + 1 >= MAX_ATTEMPTS) {
                    pending.remove(n.sessionId());
                    LOG.warn("Pauses of session {} not recorded: its audit row did not appear", n.sessionId());
                } else if (p != null) {
                    pending.put(n.sessionId(), new Pending(p.note(), p.attempts() + 1));
                }
            }
            written.forEach(pending::remove);
            return pending.size();
        }
    }

    @Override
    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ducke-pause-notes");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::flushQuietly, retryMillis, retryMillis, TimeUnit.MILLISECONDS);
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.warn("Could not write session pauses", e);
        }
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
        flushQuietly();
    }
}
