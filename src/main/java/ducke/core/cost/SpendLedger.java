package ducke.core.cost;

import java.util.Arrays;

/**
 * Cluster-wide spend in per-minute buckets, and the circuit breaker that watches it; immutable.
 * Held under one grid key so that every charge, trip and reset is one atomic step.
 *
 * <p>A bucket counts toward a window until its whole minute has left it, so spend ages out up to a
 * minute late, never early. After the breaker closes (by cooldown or by an operator) it counts only
 * spend made after that moment, so a reset is not undone by the very spend that tripped it.
 */
public final class SpendLedger {

    private static final long MINUTE = 60_000L;

    /** Breaker fields; {@code closedAtMillis}/{@code baselineNanoUsd} mark where its count restarts. */
    public record Breaker(boolean open, long openedAtMillis, long closesAtMillis, String cause, long spendAtOpenNanoUsd,
                          long closedAtMillis, long baselineNanoUsd) {
        static final Breaker CLOSED = new Breaker(false, 0, 0, "", 0, 0, 0);
    }

    /** What a node needs to know to gate sessions, as of {@code asOfMillis}. */
    public record Snapshot(long hourlyNanoUsd, long breakerNanoUsd, boolean breakerOpen, long breakerOpenedAtMillis,
                           long breakerClosesAtMillis, String breakerCause, long hourlyRetryAfterMillis, long asOfMillis) {
        public boolean breakerOpenAt(long nowMillis) {
            return breakerOpen && nowMillis < breakerClosesAtMillis;
        }
    }

    /** After a charge: the new ledger, the snapshot, and whether this charge opened the breaker. */
    public record Charged(SpendLedger ledger, Snapshot snapshot, boolean breakerOpenedNow) {
    }

    public static final SpendLedger EMPTY = new SpendLedger(new long[0], new long[0], Breaker.CLOSED);

    private final long[] minutes;
    private final long[] amounts;
    private final Breaker breaker;

    public SpendLedger(long[] minutes, long[] amounts, Breaker breaker) {
        if (minutes.length != amounts.length) {
            throw new IllegalArgumentException("minutes and amounts differ in length");
        }
        this.minutes = minutes.clone();
        this.amounts = amounts.clone();
        this.breaker = breaker;
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

    public Breaker breaker() {
        return breaker;
    }

    /** Drops spend older than any window and closes a breaker whose cooldown is over. */
    public SpendLedger normalise(long nowMillis, CostLimits limits) {
        long oldestKept = Math.floorDiv(nowMillis - limits.spendRetentionMillis(), MINUTE);
        int from = 0;
        while (from < minutes.length && minutes[from] < oldestKept) {
            from++;
        }
        Breaker b = breaker;
        SpendLedger pruned = from == 0 ? this : new SpendLedger(
                Arrays.copyOfRange(minutes, from, minutes.length), Arrays.copyOfRange(amounts, from, amounts.length), b);
        if (b.open() && nowMillis >= b.closesAtMillis()) {
            return pruned.closedAt(b.closesAtMillis());
        }
        return pruned;
    }

    public Snapshot snapshot(long nowMillis, CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits);
        return new Snapshot(n.windowSpend(nowMillis, limits.hourlyWindowMillis()), n.breakerSpend(nowMillis, limits),
                n.breaker.open(), n.breaker.openedAtMillis(), n.breaker.closesAtMillis(), n.breaker.cause(),
                n.hourlyRetryAfterMillis(nowMillis, limits), nowMillis);
    }

    /** Adds spend at {@code nowMillis}; opens the breaker when its window reaches the threshold. */
    public Charged charge(long costNanoUsd, long nowMillis, CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits).plus(Math.floorDiv(nowMillis, MINUTE), costNanoUsd);
        boolean opens = limits.enforced() && !n.breaker.open()
                && n.breakerSpend(nowMillis, limits) >= limits.breakerThresholdNanoUsd();
        if (opens) {
            n = n.opened(nowMillis, limits, "spend", n.breakerSpend(nowMillis, limits));
        }
        return new Charged(n, n.snapshot(nowMillis, limits), opens);
    }

    /** Opens the breaker by hand; an open breaker stays as it is. */
    public SpendLedger trip(long nowMillis, CostLimits limits, String cause) {
        SpendLedger n = normalise(nowMillis, limits);
        return n.breaker.open() ? n : n.opened(nowMillis, limits, cause, n.breakerSpend(nowMillis, limits));
    }

    /** Closes the breaker now; spend before this moment no longer counts toward it. */
    public SpendLedger reset(long nowMillis, CostLimits limits) {
        return normalise(nowMillis, limits).closedAt(nowMillis);
    }

    private SpendLedger opened(long nowMillis, CostLimits limits, String cause, long spend) {
        return new SpendLedger(minutes, amounts, new Breaker(true, nowMillis, nowMillis + limits.breakerCooldownMillis(),
                cause, spend, breaker.closedAtMillis(), breaker.baselineNanoUsd()));
    }

    private SpendLedger closedAt(long closedAtMillis) {
        long closingMinute = Math.floorDiv(closedAtMillis, MINUTE);
        int i = Arrays.binarySearch(minutes, closingMinute);
        long baseline = i >= 0 ? amounts[i] : 0;
        return new SpendLedger(minutes, amounts, new Breaker(false, 0, 0, "", 0, closedAtMillis, baseline));
    }

    private SpendLedger plus(long minute, long nanoUsd) {
        int i = Arrays.binarySearch(minutes, minute);
        if (i >= 0) {
            long[] a = amounts.clone();
            a[i] = Math.addExact(a[i], nanoUsd);
            return new SpendLedger(minutes, a, breaker);
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
        return new SpendLedger(m, a, breaker);
    }

    /** Spend in buckets not yet wholly older than {@code windowMillis}. */
    private long windowSpend(long nowMillis, long windowMillis) {
        long sum = 0;
        for (int i = 0; i < minutes.length; i++) {
            if ((minutes[i] + 1) * MINUTE > nowMillis - windowMillis) {
                sum += amounts[i];
            }
        }
        return sum;
    }

    private long breakerSpend(long nowMillis, CostLimits limits) {
        long closingMinute = Math.floorDiv(breaker.closedAtMillis(), MINUTE);
        long sum = 0;
        for (int i = 0; i < minutes.length; i++) {
            boolean inWindow = (minutes[i] + 1) * MINUTE > nowMillis - limits.breakerWindowMillis();
            if (inWindow && minutes[i] >= closingMinute) {
                sum += minutes[i] == closingMinute ? amounts[i] - breaker.baselineNanoUsd() : amounts[i];
            }
        }
        return sum;
    }

    /** How long until the hourly window's spend is under the cap again, without new spend; 0 if it is. */
    private long hourlyRetryAfterMillis(long nowMillis, CostLimits limits) {
        long window = limits.hourlyWindowMillis();
        long spend = windowSpend(nowMillis, window);
        for (int i = 0; i < minutes.length && spend >= limits.maxHourlyCostNanoUsd(); i++) {
            long leavesAt = (minutes[i] + 1) * MINUTE + window;
            if (leavesAt <= nowMillis) {
                continue;
            }
            spend -= amounts[i];
            if (spend < limits.maxHourlyCostNanoUsd()) {
                return leavesAt - nowMillis;
            }
        }
        return 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpendLedger s && Arrays.equals(minutes, s.minutes) && Arrays.equals(amounts, s.amounts)
                && breaker.equals(s.breaker);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(minutes) + Arrays.hashCode(amounts)) + breaker.hashCode();
    }
}
