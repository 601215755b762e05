package ducke.core.ratelimit;

import java.util.Arrays;

/**
 * Immutable state of one client's buckets for one policy: the units left in each bandwidth
 * (one token = {@code periodMillis} units) and the wall-clock epoch millisecond of the last refill.
 */
public final class BucketState {

    private final long[] units;
    private final long lastRefillMillis;

    public BucketState(long[] units, long lastRefillMillis) {
        this.units = units.clone();
        this.lastRefillMillis = lastRefillMillis;
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

    long[] copyUnits() {
        return units.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BucketState other
                && lastRefillMillis == other.lastRefillMillis
                && Arrays.equals(units, other.units);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(units) + Long.hashCode(lastRefillMillis);
    }

    @Override
    public String toString() {
        return "BucketState" + Arrays.toString(units) + "@" + lastRefillMillis;
    }
}
