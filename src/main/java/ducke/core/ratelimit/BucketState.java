package ducke.core.ratelimit;

import java.util.Arrays;

/**
 * Immutable state of one client's buckets for one policy: the units left in each bandwidth
 * (one token = {@code periodMillis} units), the wall-clock epoch millisecond of the last refill, and
 * the tokens leased out to nodes (see {@link TokenBuckets#take}): {@code leasedTokens} taken from
 * every bandwidth and not yet given back, by leases of generation {@code leaseGeneration} that all
 * end by {@code leaseUntilMillis}. While tokens are leased, each bandwidth refills only up to its
 * capacity minus the leased tokens, so bucket and leases together never hold more than a full bucket.
 */
public final class BucketState {

    private final long[] units;
    private final long lastRefillMillis;
    private final long leasedTokens;
    private final long leaseUntilMillis;
    private final long leaseGeneration;

    public BucketState(long[] units, long lastRefillMillis) {
        this(units, lastRefillMillis, 0, 0, 0);
    }

    public BucketState(long[] units, long lastRefillMillis, long leasedTokens, long leaseUntilMillis, long leaseGeneration) {
        if (leasedTokens < 0) {
            throw new IllegalArgumentException("leased tokens must not be negative, got " + leasedTokens);
        }
        this.units = units.clone();
        this.lastRefillMillis = lastRefillMillis;
        this.leasedTokens = leasedTokens;
        this.leaseUntilMillis = leasedTokens == 0 ? 0 : leaseUntilMillis;
        this.leaseGeneration = leasedTokens == 0 ? 0 : leaseGeneration;
    }

    public int size() {
        return units.length;
    }

    public long units(int i) {
        return units[i];
    }

    public long lastRefillMillis() {
        return lastRefillMillis;
    }

    /** Tokens taken from every bandwidth by leases that are neither given back nor written off. */
    public long leasedTokens() {
        return leasedTokens;
    }

    /** When the last outstanding lease ends (caller's clock); 0 when none is outstanding. */
    public long leaseUntilMillis() {
        return leaseUntilMillis;
    }

    /** Identifies the outstanding leases; a give-back of another generation is ignored. 0 when none. */
    public long leaseGeneration() {
        return leaseGeneration;
    }

    long[] copyUnits() {
        return units.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BucketState other
                && lastRefillMillis == other.lastRefillMillis
                && leasedTokens == other.leasedTokens
                && leaseUntilMillis == other.leaseUntilMillis
                && leaseGeneration == other.leaseGeneration
                && Arrays.equals(units, other.units);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(units) + Long.hashCode(lastRefillMillis)) + Long.hashCode(leasedTokens);
    }

    @Override
    public String toString() {
        return "BucketState" + Arrays.toString(units) + "@" + lastRefillMillis
                + (leasedTokens == 0 ? "" : " leased " + leasedTokens + " until " + leaseUntilMillis + " gen " + leaseGeneration);
    }
}
