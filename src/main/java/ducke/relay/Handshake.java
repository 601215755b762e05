package ducke.relay;

import ducke.core.cost.SessionLedger;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handshake that passed the gates: the session it may open (slot reserved, ledger not stored
 * yet) and who may still claim it. Exactly one of the WebSocket's open and an abandonment wins:
 * the open stores the ledger (the session then gives the slot back when it ends), an abandonment
 * gives the slot back at once. Whatever ends the handshake without an open — a refused upgrade,
 * a 101 that never reached the client, a connection closed before the WebSocket opened — abandons
 * it, so an aborted handshake leaves no slot. Thread-safe.
 */
final class Handshake {

    private static final int PENDING = 0;
    private static final int CREATED = 1;
    private static final int OPENED = 2;
    private static final int ABANDONED = 3;

    private final SessionLedger ledger;
    private final String client;
    private final Runnable giveBackSlot;
    private final AtomicInteger state = new AtomicInteger(PENDING);

    /** @param giveBackSlot releases the slot reserved for {@code ledger}; run at most once, must not block */
    Handshake(SessionLedger ledger, String client, Runnable giveBackSlot) {
        this.ledger = ledger;
        this.client = client;
        this.giveBackSlot = giveBackSlot;
    }

    SessionLedger ledger() {
        return ledger;
    }

    /** The identity the session's limits, quotas and slots are keyed by. */
    String client() {
        return client;
    }

    /** The WebSocket creator takes the handshake once; false when it was taken or abandoned. */
    boolean create() {
        return state.compareAndSet(PENDING, CREATED);
    }

    /** The upgrade completed: the session may open; false when the handshake was abandoned first. */
    boolean open() {
        return state.compareAndSet(CREATED, OPENED) || state.compareAndSet(PENDING, OPENED);
    }

    /**
     * The upgrade did not complete: gives the slot back unless the session opened (or the slot was
     * given back already). True when this call gave it back.
     */
    boolean abandon() {
        if (state.compareAndSet(PENDING, ABANDONED) || state.compareAndSet(CREATED, ABANDONED)) {
            giveBackSlot.run();
            return true;
        }
        return false;
    }
}
