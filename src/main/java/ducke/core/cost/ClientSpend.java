package ducke.core.cost;

import java.util.Arrays;

/**
 * One client's spend over the rolling hour, in per-minute buckets; immutable. Held in the grid
 * under the client's key, changed only by {@link #charge}, and dropped once its newest bucket has
 * left the window ({@link #idleAtMillis}), so idle clients vanish.
 *
 * <p>As in {@link SpendLedger}, a bucket counts until its whole minute has left the window: spend
 * ages out up to a minute late, never early. A clock that goes backwards only lands in an older
 * bucket. At most one bucket per minute of the window is kept.
 */
public final class ClientSpend {

    private static final long MINUTE = 60_000L;

    /**
     * What the gate needs: the spend in the window as of {@code asOfMillis}, and how long until it is
     * under the cap again without new spend (0 when it already is).
     */
    public record Snapshot(long hourlyNanoUsd, long retryAfterMillis) {
        public static final Snapshot NONE = new Snapshot(0, 0);
    }

    public static final ClientSpend EMPTY = new ClientSpend(new long[0], new long[0]);

    private final long[] minutes;
    private final long[] amounts;

    public ClientSpend(long[] minutes, long[] amounts) {
        if (minutes.length != amounts.length) {
            throw new IllegalArgumentException("minutes and amounts differ in length");
        }
        this.minutes = minutes.clone();
        this.amounts = amounts.clone();
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

    /** Adds spend at {@code nowMillis}, dropping buckets that left the window. */
    public ClientSpend charge(long costNanoUsd, long nowMillis, CostLimits limits) {
        return pruned(nowMillis, limits).plus(Math.floorDiv(nowMillis, MINUTE), costNanoUsd);
    }

    public Snapshot snapshot(long nowMillis, CostLimits limits) {
        long window = limits.hourlyWindowMillis();
        long cap = limits.maxClientHourlyCostNanoUsd();
        long spend = 0;
        for (int i = 0; i < minutes.length; i++) {
            if (inWindow(i, nowMillis, window)) {
                spend = Math.addExact(spend, amounts[i]);
            }
        }
        long total = spend;
        for (int i = 0; i < minutes.length && spend >= cap; i++) {
            if (!inWindow(i, nowMillis, window)) {
                continue;
            }
            spend -= amounts[i];
            if (spend < cap) {
                return new Snapshot(total, (minutes[i] + 1) * MINUTE + window - nowMillis);
            }
        }
        return new Snapshot(total, 0);
    }

    /** When every bucket has left the window: the entry may be dropped from then on. */
    public long idleAtMillis(CostLimits limits) {
        return minutes.length == 0 ? Long.MIN_VALUE : (minutes[minutes.length - 1] + 1) * MINUTE + limits.hourlyWindowMillis();
    }

    public boolean isEmpty() {
        return minutes.length == 0;
    }

    /**
     * Two copies diverged while the cluster was split, as one: each minute's larger amount. The
     * client's hourly spend is a gate, not the record of money (ledgers, the cluster's spend and the
     * audit keep every charge), so it takes the cheaper form: a minute charged on both sides counts
     * the larger side. Commutative; null is no copy.
     */
    public static ClientSpend merge(ClientSpend a, ClientSpend b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        java.util.TreeMap<Long, Long> byMinute = new java.util.TreeMap<>();
        for (ClientSpend c : new ClientSpend[]{a, b}) {
            for (int i = 0; i < c.minutes.length; i++) {
                byMinute.merge(c.minutes[i], c.amounts[i], Math::max);
            }
        }
        return new ClientSpend(byMinute.keySet().stream().mapToLong(Long::longValue).toArray(),
                byMinute.values().stream().mapToLong(Long::longValue).toArray());
    }

    private boolean inWindow(int i, long nowMillis, long windowMillis) {
        return (minutes[i] + 1) * MINUTE > nowMillis - windowMillis;
    }

    private ClientSpend pruned(long nowMillis, CostLimits limits) {
        int from = 0;
        while (from < minutes.length && !inWindow(from, nowMillis, limits.hourlyWindowMillis())) {
            from++;
        }
        return from == 0 ? this : new ClientSpend(Arrays.copyOfRange(minutes, from, minutes.length),
                Arrays.copyOfRange(amounts, from, amounts.length));
    }

    private ClientSpend plus(long minute, long nanoUsd) {
        int i = Arrays.binarySearch(minutes, minute);
        if (i >= 0) {
            long[] a = amounts.clone();
            a[i] = Math.addExact(a[i], nanoUsd);
            return new ClientSpend(minutes, a);
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
        return new ClientSpend(m, a);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientSpend c && Arrays.equals(minutes, c.minutes) && Arrays.equals(amounts, c.amounts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(minutes) + Arrays.hashCode(amounts);
    }
}
