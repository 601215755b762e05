package ducke.core.cost;

import java.util.Optional;

/**
 * The answers given to keyed usage reports, shared by every node for the session's retention, so
 * that a report sent again (after a timeout, to another node) gets the answer the first got. The
 * answer is opaque here (the API's JSON). Every method may throw
 * {@link ducke.core.cluster.ClusterUnavailableException}; callers treat a missing answer as
 * unknown, never as a reason to charge again (the session ledger decides that).
 */
public interface ReportAnswers {

    Optional<String> get(String sessionId, String key);

    /** Keeps {@code answer}, replacing any, for {@code ttlMillis}. */
    void put(String sessionId, String key, String answer, long ttlMillis);

    /** Keeps {@code answer} unless one is kept already; returns the one kept. */
    String putIfAbsent(String sessionId, String key, String answer, long ttlMillis);
}
