package ducke.core.cost;

import java.util.List;

/**
 * Receives the final record of every ended session. A record is handed over until a call
 * returns normally, so the sink must accept the same session id twice without writing it twice.
 */
public interface AuditSink {

    /** Takes a batch; throwing means none of it is taken and the batch is offered again later. */
    void write(List<SessionRecord> records) throws Exception;
}
