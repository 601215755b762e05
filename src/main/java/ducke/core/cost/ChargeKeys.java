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

    /**
     * Whether a key was charged before, and if so, for the same report: {@code SAME_REPORT_UNSPENT}
     * when that charge's spend part (the cluster's hourly spend and breaker, the client's hour) was
     * not confirmed, so that a retry completes it.
     */
    public enum Seen { NEW, SAME_REPORT, OTHER_REPORT, SAME_REPORT_UNSPENT }

    /**
     * One keyed charge: its key's and report's digests ({@link ChargeKey}), when it was charged, and
     * whether its spend part is still to be confirmed (usage reports only: {@link ChargeKey#reported()}).
     */
    public record Entry(long keyHash, long reportHash, long atMillis, boolean spendPending) {
        public Entry(long keyHash, long reportHash, long atMillis) {
            this(keyHash, reportHash, atMillis, false);
        }
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
        Map<Long, Integer> first = new HashMap<>();
        List<Entry> kept = new ArrayList<>(sorted.size());
        for (Entry e : sorted) {
            Integer at = first.putIfAbsent(e.keyHash(), kept.size());
            if (at == null) {
                kept.add(e);
            } else if (e.spendPending() && !kept.get(at).spendPending()) {
                // one copy did not see the spend part confirmed: pending (a retry may count it twice, never not at all)
                Entry k = kept.get(at);
                kept.set(at, new Entry(k.keyHash(), k.reportHash(), k.atMillis(), true));
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
                return e.reportHash() != key.reportHash() ? Seen.OTHER_REPORT
                        : e.spendPending() ? Seen.SAME_REPORT_UNSPENT : Seen.SAME_REPORT;
            }
        }
        return Seen.NEW;
    }

    /** With {@code key} charged at {@code atMillis}; the oldest key goes when the bound is passed. */
    ChargeKeys plus(ChargeKey key, long atMillis) {
        Entry added = new Entry(key.keyHash(), key.reportHash(), atMillis, key.reported());
        List<Entry> next = new ArrayList<>(entries.size() + 1);
        next.addAll(entries);
        next.add(added);
        boolean inOrder = entries.isEmpty() || ORDER.compare(entries.get(entries.size() - 1), added) < 0;
        // the common case (charges arrive in time order, the bound not yet reached) needs no sort
        return inOrder && next.size() <= MAX_KEYS ? new ChargeKeys(next) : of(next);
    }

    /** The same with {@code key}'s spend part confirmed; unchanged when it is not here. */
    ChargeKeys spendConfirmed(ChargeKey key) {
        List<Entry> next = new ArrayList<>(entries.size());
        boolean changed = false;
        for (Entry e : entries) {
            if (e.keyHash() == key.keyHash() && e.spendPending()) {
                next.add(new Entry(e.keyHash(), e.reportHash(), e.atMillis(), false));
                changed = true;
            } else {
                next.add(e);
            }
        }
        return changed ? new ChargeKeys(next) : this;
    }

    /**
     * Both copies' keys as one: every key either side charged (a key both charged keeps its earlier
     * charge, and is spend-pending if either copy had it so), the newest {@link #MAX_KEYS} of them.
     * Commutative and idempotent.
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
