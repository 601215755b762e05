package ducke.core.ratelimit;

import java.util.Map;

/**
 * The limits a {@link RateLimiter} applies, as one value, so that a change of the cluster's
 * settings replaces all of them at once: the policy by endpoint name ({@link Endpoints}), whether
 * limiting is on, and whether a request passes when the shared store cannot answer.
 */
public record RateLimitSettings(Map<String, LimitPolicy> policies, boolean enabled, boolean failOpen) {

    public RateLimitSettings {
        policies = Map.copyOf(policies);
    }
}
