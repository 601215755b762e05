package ducke.core.ratelimit;

/**
 * The answer to one rate-limit check.
 *
 * @param allowed          whether the request may proceed (a token was taken from every bandwidth)
 * @param state            the bucket state to store; null when nothing changed
 * @param limit            capacity of the bandwidth the headers describe (the tightest one)
 * @param windowSeconds    window of that bandwidth
 * @param remaining        whole tokens left in that bandwidth after this request
 * @param resetMillis      milliseconds until that bandwidth is full again
 * @param retryAfterMillis when denied, milliseconds until every bandwidth has a token; else 0
 * @param limiting         the bandwidth that denied the request (the longest wait), or the tightest one
 * @param entryTtlMillis   how long the stored state matters: after it, all buckets are full anyway
 *                         and no lease is outstanding
 * @param granted          tokens taken: 0 when denied, 1 for this request alone, more when the
 *                         rest ({@code granted - 1}) were leased to the asking node
 * @param leaseGeneration  the generation the leased tokens belong to (give them back with it); 0 when none
 */
public record Decision(boolean allowed, BucketState state, long limit, long windowSeconds, long remaining,
                       long resetMillis, long retryAfterMillis, Bandwidth limiting, long entryTtlMillis,
                       long granted, long leaseGeneration) {

    /** A decision without a lease: one token taken when allowed, none when denied. */
    public Decision(boolean allowed, BucketState state, long limit, long windowSeconds, long remaining,
                    long resetMillis, long retryAfterMillis, Bandwidth limiting, long entryTtlMillis) {
        this(allowed, state, limit, windowSeconds, remaining, resetMillis, retryAfterMillis, limiting, entryTtlMillis,
                allowed ? 1 : 0, 0);
    }

    /** Tokens of this decision leased to the asking node, beyond the one its own request took. */
    public long leased() {
        return Math.max(0, granted - 1);
    }

    /** Whole seconds a denied client must wait: rounded up, at least 1. */
    public long retryAfterSeconds() {
        return Math.max(1, ceilDiv(retryAfterMillis, 1000));
    }

    /** Whole seconds until the described bandwidth is full again, rounded up. */
    public long resetSeconds() {
        return ceilDiv(resetMillis, 1000);
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
