package ducke.core.cost;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reservations of money not spent yet, held against a budget that spans sessions (a client's
 * rolling hour, the breaker's window): each live relayed session holds what its next response may
 * cost at most, so that a response starts only once its worst case fits, whatever other sessions
 * on other nodes do meanwhile. Immutable; kept inside the budget's own grid value so that a
 * reservation is checked and taken in the same atomic step as the spend it is measured against.
 *
 * <p>A hold lapses at its expiry: a node that dies holding reservations blocks nothing for long.
 * Money is nano-USD, times wall-clock epoch milliseconds.
 */
public final class Holds {

    /** One reservation: its amount and when it lapses. */
    public record Hold(long amountNanoUsd, long expiresAtMillis) {
        public Hold {
            if (amountNanoUsd < 0) {
                throw new IllegalArgumentException("a hold is never negative");
            }
        }
    }

    public static final Holds NONE = new Holds(Map.of());

    private final SortedMap<String, Hold> byId;

    public Holds(Map<String, Hold> byId) {
        this.byId = Collections.unmodifiableSortedMap(new TreeMap<>(byId));
    }

    public SortedMap<String, Hold> byId() {
        return byId;
    }

    public boolean isEmpty() {
        return byId.isEmpty();
    }

    /** The sum of the holds still in force at {@code nowMillis}, less the one named {@code except} (may be null). */
    public long total(long nowMillis, String except) {
        long sum = 0;
        for (Map.Entry<String, Hold> e : byId.entrySet()) {
            if (e.getValue().expiresAtMillis() > nowMillis && !e.getKey().equals(except)) {
                sum = Math.addExact(sum, e.getValue().amountNanoUsd());
            }
        }
        return sum;
    }

    public long total(long nowMillis) {
        return total(nowMillis, null);
    }

    /** The same with {@code id} holding {@code amountNanoUsd} (replacing what it held). */
    public Holds with(String id, long amountNanoUsd, long expiresAtMillis) {
        Map<String, Hold> next = new TreeMap<>(byId);
        next.put(id, new Hold(amountNanoUsd, expiresAtMillis));
        return new Holds(next);
    }

    /** The same without {@code id} (null or unknown: unchanged). */
    public Holds without(String id) {
        if (id == null || !byId.containsKey(id)) {
            return this;
        }
        Map<String, Hold> next = new TreeMap<>(byId);
        next.remove(id);
        return new Holds(next);
    }

    /** The same without the holds that lapsed by {@code nowMillis}. */
    public Holds pruned(long nowMillis) {
        if (byId.values().stream().allMatch(h -> h.expiresAtMillis() > nowMillis)) {
            return this;
        }
        Map<String, Hold> next = new TreeMap<>(byId);
        next.values().removeIf(h -> h.expiresAtMillis() <= nowMillis);
        return new Holds(next);
    }

    /** When the last hold lapses; Long.MIN_VALUE when there is none. */
    public long lastExpiryMillis() {
        return byId.values().stream().mapToLong(Hold::expiresAtMillis).max().orElse(Long.MIN_VALUE);
    }

    /**
     * Two copies diverged while the cluster was split, as one: every hold of either (a hold released
     * on one side only stays until it lapses: reserved money is counted too long, never too short);
     * for one id on both sides the larger amount and the later expiry. Commutative.
     */
    public static Holds merge(Holds a, Holds b) {
        Map<String, Hold> next = new TreeMap<>(a.byId);
        b.byId.forEach((id, h) -> next.merge(id, h, (x, y) -> new Hold(Math.max(x.amountNanoUsd(), y.amountNanoUsd()),
                Math.max(x.expiresAtMillis(), y.expiresAtMillis()))));
        return new Holds(next);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Holds h && byId.equals(h.byId);
    }

    @Override
    public int hashCode() {
        return byId.hashCode();
    }
}
