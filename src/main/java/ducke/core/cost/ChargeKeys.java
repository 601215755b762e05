package ducke.core.cost;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys of the keyed charges a session's ledger has taken, so that a charge sent again (a retried
 * usage report, a response charged by two paths, a journal replayed after a partition heals) counts
 * once on whichever node it arrives. Immutable and small: 24 bytes a key (two digests and the charge
 * time), at most {@link #MAX_KEYS} keys; past that the oldest are forgotten, and a repeat of a
 * forgotten key is charged again.
 *
 * <p>Kept sorted by charge time (then key digest), so that two copies diverged by a partition merge
 * to the same value whatever their order ({@link #merge}).
 */
public final class ChargeKeys {

    /** Keys one session remembers: the newest win. */
    public static final int MAX_KEYS = 1024;

    public static final ChargeKeys NONE = new ChargeKeys(List.of());

    /** Whether a key was charged before, and if so, for the same report. */
    public enum Seen { NEW, SAME_REPORT, OTHER_REPORT }

    /** One keyed charge: its key's and report's digests ({@link ChargeKey}) and when it was charged. */
    public record Entry(long keyHash, long reportHash, long atMillis) {
    }

    private static final Comparator<Entry> ORDER = Comparator.comparingLong(Entry::atMillis)
            .thenComparingLong(Entry::keyHash).thenComparingLong(Entry::reportHash);

    private final List<Entry> entries;

    private ChargeKeys(List<Entry> sorted) {
        this.entries = List.copyOf(sorted);
    }

    /** Keys as stored (any order; duplicates keep the first in charge order); the newest {@link #MAX_KEYS} are kept. */
    public static ChargeKeys of(List<Entry> entries) {
        if (entries.isEmpty()) {
            return NONE;
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(ORDER);
        Map<Long, Entry> first = new HashMap<>();
        List<Entry> kept = new ArrayList<>(sorted.size());
        for (Entry e : sorted) {
            if (first.putIfAbsent(e.keyHash(), e) == null) {
                kept.add(e);
            }
        }
        return new ChargeKeys(kept.size() > MAX_KEYS ? kept.subList(kept.size() - MAX_KEYS, kept.size()) : kept);
    }

    /** Oldest first. */
    public List<Entry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public Seen seen(ChargeKey key) {
        for (Entry e : entries) {
            if (e.keyHash() == key.keyHash()) {
                return e.reportHash() == key.reportHash() ? Seen.SAME_REPORT : Seen.OTHER_REPORT;
            }
        }
        return Seen.NEW;
    }

    /** With {@code key} charged at {@code atMillis}; the oldest key goes when the bound is passed. */
    ChargeKeys plus(ChargeKey key, long atMillis) {
        Entry added = new Entry(key.keyHash(), key.reportHash(), atMillis);
        List<Entry> next = new ArrayList<>(entries.size() + 1);
        next.addAll(entries);
        next.add(added);
        boolean inOrder = entries.isEmpty() || ORDER.compare(entries.get(entries.size() - 1), added) < 0;
        // the common case (charges arrive in time order, the bound not yet reached) needs no sort
        return inOrder && next.size() <= MAX_KEYS ? new ChargeKeys(next) : of(next);
    }

    /**
     * Both copies' keys as one: every key either side charged (a key both charged keeps its earlier
     * charge), the newest {@link #MAX_KEYS} of them. Commutative and idempotent.
     */
    public static ChargeKeys merge(ChargeKeys a, ChargeKeys b) {
        if (a.equals(b) || b.entries.isEmpty()) {
            return a;
        }
        if (a.entries.isEmpty()) {
            return b;
        }
        List<Entry> all = new ArrayList<>(a.entries);
        all.addAll(b.entries);
        return of(all);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChargeKeys k && entries.equals(k.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        return "ChargeKeys[" + entries.size() + "]";
    }
}
