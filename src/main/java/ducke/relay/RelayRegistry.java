package ducke.relay;

import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions this node relays right now. Ledger endings announced by the cluster reach the
 * session here, whichever node ended the ledger. On shutdown every live session ends with
 * {@code node_shutdown}. Thread-safe.
 */
public final class RelayRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(RelayRegistry.class);

    private final Map<String, RelaySession> live = new ConcurrentHashMap<>();
    private boolean accepting = true;
    private volatile Runnable onRemoved = () -> { };

    /** Registers a live session; false when the node stopped accepting sessions (it must end at once). */
    synchronized boolean add(RelaySession s) {
        if (!accepting) {
            return false;
        }
        live.put(s.sessionId(), s);
        return true;
    }

    void remove(RelaySession s) {
        if (live.remove(s.sessionId(), s)) {
            onRemoved.run();
        }
    }

    /** Runs {@code listener} after each session has ended and left this registry (on the ending thread). */
    void onRemoved(Runnable listener) {
        this.onRemoved = listener;
    }

    public int size() {
        return live.size();
    }

    public synchronized boolean accepting() {
        return accepting;
    }

    /** A session this node holds has ended in the grid: close its connections with the matching event. */
    public void ledgerEnded(SessionLedger ledger) {
        RelaySession s = live.get(ledger.sessionId());
        if (s != null) {
            s.ledgerEnded(ledger);
        }
    }

    /**
     * This node lost the cluster's quorum: it must stop new spending, so every live session ends
     * ({@code service_unavailable}, close 1013, reason {@code cluster_degraded}); the ends are
     * journaled and reach the grid when the partition heals.
     */
    public void quorumLost() {
        for (RelaySession s : List.copyOf(live.values())) {
            s.finish(EndReason.CLUSTER_DEGRADED, null, null);
        }
    }

    /**
     * Stops accepting sessions and ends every live one with {@code node_shutdown}, waiting (at most
     * {@code wait}) until each has charged its last response and recorded its end.
     */
    public void shutdown(Duration wait) {
        List<RelaySession> sessions;
        synchronized (this) {
            accepting = false;
            sessions = List.copyOf(live.values());
        }
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (RelaySession s : sessions) {
            s.finish(EndReason.NODE_SHUTDOWN, null, null);
            done.add(s.finished());
        }
        try {
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("{} relayed session(s) had not finished ending when the node stopped", done.stream().filter(f -> !f.isDone()).count());
        }
    }
}
