package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LeaseAsk;
import ducke.core.ratelimit.LeaseReturn;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.RateLimitStore;
import ducke.core.ratelimit.StoreUnavailableException;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Token buckets in a grid map, one entry per client and endpoint, updated by entry processor.
 * A reset deletes the buckets, then every member drops its cached denials and leases of them.
 */
final class GridRateLimitStore implements RateLimitStore {

    /** How long a reset waits for every member to drop its cached denials. */
    private static final long RESET_TIMEOUT_SECONDS = 10;

    private final HazelcastInstance hz;
    private final IMap<String, BucketState> buckets;
    private final long timeoutMillis;

    GridRateLimitStore(HazelcastInstance hz, long timeoutMillis) {
        this.hz = hz;
        this.buckets = hz.getMap(HazelcastFactory.RATE_BUCKETS_MAP);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Decision tryConsume(String key, LimitPolicy policy, long nowMillis) {
        return take(key, policy, nowMillis, LeaseAsk.ONE);
    }

    @Override
    public Decision take(String key, LimitPolicy policy, long nowMillis, LeaseAsk ask) {
        try {
            return buckets.submitToKey(key, new ConsumeProcessor(policy, nowMillis, ask))
                    .toCompletableFuture()
                    .get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while asking the grid", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new StoreUnavailableException("grid did not answer a rate-limit check: " + e, e);
        }
    }

    @Override
    public void giveBack(String key, LimitPolicy policy, long nowMillis, LeaseReturn giveBack) {
        try {
            buckets.submitToKey(key, new GiveBackProcessor(policy, nowMillis, giveBack));
        } catch (RuntimeException e) {
            throw new StoreUnavailableException("grid did not take back a lease: " + e, e);
        }
    }

    @Override
    public int reset(Collection<String> keys) {
        Map<String, Boolean> existed = buckets.executeOnKeys(new HashSet<>(keys), new DeleteProcessor());
        int count = (int) existed.values().stream().filter(Boolean.TRUE::equals).count();
        Map<Member, Future<Integer>> acks = hz.getExecutorService(HazelcastFactory.ADMIN_EXECUTOR)
                .submitToAllMembers(new ForgetDenialsTask(List.copyOf(keys)));
        for (Future<Integer> ack : acks.values()) {
            try {
                ack.get(RESET_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while resetting rate limits", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("a member did not confirm the reset: " + e, e);
            }
        }
        return count;
    }
}
