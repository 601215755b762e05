package ducke.core.ratelimit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The response headers of a limited request: the IETF draft pair {@code RateLimit-Policy} and
 * {@code RateLimit}, the legacy {@code X-RateLimit-*} trio (reset as integer epoch seconds), and
 * {@code Retry-After} in whole seconds when denied.
 */
public final class RateLimitHeaders {

    /** {@code RateLimit-Policy} values by policy: a handful (one per configured limit), built once each. */
    private static final Map<LimitPolicy, String> POLICY_HEADERS = new ConcurrentHashMap<>();

    private RateLimitHeaders() {
    }

    public static Map<String, String> of(LimitPolicy policy, Decision d, long nowMillis) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("RateLimit-Policy", POLICY_HEADERS.computeIfAbsent(policy, LimitPolicy::policyHeader));
        h.put("RateLimit", "limit=" + d.limit() + ", remaining=" + d.remaining() + ", reset=" + d.resetSeconds());
        h.put("X-RateLimit-Limit", Long.toString(d.limit()));
        h.put("X-RateLimit-Remaining", Long.toString(d.remaining()));
        h.put("X-RateLimit-Reset", Long.toString(Decision.ceilDiv(nowMillis + d.resetMillis(), 1000)));
        if (!d.allowed()) {
            h.put("Retry-After", Long.toString(d.retryAfterSeconds()));
        }
        return h;
    }
}
