package ducke.core.cost;

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
    public record Snapshot(long hourlyNanoUsd, long retryAfterMillis, long heldNanoUsd) {
        public static final Snapshot NONE = new Snapshot(0, 0, 0);

        public Snapshot(long hourlyNanoUsd, long retryAfterMillis) {
            this(hourlyNanoUsd, retryAfterMillis, 0);
        }

        /** Spend and reservations together: what a new session's first response must fit beside. */
        public long committedNanoUsd() {
            return Math.addExact(hourlyNanoUsd, heldNanoUsd);
        }
    }

    public static final ClientSpend EMPTY = new ClientSpend(MinuteBuckets.EMPTY);

    private final MinuteBuckets buckets;
    /** Reservations of the client's live sessions for their next responses ({@link Holds}). */
    private final Holds holds;

    public ClientSpend(long[] minutes, long[] amounts) {
        this(MinuteBuckets.of(minutes, amounts));
    }

    public ClientSpend(MinuteBuckets buckets) {
        this(buckets, Holds.NONE);
    }

    public ClientSpend(MinuteBuckets buckets, Holds holds) {
        this.buckets = buckets;
        this.holds = holds;
    }

    public Holds holds() {
        return holds;
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

    /** Adds spend at {@code nowMillis}, dropping buckets that left the window. */
    public ClientSpend charge(long costNanoUsd, long nowMillis, CostLimits limits) {
        return charge(costNanoUsd, nowMillis, limits, null);
    }

    /** The same, giving back the hold {@code releaseHoldId} (null: none) in the same step: a reservation settled. */
    public ClientSpend charge(long costNanoUsd, long nowMillis, CostLimits limits, String releaseHoldId) {
        // a bucket counts until its whole minute has left the window: minute m while (m + 1) * MINUTE > now - window
        MinuteBuckets kept = buckets.from(Math.floorDiv(nowMillis - limits.hourlyWindowMillis(), MINUTE));
        return new ClientSpend(kept.plus(Math.floorDiv(nowMillis, MINUTE), costNanoUsd),
                holds.pruned(nowMillis).without(releaseHoldId));
    }

    /**
     * Reserves {@code amountNanoUsd} as {@code holdId} (replacing what it held) until
     * {@code expiresAtMillis} if the client's hour can take it: its spend in the window, its other
     * holds and this one stay within its cap. Null when it cannot (nothing changed); with limits
     * not enforced, nothing is held.
     */
    public ClientSpend reserve(String holdId, long amountNanoUsd, long nowMillis, long expiresAtMillis, CostLimits limits) {
        if (!limits.enforced()) {
            return this;
        }
        Holds inForce = holds.pruned(nowMillis);
        long committed = Math.addExact(Math.addExact(snapshot(nowMillis, limits).hourlyNanoUsd(),
                inForce.total(nowMillis, holdId)), amountNanoUsd);
        if (committed > limits.maxClientHourlyCostNanoUsd()) {
            return null;
        }
        return new ClientSpend(buckets, inForce.with(holdId, amountNanoUsd, expiresAtMillis));
    }

    /**
     * Reserves as much as fits of {@code maxNanoUsd}, at least {@code minNanoUsd}, as {@code holdId}
     * (replacing what it held): the amount taken is the hold's in the result ({@link #held}); null
     * when not even {@code minNanoUsd} fits (nothing changed).
     */
    public ClientSpend reserveUpTo(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                                   CostLimits limits) {
        if (!limits.enforced()) {
            return this;
        }
        long room = limits.maxClientHourlyCostNanoUsd() - snapshot(nowMillis, limits).hourlyNanoUsd()
                - holds.pruned(nowMillis).total(nowMillis, holdId);
        long amount = Math.min(maxNanoUsd, room);
        return amount < Math.max(0, minNanoUsd) ? null : reserve(holdId, amount, nowMillis, expiresAtMillis, limits);
    }

    /** What {@code holdId} holds now (0: nothing, or lapsed); with limits not enforced, nothing is held. */
    public long held(String holdId, long nowMillis) {
        Holds.Hold h = holds.byId().get(holdId);
        return h == null || h.expiresAtMillis() <= nowMillis ? 0 : h.amountNanoUsd();
    }

    /** Gives back the hold {@code holdId}. */
    public ClientSpend release(String holdId, long nowMillis) {
        return new ClientSpend(buckets, holds.pruned(nowMillis).without(holdId));
    }

    public Snapshot snapshot(long nowMillis, CostLimits limits) {
        long window = limits.hourlyWindowMillis();
        long cap = limits.maxClientHourlyCostNanoUsd();
        long spend = 0;
        for (int i = 0; i < bucketCount(); i++) {
            if (inWindow(i, nowMillis, window)) {
                spend = Math.addExact(spend, amount(i));
            }
        }
        long total = spend;
        for (int i = 0; i < bucketCount() && spend >= cap; i++) {
            if (!inWindow(i, nowMillis, window)) {
                continue;
            }
            spend -= amount(i);
            if (spend < cap) {
                return new Snapshot(total, (minute(i) + 1) * MINUTE + window - nowMillis, holds.total(nowMillis));
            }
        }
        return new Snapshot(total, 0, holds.total(nowMillis));
    }

    /** When every bucket has left the window: the entry may be dropped from then on. */
    public long idleAtMillis(CostLimits limits) {
        long spendIdle = bucketCount() == 0 ? Long.MIN_VALUE : (minute(bucketCount() - 1) + 1) * MINUTE + limits.hourlyWindowMillis();
        return Math.max(spendIdle, holds.lastExpiryMillis());
    }

    public boolean isEmpty() {
        return bucketCount() == 0 && holds.isEmpty();
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
            for (int i = 0; i < c.bucketCount(); i++) {
                byMinute.merge(c.minute(i), c.amount(i), Math::max);
            }
        }
        return new ClientSpend(MinuteBuckets.of(byMinute.keySet().stream().mapToLong(Long::longValue).toArray(),
                byMinute.values().stream().mapToLong(Long::longValue).toArray()), Holds.merge(a.holds, b.holds));
    }

    private boolean inWindow(int i, long nowMillis, long windowMillis) {
        return (minute(i) + 1) * MINUTE > nowMillis - windowMillis;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientSpend c && buckets.equals(c.buckets) && holds.equals(c.holds);
    }

    @Override
    public int hashCode() {
        return 31 * buckets.hashCode() + holds.hashCode();
    }
}
