package ducke.core.ratelimit;

/**
 * What a node asks of a bucket in one grid call: {@code want} tokens (one for the request at hand,
 * the rest to spend locally until {@code untilMillis}), after giving back an earlier lease.
 *
 * @param want        tokens wanted, at least 1; the bucket may grant fewer (see {@link TokenBuckets#take})
 * @param generation  names the leases when this grant starts a new generation (outstanding was none);
 *                    chosen at random by the caller so that every replica computes the same state
 * @param untilMillis when the node stops spending the leased tokens (caller's clock)
 * @param giveBack    an earlier lease of this node ended by this call, or {@link LeaseReturn#NONE}
 */
public record LeaseAsk(long want, long generation, long untilMillis, LeaseReturn giveBack) {

    /** One token for the request at hand and no lease: the exact path. */
    public static final LeaseAsk ONE = new LeaseAsk(1, 0, 0, LeaseReturn.NONE);

    public LeaseAsk {
        if (want < 1) {
            throw new IllegalArgumentException("a check wants at least one token, got " + want);
        }
        if (giveBack == null) {
            giveBack = LeaseReturn.NONE;
        }
    }
}
