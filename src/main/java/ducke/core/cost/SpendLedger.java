package ducke.core.cost;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Cluster-wide spend in per-minute buckets, and the circuit breaker that watches it; immutable.
 * Held under one grid key so that every charge, trip and reset is one atomic step. Each writer
 * (see {@link ChargeId}) adds to its own row, so two copies diverged by a partition merge without
 * losing or doubling a charge ({@link #merge}); the windows count the sum of all rows.
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

    /**
     * After a reservation: the new ledger, whether the hold was taken ({@code ok}), whether the
     * refusal opened the breaker, and the snapshot.
     */
    public record Reserved(SpendLedger ledger, boolean ok, boolean breakerOpenedNow, Snapshot snapshot, long amountNanoUsd) {
        public Reserved(SpendLedger ledger, boolean ok, boolean breakerOpenedNow, Snapshot snapshot) {
            this(ledger, ok, breakerOpenedNow, snapshot, 0);
        }
    }

    public static final SpendLedger EMPTY = new SpendLedger(Map.of(), Breaker.CLOSED);

    private final SortedMap<String, SpendRow> rows;
    /** The sum of every row, by minute: what the windows and the breaker count. */
    private final long[] minutes;
    private final long[] amounts;
    private final Breaker breaker;
    /** Reservations of the responses that may start: counted against the breaker's threshold with the spend. */
    private final Holds holds;

    /** One writer's worth of spend, for callers that do not tell writers apart. */
    public SpendLedger(long[] minutes, long[] amounts, Breaker breaker) {
        this(minutes.length == 0 && amounts.length == 0 ? Map.of()
                : Map.of("", new SpendRow(minutes.length, 0, minutes, amounts)), breaker);
    }

    public SpendLedger(Map<String, SpendRow> rows, Breaker breaker) {
        this(rows, breaker, Holds.NONE);
    }

    public SpendLedger(Map<String, SpendRow> rows, Breaker breaker, Holds holds) {
        this.rows = Collections.unmodifiableSortedMap(new TreeMap<>(rows));
        this.breaker = breaker;
        this.holds = holds;
        TreeMap<Long, Long> totals = new TreeMap<>();
        for (SpendRow r : this.rows.values()) {
            for (int i = 0; i < r.bucketCount(); i++) {
                totals.merge(r.minute(i), r.amount(i), Math::addExact);
            }
        }
        this.minutes = totals.keySet().stream().mapToLong(Long::longValue).toArray();
        this.amounts = totals.values().stream().mapToLong(Long::longValue).toArray();
    }

    /** Writer → its spend; see {@link ChargeId}. */
    public SortedMap<String, SpendRow> rows() {
        return rows;
    }

    /** Minutes with spend, over all writers. */
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

    public Holds holds() {
        return holds;
    }

    /** Drops spend older than any window and closes a breaker whose cooldown is over. */
    public SpendLedger normalise(long nowMillis, CostLimits limits) {
        long oldestKept = Math.floorDiv(nowMillis - limits.spendRetentionMillis(), MINUTE);
        Holds inForce = holds.pruned(nowMillis);
        SpendLedger pruned = inForce == holds ? this : new SpendLedger(rows, breaker, inForce);
        if (minutes.length > 0 && minutes[0] < oldestKept) {
            Map<String, SpendRow> kept = new TreeMap<>();
            pruned.rows.forEach((writer, row) -> {
                SpendRow r = row.from(oldestKept);
                if (r.bucketCount() > 0) {
                    kept.put(writer, r);
                }
            });
            pruned = new SpendLedger(kept, breaker, inForce);
        }
        if (breaker.open() && nowMillis >= breaker.closesAtMillis()) {
            return pruned.closedAt(breaker.closesAtMillis());
        }
        return pruned;
    }

    public Snapshot snapshot(long nowMillis, CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits);
        return new Snapshot(n.windowSpend(nowMillis, limits.hourlyWindowMillis()), n.breakerSpend(nowMillis, limits),
                n.breaker.open(), n.breaker.openedAtMillis(), n.breaker.closesAtMillis(), n.breaker.cause(),
                n.hourlyRetryAfterMillis(nowMillis, limits), nowMillis);
    }

    /** {@link #charge(ChargeId, long, long, CostLimits)} by an anonymous live writer. */
    public Charged charge(long costNanoUsd, long nowMillis, CostLimits limits) {
        return charge(ChargeId.live(""), costNanoUsd, nowMillis, limits);
    }

    /**
     * Adds spend at {@code nowMillis} to {@code id}'s row; opens the breaker when its window reaches
     * the threshold. A replay applied before changes nothing.
     */
    public Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits) {
        return charge(id, costNanoUsd, nowMillis, limits, null);
    }

    /**
     * The same, settling a reservation: the hold {@code releaseHoldId} (null: none) is given back in
     * the same step as its real cost is added, so the two are never both missing from the window.
     */
    public Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits, String releaseHoldId) {
        SpendLedger n = normalise(nowMillis, limits);
        SpendRow row = n.rows.getOrDefault(id.writer(), SpendRow.EMPTY);
        if (row.seen(id.seq())) {
            n = new SpendLedger(n.rows, n.breaker, n.holds.without(releaseHoldId));
            return new Charged(n, n.snapshot(nowMillis, limits), false);
        }
        Map<String, SpendRow> next = new TreeMap<>(n.rows);
        next.put(id.writer(), row.plus(Math.floorDiv(nowMillis, MINUTE), costNanoUsd, id.seq()));
        n = new SpendLedger(next, n.breaker, n.holds.without(releaseHoldId));
        boolean opens = limits.enforced() && !n.breaker.open()
                && n.breakerSpend(nowMillis, limits) >= limits.breakerThresholdNanoUsd();
        if (opens) {
            n = n.opened(nowMillis, limits, "spend", n.breakerSpend(nowMillis, limits));
        }
        return new Charged(n, n.snapshot(nowMillis, limits), opens);
    }

    /**
     * Reserves {@code amountNanoUsd} as {@code holdId} (replacing what that id held) until
     * {@code expiresAtMillis}, if the breaker's window can take it: its spend, the other holds and
     * this one stay within the threshold. A reservation that does not fit is refused, and opens
     * the breaker (cause {@code spend}): the money committed — spent and reserved — has reached the
     * threshold. With the breaker open nothing is reserved; with limits not enforced, nothing is
     * held and everything fits.
     */
    public Reserved reserve(String holdId, long amountNanoUsd, long nowMillis, long expiresAtMillis, CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits);
        if (!limits.enforced()) {
            return new Reserved(n, true, false, n.snapshot(nowMillis, limits));
        }
        if (n.breaker.open()) {
            n = new SpendLedger(n.rows, n.breaker, n.holds.without(holdId));
            return new Reserved(n, false, false, n.snapshot(nowMillis, limits));
        }
        long spend = n.breakerSpend(nowMillis, limits);
        long committed = Math.addExact(Math.addExact(spend, n.holds.total(nowMillis, holdId)), amountNanoUsd);
        if (committed > limits.breakerThresholdNanoUsd()) {
            n = new SpendLedger(n.rows, n.breaker, n.holds.without(holdId)).opened(nowMillis, limits, "spend", spend);
            return new Reserved(n, false, true, n.snapshot(nowMillis, limits));
        }
        n = new SpendLedger(n.rows, n.breaker, n.holds.with(holdId, amountNanoUsd, expiresAtMillis));
        return new Reserved(n, true, false, n.snapshot(nowMillis, limits));
    }

    /**
     * Reserves as much as fits of {@code maxNanoUsd}, at least {@code minNanoUsd}: like
     * {@link #reserve}, with the amount taken in the answer; refused (and the breaker opened) when
     * not even the least fits.
     */
    public Reserved reserveUpTo(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                                CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits);
        long amount = maxNanoUsd;
        if (limits.enforced() && !n.breaker.open()) {
            long room = limits.breakerThresholdNanoUsd() - n.breakerSpend(nowMillis, limits) - n.holds.total(nowMillis, holdId);
            amount = Math.min(maxNanoUsd, Math.max(room, Math.max(0, minNanoUsd)));
        }
        Reserved r = n.reserve(holdId, amount, nowMillis, expiresAtMillis, limits);
        return new Reserved(r.ledger(), r.ok(), r.breakerOpenedNow(), r.snapshot(), r.ok() ? amount : 0);
    }

    /** Gives back the hold {@code holdId} (a session that ended, a response refused). */
    public SpendLedger release(String holdId, long nowMillis, CostLimits limits) {
        SpendLedger n = normalise(nowMillis, limits);
        return new SpendLedger(n.rows, n.breaker, n.holds.without(holdId));
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

    /**
     * Two copies of the spend ledger, diverged while the cluster was split, as one: every writer's
     * later row, so each charge counts once; the breaker as last changed (opened or closed), an
     * open one winning a tie. Commutative; null is no copy.
     */
    public static SpendLedger merge(SpendLedger a, SpendLedger b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        Map<String, SpendRow> rows = new TreeMap<>(a.rows);
        b.rows.forEach((writer, row) -> rows.merge(writer, row, SpendRow::later));
        return new SpendLedger(rows, laterBreaker(a.breaker, b.breaker), Holds.merge(a.holds, b.holds));
    }

    private static Breaker laterBreaker(Breaker a, Breaker b) {
        long changedA = Math.max(a.openedAtMillis(), a.closedAtMillis());
        long changedB = Math.max(b.openedAtMillis(), b.closedAtMillis());
        if (changedA != changedB) {
            return changedA > changedB ? a : b;
        }
        if (a.open() != b.open()) {
            return a.open() ? a : b;
        }
        return a.closesAtMillis() >= b.closesAtMillis() ? a : b;
    }

    private SpendLedger opened(long nowMillis, CostLimits limits, String cause, long spend) {
        return new SpendLedger(rows, new Breaker(true, nowMillis, nowMillis + limits.breakerCooldownMillis(),
                cause, spend, breaker.closedAtMillis(), breaker.baselineNanoUsd()), holds);
    }

    private SpendLedger closedAt(long closedAtMillis) {
        long closingMinute = Math.floorDiv(closedAtMillis, MINUTE);
        int i = Arrays.binarySearch(minutes, closingMinute);
        long baseline = i >= 0 ? amounts[i] : 0;
        return new SpendLedger(rows, new Breaker(false, 0, 0, "", 0, closedAtMillis, baseline), holds);
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
        return o instanceof SpendLedger s && rows.equals(s.rows) && breaker.equals(s.breaker) && holds.equals(s.holds);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rows.hashCode() + breaker.hashCode()) + holds.hashCode();
    }
}
