package ducke.core.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-client limits by endpoint name. Asks the local denial cache first, then the shared store;
 * when the store is unavailable it fails open or closed as configured. Thread-safe.
 */
public final class RateLimiter {

    public enum Status { ALLOWED, DENIED, FAILED_OPEN, UNAVAILABLE, DISABLED }

    /** The result of one check; {@code decision} is null for FAILED_OPEN, UNAVAILABLE and DISABLED. */
    public record Outcome(Status status, String endpoint, LimitPolicy policy, Decision decision, boolean fromLocalCache) {
        public boolean permitted() {
            return status != Status.DENIED && status != Status.UNAVAILABLE;
        }
    }

    private final Map<String, LimitPolicy> policies;
    private final RateLimitStore store;
    private final LocalDenials denials;
    private final boolean enabled;
    private final boolean failOpen;

    public RateLimiter(Map<String, LimitPolicy> policies, RateLimitStore store, LocalDenials denials,
                       boolean enabled, boolean failOpen) {
        this.policies = Map.copyOf(policies);
        this.store = store;
        this.denials = denials;
        this.enabled = enabled;
        this.failOpen = failOpen;
    }

    public boolean enabled() {
        return enabled;
    }

    public Set<String> endpoints() {
        return policies.keySet();
    }

    public LimitPolicy policy(String endpoint) {
        LimitPolicy p = policies.get(endpoint);
        if (p == null) {
            throw new IllegalArgumentException("unknown endpoint " + endpoint);
        }
        return p;
    }

    /** Counts one request of {@code client} against {@code endpoint} at {@code nowMillis}. */
    public Outcome check(String endpoint, String client, long nowMillis) {
        LimitPolicy policy = policy(endpoint);
        if (!enabled) {
            return new Outcome(Status.DISABLED, endpoint, policy, null, false);
        }
        String key = key(endpoint, client);
        Decision cached = denials.find(key, nowMillis);
        if (cached != null) {
            return new Outcome(Status.DENIED, endpoint, policy, cached, true);
        }
        long epoch = denials.epoch();
        Decision d;
        try {
            d = store.tryConsume(key, policy, nowMillis);
        } catch (StoreUnavailableException e) {
            return new Outcome(failOpen ? Status.FAILED_OPEN : Status.UNAVAILABLE, endpoint, policy, null, false);
        }
        if (!d.allowed()) {
            denials.remember(key, d, nowMillis, epoch);
            return new Outcome(Status.DENIED, endpoint, policy, d, false);
        }
        return new Outcome(Status.ALLOWED, endpoint, policy, d, false);
    }

    /**
     * Clears the buckets of {@code client}, on one endpoint or (endpoint null) on all, everywhere.
     *
     * @return how many buckets existed
     */
    public int reset(String client, String endpoint) {
        List<String> keys = new ArrayList<>();
        for (String e : endpoint == null ? policies.keySet() : Set.of(endpoint)) {
            policy(e);
            keys.add(key(e, client));
        }
        return store.reset(keys);
    }

    /** The shared-store key of one client's bucket on one endpoint. */
    public static String key(String endpoint, String client) {
        return endpoint + "|" + client;
    }
}
