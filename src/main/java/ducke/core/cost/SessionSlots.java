package ducke.core.cost;

import java.util.Map;
import java.util.TreeMap;

/**
 * One client's concurrent-session slots: session id → when the slot lapses by itself. A slot
 * normally goes when its session ends; the lapse time (the session's duration cap plus a grace)
 * frees it even if that release was lost with a crashed node. A released slot is remembered until
 * its lapse time ({@code releasedUntilMillis}), so that merging a copy from the other side of a
 * partition does not bring it back ({@link #merge}). Immutable.
 */
public record SessionSlots(Map<String, Long> lapsesAtMillis, Map<String, Long> releasedUntilMillis) {

    /** How long after a session's duration cap its slot lapses if nothing released it. */
    public static final long GRACE_MILLIS = 60_000;

    public static final SessionSlots EMPTY = new SessionSlots(Map.of(), Map.of());

    public SessionSlots {
        lapsesAtMillis = Map.copyOf(lapsesAtMillis);
        releasedUntilMillis = Map.copyOf(releasedUntilMillis);
    }

    public SessionSlots(Map<String, Long> lapsesAtMillis) {
        this(lapsesAtMillis, Map.of());
    }

    /** The slots after taking one for {@code sessionId}, or null when all {@code max} are in use. */
    public SessionSlots tryAcquire(String sessionId, long expiresAtMillis, int max, long nowMillis) {
        Map<String, Long> live = unlapsed(lapsesAtMillis, nowMillis);
        if (!live.containsKey(sessionId) && live.size() >= max) {
            return null;
        }
        live.put(sessionId, expiresAtMillis + GRACE_MILLIS);
        return new SessionSlots(live, unlapsed(releasedUntilMillis, nowMillis));
    }

    public SessionSlots release(String sessionId) {
        Long lapse = lapsesAtMillis.get(sessionId);
        if (lapse == null) {
            return this;
        }
        Map<String, Long> rest = new TreeMap<>(lapsesAtMillis);
        rest.remove(sessionId);
        Map<String, Long> released = new TreeMap<>(releasedUntilMillis);
        released.put(sessionId, lapse);
        return new SessionSlots(rest, released);
    }

    /** Slots in use. */
    public int size() {
        return lapsesAtMillis.size();
    }

    /**
     * When the first of the live slots frees by itself at the latest: the earliest duration cap
     * among their sessions (a session normally ends, and frees its slot, at its cap). 0 when no slot
     * is live at {@code nowMillis}.
     */
    public long firstCapMillis(long nowMillis) {
        return lapsesAtMillis.values().stream().mapToLong(Long::longValue).filter(lapse -> lapse > nowMillis)
                .map(lapse -> lapse - GRACE_MILLIS).min().orElse(0);
    }

    /** No slot in use and no release to remember: the entry can go. */
    public boolean isEmpty() {
        return lapsesAtMillis.isEmpty() && releasedUntilMillis.isEmpty();
    }

    /** The latest lapse time: after it the entry is empty in effect and may expire. */
    public long lastLapseMillis() {
        long last = 0;
        for (long t : lapsesAtMillis.values()) {
            last = Math.max(last, t);
        }
        for (long t : releasedUntilMillis.values()) {
            last = Math.max(last, t);
        }
        return last;
    }

    /**
     * Two copies diverged while the cluster was split, as one: a slot taken on either side is held
     * unless either side released it. Commutative; null is no copy.
     */
    public static SessionSlots merge(SessionSlots a, SessionSlots b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        Map<String, Long> released = new TreeMap<>(a.releasedUntilMillis);
        b.releasedUntilMillis.forEach((id, t) -> released.merge(id, t, Math::max));
        Map<String, Long> live = new TreeMap<>(a.lapsesAtMillis);
        b.lapsesAtMillis.forEach((id, t) -> live.merge(id, t, Math::max));
        live.keySet().removeAll(released.keySet());
        return new SessionSlots(live, released);
    }

    private static Map<String, Long> unlapsed(Map<String, Long> slots, long nowMillis) {
        Map<String, Long> kept = new TreeMap<>();
        slots.forEach((id, lapse) -> {
            if (lapse > nowMillis) {
                kept.put(id, lapse);
            }
        });
        return kept;
    }
}
