package ducke.core.ratelimit;

/**
 * A node ends a lease: of the {@code leased} tokens it was granted beyond its own request,
 * {@code unused} were not spent and go back to the bucket.
 *
 * @param generation the generation the lease was granted in; ignored when the bucket has moved on
 * @param leased     tokens the lease held when granted (the bucket counts them as outstanding)
 * @param unused     tokens the node did not spend and will never spend; 0 ≤ unused ≤ leased
 */
public record LeaseReturn(long generation, long leased, long unused) {

    public static final LeaseReturn NONE = new LeaseReturn(0, 0, 0);

    public LeaseReturn {
        if (leased < 0 || unused < 0 || unused > leased) {
            throw new IllegalArgumentException("bad lease return: " + unused + " unused of " + leased);
        }
    }

    public boolean isNone() {
        return leased == 0;
    }
}
