package ducke.core.cost;

import java.util.Arrays;

/**
 * One writer's spend in per-minute buckets (sorted by minute), how many charges it made, and the
 * last journal sequence it replayed. Only its own writer adds to it, so of two diverged copies
 * the one with more charges is the later; pruning old minutes never changes {@code charges}.
 * Immutable.
 */
public final class SpendRow {

    static final SpendRow EMPTY = new SpendRow(0, 0, new long[0], new long[0]);

    private final long charges;
    private final long lastSeq;
    private final long[] minutes;
    private final long[] amounts;

    public SpendRow(long charges, long lastSeq, long[] minutes, long[] amounts) {
        if (minutes.length != amounts.length) {
            throw new IllegalArgumentException("minutes and amounts differ in length");
        }
        this.charges = charges;
        this.lastSeq = lastSeq;
        this.minutes = minutes.clone();
        this.amounts = amounts.clone();
    }

    public long charges() {
        return charges;
    }

    public long lastSeq() {
        return lastSeq;
    }

    public int bucketCount() {
        return minutes.length;
    }

    public long minute(int i) {
        return minutes[i];
    }

    public long amount(int i) {
        return amounts[i];
    }

    boolean seen(long seq) {
        return seq > 0 && seq <= lastSeq;
    }

    SpendRow plus(long minute, long nanoUsd, long seq) {
        int i = Arrays.binarySearch(minutes, minute);
        long[] m = minutes;
        long[] a;
        if (i >= 0) {
            a = amounts.clone();
            a[i] = Math.addExact(a[i], nanoUsd);
        } else {
            int at = -i - 1;
            m = new long[minutes.length + 1];
            a = new long[amounts.length + 1];
            System.arraycopy(minutes, 0, m, 0, at);
            System.arraycopy(amounts, 0, a, 0, at);
            m[at] = minute;
            a[at] = nanoUsd;
            System.arraycopy(minutes, at, m, at + 1, minutes.length - at);
            System.arraycopy(amounts, at, a, at + 1, amounts.length - at);
        }
        return new SpendRow(charges + 1, Math.max(lastSeq, seq), m, a);
    }

    /** Without the minutes before {@code oldestKept}; this very row when there are none. */
    SpendRow from(long oldestKept) {
        int from = 0;
        while (from < minutes.length && minutes[from] < oldestKept) {
            from++;
        }
        return from == 0 ? this : new SpendRow(charges, lastSeq, Arrays.copyOfRange(minutes, from, minutes.length),
                Arrays.copyOfRange(amounts, from, amounts.length));
    }

    /** The later of two copies of one writer's row; deterministic whatever the order. */
    static SpendRow later(SpendRow a, SpendRow b) {
        if (a.charges != b.charges) {
            return a.charges > b.charges ? a : b;
        }
        if (a.lastSeq != b.lastSeq) {
            return a.lastSeq > b.lastSeq ? a : b;
        }
        // the same charges, one copy pruned further: the longer one still holds what the other dropped
        return a.minutes.length >= b.minutes.length ? a : b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpendRow r && charges == r.charges && lastSeq == r.lastSeq && Arrays.equals(minutes, r.minutes)
                && Arrays.equals(amounts, r.amounts);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(minutes) + Arrays.hashCode(amounts)) + Long.hashCode(charges);
    }
}
