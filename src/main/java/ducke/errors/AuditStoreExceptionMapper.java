package ducke.errors;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;

/**
 * The audit store (SQL) that cannot be reached — no connection, a broken one, or SQLSTATE class
 * {@code 08} — answers what reads or writes it (audit queries, client budgets) with 503
 * {@code audit_unavailable} and {@code Retry-After}: nothing was changed, and the request can be sent
 * again. Any other SQL failure is a fault of ours: 500 with an error id, as every unexpected error.
 */
public final class AuditStoreExceptionMapper implements ExceptionMapper<JdbiException> {

    /** What a client is told to wait: the pool's wait for a connection. */
    public static final long RETRY_AFTER_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(AuditStoreExceptionMapper.class);

    @Override
    public Response toResponse(JdbiException e) {
        if (!unreachable(e)) {
            return new CatchAllExceptionMapper().toResponse(e);
        }
        LOG.warn("Answered 503 audit_unavailable: {}", RootCause.of(e));
        return new ApiExceptionMapper().toResponse(new ApiException(503, ErrorWords.AUDIT_UNAVAILABLE,
                "The audit database cannot be reached now; nothing was changed. Try again later",
                Map.of("retry_after_seconds", RETRY_AFTER_SECONDS), Map.of("Retry-After", Long.toString(RETRY_AFTER_SECONDS))));
    }

    /** Whether {@code e} says the database could not be reached, rather than that a statement was wrong. */
    static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectionException || t instanceof SQLTransientConnectionException
                    || t instanceof SQLNonTransientConnectionException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }
}
