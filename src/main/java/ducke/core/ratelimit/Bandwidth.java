package ducke.core.ratelimit;

/**
 * One limit of a policy: at most {@code capacity} requests per {@code periodMillis}, refilled
 * continuously (a token bucket that holds {@code capacity} tokens and gains them back evenly over
 * the period).
 */
public record Bandwidth(long capacity, long periodMillis) {

    /** Largest product capacity × period we accept, so bucket arithmetic never overflows a long. */
    static final long MAX_UNITS = Long.MAX_VALUE / 4;

    public Bandwidth {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        if (periodMillis < 1000 || periodMillis % 1000 != 0) {
            throw new IllegalArgumentException("period must be a whole number of seconds, got " + periodMillis + " ms");
        }
        if (capacity > MAX_UNITS / periodMillis) {
            throw new IllegalArgumentException("limit too large: " + capacity + " per " + periodMillis + " ms");
        }
    }

    public long windowSeconds() {
        return periodMillis / 1000;
    }

    /** Bucket units that make one token; the bucket gains {@code capacity} units per millisecond. */
    long unitsPerToken() {
        return periodMillis;
    }

    long maxUnits() {
        return capacity * periodMillis;
    }

    /** Human form used in error bodies, e.g. {@code "5 per 1 minute"}. */
    public String describe() {
        return capacity + " per " + PeriodUnit.describe(periodMillis);
    }
}
