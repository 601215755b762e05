package ducke.relay;

import ducke.core.cost.SessionLedger;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handshake that passed the gates: the session it may open (slot reserved, ledger not stored
 * yet) and who may still claim it. Exactly one of the WebSocket's open and the filter's clean-up
 * wins: the open stores the ledger, the clean-up gives the slot back.
 */
final class Handshake {

    private static final int PENDING = 0;
    private static final int CREATED = 1;
    private static final int OPENED = 2;
    private static final int ABANDONED = 3;

    private final SessionLedger ledger;
    private final String client;
    private final AtomicInteger state = new AtomicInteger(PENDING);

    Handshake(SessionLedger ledger, String client) {
        this.ledger = ledger;
        this.client = client;
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

    /** The upgrade completed: the session may open; false when the filter gave it up first. */
    boolean open() {
        return state.compareAndSet(CREATED, OPENED) || state.compareAndSet(PENDING, OPENED);
    }

    /** The upgrade did not complete: true when the slot must be given back (nobody opened it). */
    boolean abandon() {
        return state.compareAndSet(PENDING, ABANDONED) || state.compareAndSet(CREATED, ABANDONED);
    }
}
