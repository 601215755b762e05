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
     * Removes the buckets under {@code keys} and forgets any denial of them cached on any node.
     *
     * @return how many buckets existed
     */
    int reset(Collection<String> keys);
}
