package ducke.core.ratelimit;

import java.util.Collection;

/** Where buckets live. The cluster implementation keeps them in the grid, shared by every node. */
public interface RateLimitStore {

    /**
     * Atomically refills and, if possible, takes one token from the bucket under {@code key}.
     *
     * @throws StoreUnavailableException when the store cannot answer in time
     */
    Decision tryConsume(String key, LimitPolicy policy, long nowMillis);

    /**
     * Atomically gives back {@code ask.giveBack()}, refills and takes up to {@code ask.want()} tokens
     * ({@link TokenBuckets#take}). A store that leases nothing takes one token.
     *
     * @throws StoreUnavailableException when the store cannot answer in time
     */
    default Decision take(String key, LimitPolicy policy, long nowMillis, LeaseAsk ask) {
        return tryConsume(key, policy, nowMillis);
    }

    /**
     * Gives back the unused tokens of a lease that ended, without waiting for the answer: a
     * give-back that is lost only keeps the tokens out of the bucket until the lease is written off.
     */
    default void giveBack(String key, LimitPolicy policy, long nowMillis, LeaseReturn giveBack) {
    }

    /**
     * Removes the buckets under {@code keys} and forgets any denial of them cached on any node.
     *
     * @return how many buckets existed
     */
    int reset(Collection<String> keys);
}
