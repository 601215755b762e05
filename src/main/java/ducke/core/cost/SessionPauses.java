package ducke.core.cost;

/**
 * Which live sessions are paused at their cap right now (COST_PROTECTION_ON_CAP=pause), as the
 * nodes holding them report it, so that any node can answer whether one is paused. Best effort:
 * an entry lapses by itself {@code ttlMillis} after it was written.
 */
public interface SessionPauses {

    void paused(String sessionId, String reason, long ttlMillis);

    void resumed(String sessionId);

    boolean paused(String sessionId);

    /** Kept in this process only: for tests and single-process use. */
    static SessionPauses inMemory() {
        java.util.Map<String, String> m = new java.util.concurrent.ConcurrentHashMap<>();
        return new SessionPauses() {
            @Override
            public void paused(String sessionId, String reason, long ttlMillis) {
                m.put(sessionId, reason);
            }

            @Override
            public void resumed(String sessionId) {
                m.remove(sessionId);
            }

            @Override
            public boolean paused(String sessionId) {
                return m.containsKey(sessionId);
            }
        };
    }
}
