package ducke.core.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Per-client limits by endpoint name. Spends this node's lease of the client's bucket first, then
 * asks the local denial cache, then the shared store (which may lease this node more tokens, see
 * {@link LocalLeases}); when the store is unavailable it fails open or closed as configured.
 * Thread-safe.
 */
public final class RateLimiter {

    public enum Status { ALLOWED, DENIED, FAILED_OPEN, UNAVAILABLE, DISABLED }

    /**
     * The result of one check; {@code decision} is null for FAILED_OPEN, UNAVAILABLE and DISABLED.
     * {@code fromLocalCache}: answered on this node alone (a remembered denial, or a leased token).
     */
    public record Outcome(Status status, String endpoint, LimitPolicy policy, Decision decision, boolean fromLocalCache) {
        public boolean permitted() {
            return status != Status.DENIED && status != Status.UNAVAILABLE;
        }
    }

    private final Supplier<RateLimitSettings> settings;
    private final Set<String> endpoints;
    private final RateLimitStore store;
    private final LocalDenials denials;
    private final LocalLeases leases;

    public RateLimiter(Map<String, LimitPolicy> policies, RateLimitStore store, LocalDenials denials,
                       boolean enabled, boolean failOpen) {
        this(new RateLimitSettings(policies, enabled, failOpen), store, denials);
    }

    private RateLimiter(RateLimitSettings fixed, RateLimitStore store, LocalDenials denials) {
        this(() -> fixed, fixed.policies().keySet(), store, denials);
    }

    /**
     * A limiter whose limits may change while it runs: each check reads {@code settings} once.
     *
     * @param endpoints the endpoint names, the same in every version of the settings
     */
    public RateLimiter(Supplier<RateLimitSettings> settings, Set<String> endpoints, RateLimitStore store, LocalDenials denials) {
        this.settings = settings;
        this.endpoints = Set.copyOf(endpoints);
        this.store = store;
        this.denials = denials;
        this.leases = denials.leases();
    }

    public boolean enabled() {
        return settings.get().enabled();
    }

    public Set<String> endpoints() {
        return endpoints;
    }

    public LimitPolicy policy(String endpoint) {
        return policy(settings.get(), endpoint);
    }

    private static LimitPolicy policy(RateLimitSettings current, String endpoint) {
        LimitPolicy p = current.policies().get(endpoint);
        if (p == null) {
            throw new IllegalArgumentException("unknown endpoint " + endpoint);
        }
        return p;
    }

    /** Counts one request of {@code client} against {@code endpoint} at {@code nowMillis}. */
    public Outcome check(String endpoint, String client, long nowMillis) {
        RateLimitSettings current = settings.get();
        LimitPolicy policy = policy(current, endpoint);
        boolean failOpen = current.failOpen();
        if (!current.enabled()) {
            return new Outcome(Status.DISABLED, endpoint, policy, null, false);
        }
        String key = key(endpoint, client);
        Decision leased = leases.spend(key, nowMillis);
        if (leased != null) {
            return new Outcome(Status.ALLOWED, endpoint, policy, leased, true);
        }
        Decision cached = denials.find(key, nowMillis);
        if (cached != null) {
            return new Outcome(Status.DENIED, endpoint, policy, cached, true);
        }
        long epoch = denials.epoch();
        LocalLeases.Renewal renewal = leases.renewal(key, nowMillis);
        if (renewal.waits()) {
            // another request of this node is renewing this client's lease: its answer serves this one too
            LocalLeases.Settled settled = LocalLeases.await(renewal);
            if (settled == LocalLeases.Settled.UNAVAILABLE) {
                return new Outcome(failOpen ? Status.FAILED_OPEN : Status.UNAVAILABLE, endpoint, policy, null, false);
            }
            Decision after = leases.spend(key, nowMillis);
            if (after != null) {
                return new Outcome(Status.ALLOWED, endpoint, policy, after, true);
            }
            Decision refused = denials.find(key, nowMillis);
            if (refused != null) {
                return new Outcome(Status.DENIED, endpoint, policy, refused, true);
            }
            epoch = denials.epoch();
            renewal = leases.renewal(key, nowMillis);
            if (renewal.waits()) {
                renewal = LocalLeases.Renewal.SINGLE;
            }
        }
        try {
            return take(endpoint, policy, key, nowMillis, renewal, epoch, failOpen);
        } finally {
            LocalLeases.settled(renewal, LocalLeases.Settled.DONE);
        }
    }

    /** One grid call: takes the tokens {@code renewal} asks for and keeps what is leased. */
    private Outcome take(String endpoint, LimitPolicy policy, String key, long nowMillis, LocalLeases.Renewal renewal,
                         long epoch, boolean failOpen) {
        Decision d;
        try {
            d = store.take(key, policy, nowMillis, renewal.ask());
        } catch (StoreUnavailableException e) {
            leases.abandon(key, renewal);
            LocalLeases.settled(renewal, LocalLeases.Settled.UNAVAILABLE);
            return new Outcome(failOpen ? Status.FAILED_OPEN : Status.UNAVAILABLE, endpoint, policy, null, false);
        }
        if (!d.allowed()) {
            leases.abandon(key, renewal);
            // another request of this node may have been granted a lease meanwhile: its tokens are this client's
            Decision late = leases.spend(key, nowMillis);
            if (late != null) {
                return new Outcome(Status.ALLOWED, endpoint, policy, late, true);
            }
            // remembered before the waiters are let go, so that they find it
            denials.remember(key, d, nowMillis, epoch);
            return new Outcome(Status.DENIED, endpoint, policy, d, false);
        }
        return new Outcome(Status.ALLOWED, endpoint, policy, leases.install(key, policy, renewal, d, nowMillis, epoch), false);
    }

    /**
     * Ends this node's leases that ran out by {@code nowMillis} and gives their unused tokens back
     * to the shared buckets, without waiting. Call it periodically.
     *
     * @return how many leases were given back
     */
    public int endExpiredLeases(long nowMillis) {
        return giveBack(leases.endExpired(nowMillis), nowMillis);
    }

    /** Ends every lease of this node (it stops) and gives the unused tokens back, without waiting. */
    public int endAllLeases(long nowMillis) {
        return giveBack(leases.endAll(nowMillis), nowMillis);
    }

    private int giveBack(List<LocalLeases.Ended> ended, long nowMillis) {
        for (LocalLeases.Ended e : ended) {
            try {
                store.giveBack(e.key(), e.policy(), nowMillis, e.giveBack());
            } catch (StoreUnavailableException ex) {
                // the bucket writes the lease off when it ends: the tokens stay out, never counted twice
            }
        }
        return ended.size();
    }

    /**
     * Clears the buckets of {@code client}, on one endpoint or (endpoint null) on all, everywhere.
     *
     * @return how many buckets existed
     */
    public int reset(String client, String endpoint) {
        List<String> keys = new ArrayList<>();
        for (String e : endpoint == null ? endpoints : Set.of(endpoint)) {
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
