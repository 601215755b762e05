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
    private volatile Pause.Policy pausePolicy = Pause.Policy.END;

    /** How sessions of this node pause at their cap ({@code COST_PROTECTION_ON_CAP}); set once while wiring. */
    void pauseWith(Pause.Policy policy) {
        this.pausePolicy = policy;
    }

    /**
     * Sessions of this node pause at their cap ({@code pause}: {@code COST_PROTECTION_ON_CAP=pause})
     * for up to {@code timeout}, tell {@code board} while they are paused, and hand their pauses to
     * {@code log} when they end; set once while wiring.
     */
    public void pauseAtCap(boolean pause, Duration timeout, ducke.core.cost.SessionPauses board, PauseLog log) {
        pauseWith(new Pause.Policy(pause, timeout, board, log));
    }

    Pause.Policy pausePolicy() {
        return pausePolicy;
    }

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
     * The cap of a session this node holds was set ({@code PATCH /v1/sessions/{id}}, on any node):
     * it meters against the new cap from now on, and resumes if it was paused and its next response
     * now fits. Returns whether it is paused after that (false for a session this node does not
     * hold). Blocks for the grid when it resumes (its next reservation); call from a pool or
     * request thread.
     */
    public boolean capChanged(SessionLedger ledger) {
        RelaySession s = live.get(ledger.sessionId());
        return s != null && s.capChanged(ledger.maxCostNanoUsd());
    }

    /** Whether this node holds {@code sessionId} and it is paused; null when it does not hold it. */
    public Boolean pausedHere(String sessionId) {
        RelaySession s = live.get(sessionId);
        return s == null ? null : s.paused();
    }

    /**
     * Tries again to resume every paused session of {@code clientId} this node holds: for a
     * client budget that was raised (or freed), so that a session paused for
     * {@code client_budget_exceeded} goes on when its next reservation is taken now. Sessions
     * still refused stay paused until their timeout. Blocks for the grid; returns how many resumed.
     */
    public int resumePausedFor(String clientId) {
        int resumed = 0;
        for (RelaySession s : List.copyOf(live.values())) {
            if (s.clientId().equals(clientId) && s.paused() && s.tryResume()) {
                resumed++;
            }
        }
        return resumed;
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
