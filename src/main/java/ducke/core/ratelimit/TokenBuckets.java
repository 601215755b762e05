package ducke.core.ratelimit;

/**
 * Pure token-bucket arithmetic in exact integers. Never reads a clock: the caller passes
 * {@code nowMillis} (wall-clock epoch millis), so every replica of a bucket computes the same result.
 * A clock that goes backwards refills nothing.
 *
 * <p><b>Leases.</b> A check may take more than one token ({@link #take}): the extra tokens are
 * leased to the asking node, which spends them on later requests of the same client without asking
 * the grid again, until the lease ends. The bucket counts leased tokens as outstanding until the node
 * gives back the unused rest ({@link #giveBack}) or, for a node that never does (it crashed), until
 * {@link #LEASE_GRACE_MILLIS} after the last lease ended. Three rules keep the limit exact:
 * <ol>
 *   <li>a grant is at most 1/{@link #LEASE_SHARE} of the whole tokens available (rounded down, at
 *       least one), so when fewer than {@code 2 × LEASE_SHARE} tokens are left they go one by one;</li>
 *   <li>while tokens are outstanding each bandwidth refills only up to its capacity minus them, so
 *       bucket plus leases never hold more than one full bucket: no window ever allows more than a
 *       single bucket would;</li>
 *   <li>a give-back only moves tokens that were outstanding back into the bucket, and only for the
 *       generation they were leased in; once written off they are gone.</li>
 * </ol>
 */
public final class TokenBuckets {

    /** A grant takes at most this fraction (1/n) of the whole tokens available. */
    public static final long LEASE_SHARE = 16;

    /**
     * How long after its end a lease that was never given back still counts as outstanding. Covers
     * clock differences between nodes: a node stops spending a lease by its own clock.
     */
    public static final long LEASE_GRACE_MILLIS = 1_000;

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

    /**
     * The state refilled up to {@code nowMillis} (never above capacity minus the outstanding leased
     * tokens), with leases written off once {@link #LEASE_GRACE_MILLIS} past their end; a state of a
     * different policy shape starts fresh.
     */
    public static BucketState refill(LimitPolicy policy, BucketState state, long nowMillis) {
        if (state == null || state.size() != policy.size()) {
            return fresh(policy, nowMillis);
        }
        // a clock behind the last refill refills nothing, but a lowered limit still caps what is stored
        long elapsed = Math.max(0, nowMillis - state.lastRefillMillis());
        long leased = state.leasedTokens();
        long[] units = state.copyUnits();
        boolean changed = elapsed > 0;
        for (int i = 0; i < units.length; i++) {
            Bandwidth b = policy.get(i);
            long cap = ceiling(b, leased);
            // capping elapsed at one period keeps elapsed × capacity within a long
            long gained = Math.min(elapsed, b.periodMillis()) * b.capacity();
            long refilled = Math.min(cap, Math.min(units[i], b.maxUnits()) + gained);
            changed |= refilled != units[i];
            units[i] = refilled;
        }
        if (leased > 0 && nowMillis >= state.leaseUntilMillis() + LEASE_GRACE_MILLIS) {
            leased = 0; // every lease has ended by every node's clock: what was not given back is spent
            changed = true;
        }
        return changed
                ? new BucketState(units, Math.max(nowMillis, state.lastRefillMillis()), leased,
                        state.leaseUntilMillis(), state.leaseGeneration())
                : state;
    }

    /** Takes one token from every bandwidth if each has one; otherwise takes nothing. */
    public static Decision tryConsume(LimitPolicy policy, BucketState stored, long nowMillis) {
        return take(policy, stored, nowMillis, LeaseAsk.ONE);
    }

    /**
     * Gives back {@code ask.giveBack()}, then takes {@code g} tokens from every bandwidth if each has
     * one, where {@code g = min(ask.want, max(1, available / LEASE_SHARE))}; otherwise takes nothing.
     * One token is the request's own; the other {@code g - 1} are leased to the asking node until
     * {@code ask.untilMillis()} and counted as outstanding.
     */
    public static Decision take(LimitPolicy policy, BucketState stored, long nowMillis, LeaseAsk ask) {
        BucketState refilled = refill(policy, stored, nowMillis);
        BucketState current = applyReturn(policy, refilled, ask.giveBack());
        long available = Long.MAX_VALUE;
        for (int i = 0; i < policy.size(); i++) {
            available = Math.min(available, current.units(i) / policy.get(i).unitsPerToken());
        }
        if (available < 1) {
            long storedLeased = stored == null ? 0 : stored.leasedTokens();
            // a denial stores nothing unless it changed the leases: the refill is a pure function of the stored state
            boolean leasesChanged = current != refilled || current.leasedTokens() != storedLeased;
            return describe(policy, current, false, leasesChanged ? current : null, nowMillis, 0, 0);
        }
        long granted = Math.min(ask.want(), Math.max(1, available / LEASE_SHARE));
        long[] units = current.copyUnits();
        for (int i = 0; i < units.length; i++) {
            units[i] -= granted * policy.get(i).unitsPerToken();
        }
        BucketState after;
        long generation = 0;
        if (granted > 1) {
            generation = current.leasedTokens() == 0 ? ask.generation() : current.leaseGeneration();
            after = new BucketState(units, current.lastRefillMillis(), current.leasedTokens() + granted - 1,
                    Math.max(current.leaseUntilMillis(), ask.untilMillis()), generation);
        } else {
            after = new BucketState(units, current.lastRefillMillis(), current.leasedTokens(),
                    current.leaseUntilMillis(), current.leaseGeneration());
        }
        return describe(policy, after, true, after, nowMillis, granted, generation);
    }

