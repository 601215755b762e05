package ducke.core.cost;

/**
 * Tells every node that a live session's cap was set ({@code PATCH /v1/sessions/{id}}), so that
 * the node holding its connection meters against the new cap, and resumes it if it was paused
 * at the old one, whichever node took the request.
 */
public interface SessionCaps {

    void changed(SessionLedger ledger);

    SessionCaps NONE = ledger -> { };
}
