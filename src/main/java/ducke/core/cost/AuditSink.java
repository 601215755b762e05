package ducke.core.cost;

import java.util.Collection;
import java.util.List;

/**
 * Receives the final record of every ended session, and checkpoints of live ones. A record is
 * handed over until a call returns normally, so the sink must accept the same session id twice
 * without writing it twice. A final record replaces the session's checkpoint; a checkpoint never
 * replaces a final record.
 */
public interface AuditSink {

    /** Takes a batch; throwing means none of it is taken and the batch is offered again later. */
    void write(List<SessionRecord> records) throws Exception;

    /** The same, as the last chance before the process exits: no waiting out an earlier failure. */
    default void writeFinal(List<SessionRecord> records) throws Exception {
        write(records);
    }

    /**
     * Takes a batch of charge records, each stored once whatever the number of attempts (keyed by
     * session and charge key); throwing means none of it is taken and it is offered again later.
     */
    default void writeCharges(List<ChargeRecord> charges) throws Exception {
    }

    /** The same, as the last chance before the process exits: no waiting out an earlier failure. */
    default void writeChargesFinal(List<ChargeRecord> charges) throws Exception {
        writeCharges(charges);
    }

    /**
     * Keeps the running state of live sessions, each as the record it would get if it were lost
     * now ({@link SessionLedger#checkpoint}), as an open record. Throwing means: try again later.
     */
    default void checkpoint(List<SessionRecord> live) throws Exception {
    }

    /** Sessions that have an open record (a checkpoint and no final record yet). */
    default List<String> openSessions() throws Exception {
        return List.of();
    }

    /**
     * Closes the open records of sessions no cluster holds any more: each stays as its last
     * checkpoint says ({@code node_lost}). Returns how many were closed.
     */
    default int closeLost(Collection<String> sessionIds) throws Exception {
        return 0;
    }
}
