package ducke.core.cost;

/**
 * One writer's spend in per-minute buckets (sorted by minute), how many charges it made, and the
 * last journal sequence it replayed. Only its own writer adds to it, so of two diverged copies
 * the one with more charges is the later; pruning old minutes never changes {@code charges}.
 * Immutable.
 */
public final class SpendRow {

    static final SpendRow EMPTY = new SpendRow(0, 0, MinuteBuckets.EMPTY);

    private final long charges;
    private final long lastSeq;
    private final MinuteBuckets buckets;

    public SpendRow(long charges, long lastSeq, long[] minutes, long[] amounts) {
        this(charges, lastSeq, MinuteBuckets.of(minutes, amounts));
    }

    public SpendRow(long charges, long lastSeq, MinuteBuckets buckets) {
        this.charges = charges;
        this.lastSeq = lastSeq;
        this.buckets = buckets;
    }

    public long charges() {
        return charges;
    }

    public long lastSeq() {
        return lastSeq;
    }

    /** Spend by minute. */
    public MinuteBuckets buckets() {
        return buckets;
    }

    public int bucketCount() {
        return buckets.count();
    }

    public long minute(int i) {
        return buckets.minute(i);
    }

    public long amount(int i) {
        return buckets.amount(i);
    }

    boolean seen(long seq) {
        return seq > 0 && seq <= lastSeq;
    }

    SpendRow plus(long minute, long nanoUsd, long seq) {
        return new SpendRow(charges + 1, Math.max(lastSeq, seq), buckets.plus(minute, nanoUsd));
    }

    /** Without the minutes before {@code oldestKept}; this very row when there are none. */
    SpendRow from(long oldestKept) {
        MinuteBuckets kept = buckets.from(oldestKept);
        return kept == buckets ? this : new SpendRow(charges, lastSeq, kept);
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
        return a.bucketCount() >= b.bucketCount() ? a : b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpendRow r && charges == r.charges && lastSeq == r.lastSeq && buckets.equals(r.buckets);
    }

    @Override
    public int hashCode() {
        return 31 * buckets.hashCode() + Long.hashCode(charges);
    }
}
