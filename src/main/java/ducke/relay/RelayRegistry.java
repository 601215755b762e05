package ducke.relay;

import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions this node relays right now. Ledger endings announced by the cluster reach the
 * session here, whichever node ended the ledger. On shutdown every live session ends with
 * {@code node_shutdown}. Thread-safe.
 */
public final class RelayRegistry {

    private final Map<String, RelaySession> live = new ConcurrentHashMap<>();
    private volatile boolean accepting = true;

    void add(RelaySession s) {
        live.put(s.sessionId(), s);
    }

    void remove(RelaySession s) {
        live.remove(s.sessionId(), s);
    }

    public int size() {
        return live.size();
    }

    public boolean accepting() {
        return accepting;
    }

    /** A session this node holds has ended in the grid: close its connections with the matching event. */
    public void ledgerEnded(SessionLedger ledger) {
        RelaySession s = live.get(ledger.sessionId());
        if (s != null) {
            s.ledgerEnded(ledger);
        }
    }

    /** Stops accepting sessions and ends every live one with {@code node_shutdown}. */
    public void shutdown() {
        accepting = false;
        for (RelaySession s : List.copyOf(live.values())) {
            s.finish(EndReason.NODE_SHUTDOWN, null, null);
        }
    }
}