    /**
     * The state after a node gave back a lease at {@code nowMillis}, or null when nothing changes:
     * no bucket (it expired or was reset), or the lease is no longer outstanding.
     */
    public static BucketState giveBack(LimitPolicy policy, BucketState stored, long nowMillis, LeaseReturn giveBack) {
        if (stored == null || giveBack.isNone()) {
            return null;
        }
        BucketState refilled = refill(policy, stored, nowMillis);
        BucketState after = applyReturn(policy, refilled, giveBack);
        return after == refilled && after.leasedTokens() == stored.leasedTokens() ? null : after;
    }

    /** A read-only view of the buckets at {@code nowMillis}, for headers without consuming. */
    public static Decision peek(LimitPolicy policy, BucketState stored, long nowMillis) {
        return describe(policy, refill(policy, stored, nowMillis), true, null, nowMillis, 0, 0);
    }

    /** How long {@code state} matters after {@code nowMillis}: until it is full and no lease is outstanding. */
    public static long entryTtlMillis(LimitPolicy policy, BucketState state, long nowMillis) {
        long behind = Math.max(0, state.lastRefillMillis() - nowMillis);
        long ttl = 0;
        for (int i = 0; i < policy.size(); i++) {
            Bandwidth b = policy.get(i);
            long units = state.units(i);
            ttl = Math.max(ttl, units >= b.maxUnits() ? 0 : behind + Decision.ceilDiv(b.maxUnits() - units, b.capacity()));
        }
        if (state.leasedTokens() > 0) {
            ttl = Math.max(ttl, state.leaseUntilMillis() + LEASE_GRACE_MILLIS - nowMillis);
        }
        return ttl;
    }

    /** The most units a bandwidth may hold while {@code leased} tokens are outstanding. */
    private static long ceiling(Bandwidth b, long leased) {
        return leased >= b.capacity() ? 0 : b.maxUnits() - leased * b.unitsPerToken();
    }

    private static BucketState applyReturn(LimitPolicy policy, BucketState s, LeaseReturn r) {
        if (r.isNone() || s.leasedTokens() == 0 || s.leaseGeneration() != r.generation()) {
            return s;
        }
        long leased = Math.max(0, s.leasedTokens() - r.leased());
        long[] units = s.copyUnits();
        for (int i = 0; i < units.length; i++) {
            Bandwidth b = policy.get(i);
            units[i] = Math.min(ceiling(b, leased), units[i] + Math.min(r.unused(), b.capacity()) * b.unitsPerToken());
        }
        return new BucketState(units, s.lastRefillMillis(), leased, s.leaseUntilMillis(), s.leaseGeneration());
    }

    private static Decision describe(LimitPolicy policy, BucketState s, boolean allowed, BucketState changed,
                                     long nowMillis, long granted, long generation) {
        // when the caller's clock is behind the last refill, refilling starts only once it catches up
        long behind = Math.max(0, s.lastRefillMillis() - nowMillis);
        int tightest = 0;
        long tightestRemaining = Long.MAX_VALUE;
        long tightestReset = 0;
        long retryAfter = 0;
        Bandwidth limiting = null;
        for (int i = 0; i < policy.size(); i++) {
            Bandwidth b = policy.get(i);
            long units = s.units(i);
            long remaining = units / b.unitsPerToken();
            // a grant's reset counts its leased tokens as unspent: the node adds what it spends (LocalLeases)
            long unspent = units + Math.max(0, granted - 1) * b.unitsPerToken();
            long reset = unspent >= b.maxUnits() ? 0 : behind + Decision.ceilDiv(b.maxUnits() - unspent, b.capacity());
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
                tightestReset, retryAfter, limiting == null ? shown : limiting, entryTtlMillis(policy, s, nowMillis),
                granted, generation);
    }
}
