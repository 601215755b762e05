package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cluster.CallDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The cluster's live WebRTC calls in the grid ({@value #MAP}: session id → the provider's call
 * id), each entry living until a minute past its session's duration cap. Best effort: an entry
 * the grid cannot take now only costs the re-attachment of that call should its node die.
 */
final class GridCallDirectory implements CallDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(GridCallDirectory.class);
    static final String MAP = "ducke-calls";
    private static final long GRACE_MILLIS = 60_000;

    private final IMap<String, String> map;
    private final GridCalls calls;

    GridCallDirectory(HazelcastInstance hz, GridCalls calls) {
        this.map = hz.getMap(MAP);
        this.calls = calls;
    }

    @Override
    public void put(String sessionId, String callId, long nowMillis, long expiresAtMillis) {
        try {
            long ttl = Math.max(1, expiresAtMillis - nowMillis + GRACE_MILLIS);
            calls.await("recording a call", () -> map.setAsync(sessionId, callId, ttl, TimeUnit.MILLISECONDS));
        } catch (RuntimeException e) {
            LOG.warn("Could not record call {} in the grid: {}", sessionId, e.toString());
        }
    }

    @Override
    public void remove(String sessionId) {
        try {
            calls.await("forgetting a call", () -> map.deleteAsync(sessionId));
        } catch (RuntimeException e) {
            LOG.info("Could not forget call {} now ({}); it lapses by itself", sessionId, e.toString());
        }
    }

    @Override
    public String callId(String sessionId) {
        try {
            return calls.await("looking up a call", () -> map.getAsync(sessionId));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
