package ducke.core.cost;

/**
 * Tells every node that a session ended, so that the node holding its live connection closes it
 * whichever node ended the ledger (reaper, API, admin task, breaker).
 */
public interface SessionEndings {

    void ended(SessionLedger ledger);

    SessionEndings NONE = ledger -> { };
}
