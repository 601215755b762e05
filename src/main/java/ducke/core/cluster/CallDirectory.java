package ducke.core.cluster;

import java.util.Map;

/**
 * The cluster's live WebRTC calls: session id → the provider's call id, so that another node can
 * re-attach a call's sideband when the node that held it is gone. An entry lapses by itself after
 * the session's duration cap.
 */
public interface CallDirectory {

    void put(String sessionId, String callId, long nowMillis, long expiresAtMillis);

    void remove(String sessionId);

    /** The provider's id of the session's call, or null when it is not a live call. */
    String callId(String sessionId);

    /** For a node alone or a test: a directory in this JVM. */
    static CallDirectory inMemory() {
        Map<String, String> calls = new java.util.concurrent.ConcurrentHashMap<>();
        return new CallDirectory() {
            @Override
            public void put(String sessionId, String callId, long nowMillis, long expiresAtMillis) {
                calls.put(sessionId, callId);
            }

            @Override
            public void remove(String sessionId) {
                calls.remove(sessionId);
            }

            @Override
            public String callId(String sessionId) {
                return calls.get(sessionId);
            }
        };
    }
}
