package ducke.core.ratelimit;

/**
 * Pure token-bucket arithmetic in exact integers. Never reads a clock: the caller passes
 * {@code nowMillis} (wall-clock epoch millis), so every replica of a bucket computes the same result.
 * A clock that goes backwards refills nothing.
 */
public final class TokenBuckets {

    private TokenBuckets() {
    }

    /** A bucket that has never been used: every bandwidth full. */
    public static BucketState fresh(LimitPolicy policy, long nowMillis) {
        long[] units = new long[policy.size()];
        for (int i = 0; i < units.length; i++) {
            units[i] = policy.get(i).maxUnits();
        }
        return new BucketState(units, nowMillis);
    }

    /** The state refilled up to {@code nowMillis}; a state of a different policy shape starts fresh. */
    public static BucketState refill(LimitPolicy policy, BucketState state, long nowMillis) {
        if (state == null || state.size() != policy.size()) {
            return fresh(policy, nowMillis);
        }
        // a clock behind the last refill refills nothing, but a lowered limit still caps what is stored
        long elapsed = Math.max(0, nowMillis - state.lastRefillMillis());
        long[] units = state.copyUnits();
        boolean changed = elapsed > 0;
        for (int i = 0; i < units.length; i++) {
            Bandwidth b = policy.get(i);
            long max = b.maxUnits();
            // capping elapsed at one period keeps elapsed × capacity within a long
            long gained = Math.min(elapsed, b.periodMillis()) * b.capacity();
            long refilled = Math.min(max, Math.min(units[i], max) + gained);
            changed |= refilled != units[i];
            units[i] = refilled;
        }
        return changed ? new BucketState(units, Math.max(nowMillis, state.lastRefillMillis())) : state;
    }

    /** Takes one token from every bandwidth if each has one; otherwise takes nothing. */
    public static Decision tryConsume(LimitPolicy policy, BucketState stored, long nowMillis) {
        BucketState current = refill(policy, stored, nowMillis);
        boolean allowed = true;
        for (int i = 0; i < policy.size(); i++) {
            if (current.units(i) < policy.get(i).unitsPerToken()) {
                allowed = false;
                break;
            }
        }
        BucketState after = current;
        if (allowed) {
            long[] units = current.copyUnits();
            for (int i = 0; i < units.length; i++) {
                units[i] -= policy.get(i).unitsPerToken();
            }
            after = new BucketState(units, current.lastRefillMillis());
        }
        // a denial stores nothing: its refill is a pure function of the stored state and the time
        return describe(policy, after, allowed, allowed ? after : null, nowMillis);
    }

    /** A read-only view of the buckets at {@code nowMillis}, for headers without consuming. */
    public static Decision peek(LimitPolicy policy, BucketState stored, long nowMillis) {
        return describe(policy, refill(policy, stored, nowMillis), true, null, nowMillis);
    }

    private static Decision describe(LimitPolicy policy, BucketState s, boolean allowed, BucketState changed,
                                     long nowMillis) {
        // when the caller's clock is behind the last refill, refilling starts only once it catches up
        long behind = Math.max(0, s.lastRefillMillis() - nowMillis);
        int tightest = 0;
        long tightestRemaining = Long.MAX_VALUE;
        long tightestReset = 0;
        long retryAfter = 0;
        Bandwidth limiting = null;
        long ttl = 0;
        for (int i = 0; i < policy.size(); i++) {
            Bandwidth b = policy.get(i);
            long units = s.units(i);
            long remaining = units / b.unitsPerToken();
            long reset = units >= b.maxUnits() ? 0 : behind + Decision.ceilDiv(b.maxUnits() - units, b.capacity());
            ttl = Math.max(ttl, reset);
            if (remaining < tightestRemaining || (remaining == tightestRemaining && reset > tightestReset)) {
                tightest = i;
                tightestRemaining = remaining;
                tightestReset = reset;
            }
            if (!allowed && units < b.unitsPerToken()) {
                long wait = behind + Decision.ceilDiv(b.unitsPerToken() - units, b.capacity());
                if (wait > retryAfter) {
                    retryAfter = wait;
                    limiting = b;
                }
            }
        }
        Bandwidth shown = policy.get(tightest);
        return new Decision(allowed, changed, shown.capacity(), shown.windowSeconds(), tightestRemaining,
                tightestReset, retryAfter, limiting == null ? shown : limiting, ttl);
    }
}
