package ducke.core.cost;

import ducke.core.cluster.QuorumLostException;

import java.util.Optional;

/**
 * The one place a freshly ended session is released and reported: whichever path ended it (an end
 * call, a charge over the budget, the reaper, a journal replay), its client's slot is freed, its
 * limit metric counted, its time counted against its client's day and its record announced once.
 * Thread-safe.
 */
final class SessionEnds {

    private final SessionStore sessions;
    private final CostObserver observer;
    private final ClientBudgets budgets;
    private volatile SessionEndings endings = SessionEndings.NONE;

    SessionEnds(SessionStore sessions, CostObserver observer, ClientBudgets budgets) {
        this.sessions = sessions;
        this.observer = observer;
        this.budgets = budgets;
    }

    void announceTo(SessionEndings endings) {
        this.endings = endings;
    }

    /** Ends a session; empty when it is unknown. Ending an ended session changes nothing. */
    Optional<SessionStore.Ended> end(String sessionId, EndReason reason, long nowMillis) {
        Optional<SessionStore.Ended> ended = sessions.end(sessionId, reason, nowMillis);
        ended.filter(SessionStore.Ended::endedNow).ifPresent(e -> ended(e.ledger()));
        return ended;
    }

    /** Releases and reports a session that has just ended. */
    void ended(SessionLedger ended) {
        try {
            sessions.releaseSlot(ended.clientId(), ended.sessionId(), ended.endedAtMillis());
        } catch (QuorumLostException e) {
            // the slot lapses by itself at the session's duration cap plus a grace
        }
        switch (ended.endReason()) {
            case BUDGET_EXCEEDED -> observer.limitReached("session_cost");
            case SESSION_TIMEOUT -> observer.limitReached("session_duration");
            default -> { }
        }
        try {
            budgets.sessionEnded(ended.clientId(), ended.sessionId(), ended.startedAtMillis(), ended.endedAtMillis(),
                    ended.endedAtMillis());
        } catch (RuntimeException e) {
            // the session's time reservation lapses by itself; its time is not counted (logged by the grid's adapter)
        }
        observer.sessionEnded(ended.record());
        if (!ended.holder().isEmpty()) {
            endings.ended(ended);
        }
    }
}
