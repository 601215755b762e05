package ducke.resources;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.api.UsageResponse;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cost.ReportAnswers;
import ducke.core.cost.SessionLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * The first answer to each keyed usage report, kept in the grid as the JSON that was sent, so that a
 * repeat on any node gets the same body. Kept until the session's duration cap plus its retention.
 * A repeat whose first attempt got no answer (503 at the grid deadline, a node that failed before
 * answering, an answer that could not be kept) gets one built from the ledger as it is then, with
 * the report's own cost; that one is kept in turn, unless the first's arrives before it.
 */
public final class KeyedAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(KeyedAnswers.class);

    private final ReportAnswers store;
    private final ObjectMapper json;
    private final long retentionMillis;

    /** @param retentionMillis how long an ended session's ledger is kept: a repeat within it gets the first answer */
    public KeyedAnswers(ReportAnswers store, ObjectMapper json, long retentionMillis) {
        this.store = store;
        this.json = json;
        this.retentionMillis = retentionMillis;
    }

    /** Keeps the answer of a report just charged; it goes out whether or not the grid kept it. */
    String first(SessionLedger l, String key, UsageResponse answer, long nowMillis) {
        String body = write(answer);
        try {
            store.put(l.sessionId(), key, body, ttlMillis(l, nowMillis));
        } catch (ClusterUnavailableException e) {
            LOG.warn("Answer to report {} of session {} not kept ({}); a repeat gets one built from the ledger",
                    key, l.sessionId(), e.getMessage());
        }
        return body;
    }

    /** The answer for a repeat: the first one, or one built now ({@code rebuilt}) when none was kept. */
    String repeat(SessionLedger l, String key, Supplier<UsageResponse> rebuilt, long nowMillis) {
        try {
            Optional<String> kept = store.get(l.sessionId(), key);
            if (kept.isPresent()) {
                return kept.get();
            }
            return store.putIfAbsent(l.sessionId(), key, write(rebuilt.get()), ttlMillis(l, nowMillis));
        } catch (ClusterUnavailableException e) {
            return write(rebuilt.get());
        }
    }

    private long ttlMillis(SessionLedger l, long nowMillis) {
        return Math.max(0, l.expiresAtMillis() - nowMillis) + retentionMillis;
    }

    private String write(UsageResponse answer) {
        try {
            return json.writeValueAsString(answer);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a usage answer is plain data", e);
        }
    }
}
