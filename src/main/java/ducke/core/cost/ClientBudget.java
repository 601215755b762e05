package ducke.core.cost;

/**
 * One client's budgets over calendar windows, immutable: its override (null: the defaults), its
 * spend in the current day and month, its session time in the current day, and the reservations
 * of its live sessions (money for their next responses, time for their remaining duration). Held in
 * the grid under the client's key and changed only through the methods here, each given the
 * windows of the caller's {@code nowMillis} ({@link BudgetWindows}): a counter of an older window
 * starts over; one of a newer window (a clock that went back) goes on counting.
 *
 * <p>Money is nano-USD, time milliseconds of session time. Reservations lapse at their expiry like
 * the client's hourly ones ({@link Holds}).
 */
public record ClientBudget(BudgetOverride override, long dayStartMillis, long daySpendNanoUsd, long dayUsedMillis,
                           long monthStartMillis, long monthSpendNanoUsd, Holds holds, Holds timeHolds) {

    public static final ClientBudget EMPTY = new ClientBudget(null, 0, 0, 0, 0, 0, Holds.NONE, Holds.NONE);

    /** Why a client is refused: the window, and when it starts over (epoch ms). */
    public record Refusal(BudgetWindow window, long resetAtMillis) {
    }

    /** The limits in force for this client. */
    public BudgetLimits limits(BudgetLimits defaults) {
        return override == null ? defaults : override.over(defaults);
    }

    /** The counters of the windows of {@code w}: those of an older day or month start over. */
    public ClientBudget rolled(BudgetWindows w) {
        boolean newDay = w.dayStartMillis() > dayStartMillis;
        boolean newMonth = w.monthStartMillis() > monthStartMillis;
        if (!newDay && !newMonth) {
            return this;
        }
        return new ClientBudget(override, newDay ? w.dayStartMillis() : dayStartMillis, newDay ? 0 : daySpendNanoUsd,
                newDay ? 0 : dayUsedMillis, newMonth ? w.monthStartMillis() : monthStartMillis,
                newMonth ? 0 : monthSpendNanoUsd, holds, timeHolds);
    }

    /** Adds spend to the day and the month, giving back the reservation {@code releaseHoldId} (null: none). */
    public ClientBudget charge(long costNanoUsd, BudgetWindows w, long nowMillis, String releaseHoldId) {
        ClientBudget r = rolled(w);
        return new ClientBudget(override, r.dayStartMillis, Math.addExact(r.daySpendNanoUsd, costNanoUsd), r.dayUsedMillis,
                r.monthStartMillis, Math.addExact(r.monthSpendNanoUsd, costNanoUsd),
                holds.pruned(nowMillis).without(releaseHoldId), timeHolds.pruned(nowMillis));
    }

    /**
     * Reserves as much as fits of {@code maxNanoUsd}, at least {@code minNanoUsd}, as {@code holdId}
     * (replacing what it held) until {@code expiresAtMillis}: the day's and the month's spend, the
     * other reservations and this one stay within the limits. Null when not even the minimum fits;
     * without money limits nothing is held (this unchanged).
     */
    public ClientBudget reserveUpTo(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                                    BudgetWindows w, BudgetLimits defaults) {
        BudgetLimits l = limits(defaults);
        if (!l.money()) {
            return this;
        }
        ClientBudget r = rolled(w);
        Holds inForce = holds.pruned(nowMillis);
        long others = inForce.total(nowMillis, holdId);
        long room = Math.min(room(l.dayNanoUsd(), r.daySpendNanoUsd, others), room(l.monthNanoUsd(), r.monthSpendNanoUsd, others));
        long amount = Math.min(maxNanoUsd, room);
        if (amount < Math.max(0, minNanoUsd)) {
            return null;
        }
        return new ClientBudget(override, r.dayStartMillis, r.daySpendNanoUsd, r.dayUsedMillis, r.monthStartMillis,
                r.monthSpendNanoUsd, inForce.with(holdId, amount, expiresAtMillis), timeHolds.pruned(nowMillis));
    }

    /** What {@code holdId} holds now (0: nothing, or lapsed). */
    public long held(String holdId, long nowMillis) {
        Holds.Hold h = holds.byId().get(holdId);
        return h == null || h.expiresAtMillis() <= nowMillis ? 0 : h.amountNanoUsd();
    }

    /** Gives back the reservation {@code holdId}. */
    public ClientBudget release(String holdId, long nowMillis) {
        return new ClientBudget(override, dayStartMillis, daySpendNanoUsd, dayUsedMillis, monthStartMillis, monthSpendNanoUsd,
                holds.pruned(nowMillis).without(holdId), timeHolds.pruned(nowMillis));
    }

    /**
     * Reserves session time for {@code sessionId}: as much as fits of {@code maxMillis}, at least
     * {@code minMillis}, beside the day's time used and the client's other live sessions. Null when
     * not even the minimum fits; without a time limit nothing is held.
     */
    public ClientBudget reserveTime(String sessionId, long minMillis, long maxMillis, long nowMillis, long expiresAtMillis,
                                    BudgetWindows w, BudgetLimits defaults) {
        long limit = limits(defaults).dayMillis();
        if (limit == BudgetLimits.NONE) {
            return this;
        }
        ClientBudget r = rolled(w);
        Holds inForce = timeHolds.pruned(nowMillis);
        long amount = Math.min(maxMillis, room(limit, r.dayUsedMillis, inForce.total(nowMillis, sessionId)));
        if (amount < Math.max(0, minMillis)) {
            return null;
        }
        return new ClientBudget(override, r.dayStartMillis, r.daySpendNanoUsd, r.dayUsedMillis, r.monthStartMillis,
                r.monthSpendNanoUsd, holds.pruned(nowMillis), inForce.with(sessionId, amount, expiresAtMillis));
    }

    /** The session time {@code sessionId} holds now (0: nothing, or lapsed). */
    public long heldTime(String sessionId, long nowMillis) {
        Holds.Hold h = timeHolds.byId().get(sessionId);
        return h == null || h.expiresAtMillis() <= nowMillis ? 0 : h.amountNanoUsd();
    }

    /** Counts {@code usedMillis} of session time in the day and gives back what {@code sessionId} held. */
    public ClientBudget useTime(String sessionId, long usedMillis, BudgetWindows w, long nowMillis) {
        ClientBudget r = rolled(w);
        return new ClientBudget(override, r.dayStartMillis, r.daySpendNanoUsd, Math.addExact(r.dayUsedMillis, Math.max(0, usedMillis)),
                r.monthStartMillis, r.monthSpendNanoUsd, holds.pruned(nowMillis), timeHolds.pruned(nowMillis).without(sessionId));
    }

    public ClientBudget withOverride(BudgetOverride o) {
        return new ClientBudget(BudgetOverride.replacing(override, o), dayStartMillis, daySpendNanoUsd, dayUsedMillis, monthStartMillis,
                monthSpendNanoUsd, holds, timeHolds);
    }

    /** The day's spend (0 once the day is over). */
    public long daySpend(BudgetWindows w) {
        return rolled(w).daySpendNanoUsd;
    }

    public long monthSpend(BudgetWindows w) {
        return rolled(w).monthSpendNanoUsd;
    }

    public long dayUsed(BudgetWindows w) {
        return rolled(w).dayUsedMillis;
    }

    /**
     * The window that refuses a new session, or null: spend plus reservations at or over a money
     * limit, time used plus reserved at or over the time limit. Reservations free within a
     * response or a session: a window full only of them is retried in a second ({@code resetAtMillis}
     * then is {@code nowMillis + 1000}).
     */
    public Refusal refusal(long nowMillis, BudgetWindows w, BudgetLimits defaults) {
        return refusal(nowMillis, w, defaults, 0);
    }

    /**
     * The same for a session whose first response reserves at least {@code leastNanoUsd}: a money
     * window with less room left than that is refused until its reset (it can pay no response before),
     * one with less room beside the reservations in a second.
     */
    public Refusal refusal(long nowMillis, BudgetWindows w, BudgetLimits defaults, long leastNanoUsd) {
        BudgetLimits l = limits(defaults);
        ClientBudget r = rolled(w);
        long held = holds.total(nowMillis);
        long heldTime = timeHolds.total(nowMillis);
        for (BudgetWindow window : BudgetWindow.values()) {
            long limit = l.limit(window);
            if (limit == BudgetLimits.NONE) {
                continue;
            }
            long used = window == BudgetWindow.DAY ? r.daySpendNanoUsd : window == BudgetWindow.MONTH ? r.monthSpendNanoUsd : r.dayUsedMillis;
            long reserved = window == BudgetWindow.MINUTES ? heldTime : held;
            long least = window == BudgetWindow.MINUTES ? 0 : Math.max(0, leastNanoUsd);
            if (used >= limit || limit - used < least) {
                return new Refusal(window, w.resetAtMillis(window));
            }
            if (Math.addExact(used, reserved) >= limit || limit - used - reserved < least) {
                return new Refusal(window, nowMillis + 1000);
            }
        }
        return null;
    }

    /** Whether the entry may leave the grid: no override, no reservation, and nothing counted in the windows of {@code w}. */
    public boolean idle(BudgetWindows w, long nowMillis) {
        ClientBudget r = rolled(w);
        return (override == null) && holds.pruned(nowMillis).isEmpty() && timeHolds.pruned(nowMillis).isEmpty()
                && r.daySpendNanoUsd == 0 && r.monthSpendNanoUsd == 0 && r.dayUsedMillis == 0;
    }

    /** When the entry holds nothing any more without further changes: the month's end, or a later reservation's expiry; never with an override. */
    public long idleAtMillis(BudgetWindows w) {
        if (override != null) {
            return Long.MAX_VALUE;
        }
        return Math.max(w.monthEndMillis(), Math.max(holds.lastExpiryMillis(), timeHolds.lastExpiryMillis()));
    }

    /**
     * Two copies diverged while the cluster was split, as one: per window the newer one, and within
     * one window the larger count (a gate takes the cheaper form; the charges' audit rows are the
     * record of money and rebuild the exact sums after a full restart); the reservations of both;
     * the later override. Commutative; null is no copy.
     */
    public static ClientBudget merge(ClientBudget a, ClientBudget b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        long dayStart = Math.max(a.dayStartMillis, b.dayStartMillis);
        long monthStart = Math.max(a.monthStartMillis, b.monthStartMillis);
        return new ClientBudget(BudgetOverride.later(a.override, b.override), dayStart,
                Math.max(a.dayStartMillis == dayStart ? a.daySpendNanoUsd : 0, b.dayStartMillis == dayStart ? b.daySpendNanoUsd : 0),
                Math.max(a.dayStartMillis == dayStart ? a.dayUsedMillis : 0, b.dayStartMillis == dayStart ? b.dayUsedMillis : 0),
                monthStart,
                Math.max(a.monthStartMillis == monthStart ? a.monthSpendNanoUsd : 0, b.monthStartMillis == monthStart ? b.monthSpendNanoUsd : 0),
                Holds.merge(a.holds, b.holds), Holds.merge(a.timeHolds, b.timeHolds));
    }

    private static long room(long limit, long used, long held) {
        return limit == BudgetLimits.NONE ? Long.MAX_VALUE : limit - used - held;
    }
}
