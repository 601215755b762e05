package ducke.core.cost;

import java.util.Map;
import java.util.TreeMap;

/**
 * One client's concurrent-session slots: session id → when the slot lapses by itself. A slot
 * normally goes when its session ends; the lapse time (the session's duration cap plus a grace)
 * frees it even if that release was lost with a crashed node. Immutable.
 */
public record SessionSlots(Map<String, Long> lapsesAtMillis) {

    /** How long after a session's duration cap its slot lapses if nothing released it. */
    public static final long GRACE_MILLIS = 60_000;

    public static final SessionSlots EMPTY = new SessionSlots(Map.of());

    public SessionSlots {
        lapsesAtMillis = Map.copyOf(lapsesAtMillis);
    }

    /** The slots after taking one for {@code sessionId}, or null when all {@code max} are in use. */
    public SessionSlots tryAcquire(String sessionId, long expiresAtMillis, int max, long nowMillis) {
        Map<String, Long> live = new TreeMap<>();
        lapsesAtMillis.forEach((id, lapse) -> {
            if (lapse > nowMillis) {
                live.put(id, lapse);
            }
        });
        if (!live.containsKey(sessionId) && live.size() >= max) {
            return null;
        }
        live.put(sessionId, expiresAtMillis + GRACE_MILLIS);
        return new SessionSlots(live);
    }

    public SessionSlots release(String sessionId) {
        if (!lapsesAtMillis.containsKey(sessionId)) {
            return this;
        }
        Map<String, Long> rest = new TreeMap<>(lapsesAtMillis);
        rest.remove(sessionId);
        return new SessionSlots(rest);
    }

    public int size() {
        return lapsesAtMillis.size();
    }

    /** The latest lapse time: after it the entry is empty in effect and may expire. */
    public long lastLapseMillis() {
        return lapsesAtMillis.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
