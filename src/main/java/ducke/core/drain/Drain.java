package ducke.core.drain;

/**
 * The draining stop of one node, as a state machine: {@code serving} until a drain starts, then
 * {@code draining} — no new sessions, live ones go on — until none is left ({@code drained}) or the
 * timeout passes or the operator cuts it short ({@code ending}: the rest are ended). Pure: time
 * arrives as {@code nowMillis}; waiting belongs to the caller. Thread-safe.
 */
public final class Drain {

    /** Where a drain stands. */
    public enum Phase { SERVING, DRAINING, ENDING, DRAINED }

    /** Why the sessions still live are ended. */
    public enum Cut { TIMEOUT, OPERATOR }

    /**
     * What the waiting side does next: wait (at most {@code waitMillis}) for a session to end, end
     * the rest now ({@code cut} says why), or stop the node (none left).
     */
    public record Step(Kind kind, long waitMillis, Cut cut) {
        public enum Kind { WAIT, END_REST, STOP }

        static Step waitFor(long millis) {
            return new Step(Kind.WAIT, millis, null);
        }

        static Step endRest(Cut cut) {
            return new Step(Kind.END_REST, 0, cut);
        }

        static final Step STOP = new Step(Kind.STOP, 0, null);
    }

    /** What an operator is told about the drain: its phase, when it started and by when it ends. */
    public record Status(Phase phase, long startedAtMillis, long deadlineMillis) {
    }

    private final long timeoutMillis;
    private Phase phase = Phase.SERVING;
    private long startedAtMillis;
    private long deadlineMillis;
    private boolean cutShort;

    /** @param timeoutMillis how long live sessions may go on once the drain started; 0 ends them at once */
    public Drain(long timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("a drain timeout cannot be negative: " + timeoutMillis);
        }
        this.timeoutMillis = timeoutMillis;
    }

    /** Starts the drain; false when one had already started (nothing changes then). */
    public synchronized boolean start(long nowMillis) {
        if (phase != Phase.SERVING) {
            return false;
        }
        phase = Phase.DRAINING;
        startedAtMillis = nowMillis;
        deadlineMillis = nowMillis + timeoutMillis;
        return true;
    }

    /** Ends the drain early: the next step ends the sessions still live. Starts the drain first if needed. */
    public synchronized void cut(long nowMillis) {
        start(nowMillis);
        cutShort = true;
    }

    /** Whether new sessions are refused: from the drain's start on, for good. */
    public synchronized boolean draining() {
        return phase != Phase.SERVING;
    }

    public synchronized Status status() {
        return new Status(phase, startedAtMillis, deadlineMillis);
    }

    /**
     * The next step for {@code liveSessions} sessions still live at {@code nowMillis}. A clock that
     * went backwards only lengthens the wait; the deadline stays where it was set.
     */
    public synchronized Step next(long nowMillis, int liveSessions) {
        switch (phase) {
            case SERVING -> throw new IllegalStateException("no drain has started");
            case DRAINED -> {
                return Step.STOP;
            }
            default -> {
            }
        }
        if (liveSessions <= 0) {
            phase = Phase.DRAINED;
            return Step.STOP;
        }
        if (phase == Phase.ENDING) {
            // the rest were told to end; whatever is still there is not waited for again
            phase = Phase.DRAINED;
            return Step.STOP;
        }
        if (cutShort || nowMillis >= deadlineMillis) {
            phase = Phase.ENDING;
            return Step.endRest(cutShort ? Cut.OPERATOR : Cut.TIMEOUT);
        }
        return Step.waitFor(deadlineMillis - nowMillis);
    }
}
