package ducke.core.cost;

import java.util.Arrays;

/**
 * Amounts (nano-USD) by epoch minute, sorted by minute, at most one bucket per minute; immutable.
 * The storage of the rolling spend windows: a writer's row of the cluster's spend ({@link SpendRow})
 * and a client's hourly spend ({@link ClientSpend}).
 */
public final class MinuteBuckets {

    public static final MinuteBuckets EMPTY = new MinuteBuckets(new long[0], new long[0]);

    private final long[] minutes;
    private final long[] amounts;

    /** Copies the arrays; {@code minutes} must be sorted and without repeats. */
    public static MinuteBuckets of(long[] minutes, long[] amounts) {
        if (minutes.length != amounts.length) {
            throw new IllegalArgumentException("minutes and amounts differ in length");
        }
        return new MinuteBuckets(minutes.clone(), amounts.clone());
    }

    private MinuteBuckets(long[] minutes, long[] amounts) {
        this.minutes = minutes;
        this.amounts = amounts;
    }

    public int count() {
        return minutes.length;
    }

    public long minute(int i) {
        return minutes[i];
    }

    public long amount(int i) {
        return amounts[i];
    }

    /** With {@code nanoUsd} added to {@code minute}'s bucket (a new bucket in its place when there is none). */
    MinuteBuckets plus(long minute, long nanoUsd) {
        int i = Arrays.binarySearch(minutes, minute);
        if (i >= 0) {
            long[] a = amounts.clone();
            a[i] = Math.addExact(a[i], nanoUsd);
            return new MinuteBuckets(minutes, a);
        }
        int at = -i - 1;
        long[] m = new long[minutes.length + 1];
        long[] a = new long[amounts.length + 1];
        System.arraycopy(minutes, 0, m, 0, at);
        System.arraycopy(amounts, 0, a, 0, at);
        m[at] = minute;
        a[at] = nanoUsd;
        System.arraycopy(minutes, at, m, at + 1, minutes.length - at);
        System.arraycopy(amounts, at, a, at + 1, amounts.length - at);
        return new MinuteBuckets(m, a);
    }

    /** Without the minutes before {@code oldestKept}; these very buckets when there are none. */
    MinuteBuckets from(long oldestKept) {
        int from = 0;
        while (from < minutes.length && minutes[from] < oldestKept) {
            from++;
        }
        return from == 0 ? this : new MinuteBuckets(Arrays.copyOfRange(minutes, from, minutes.length),
                Arrays.copyOfRange(amounts, from, amounts.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MinuteBuckets b && Arrays.equals(minutes, b.minutes) && Arrays.equals(amounts, b.amounts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(minutes) + Arrays.hashCode(amounts);
    }
}
