package ducke.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.api.SessionView;
import ducke.core.cost.AuditSink;
import ducke.core.cost.SessionRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Writes each final session record as one JSON line to the {@code ducke.audit} logger. The seam
 * the durable SQL audit trail plugs into; until then the log is the audit trail.
 */
public final class LogAuditSink implements AuditSink {

    private static final Logger AUDIT = LoggerFactory.getLogger("ducke.audit");

    private final ObjectMapper mapper;

    public LogAuditSink(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public void write(List<SessionRecord> records) throws Exception {
        for (SessionRecord r : records) {
            AUDIT.info("session_ended {}", mapper.writeValueAsString(SessionView.of(r)));
        }
    }
}
