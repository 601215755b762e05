package ducke.errors;

import ducke.core.ratelimit.RateLimitHeaders;
import ducke.core.ratelimit.RateLimiter;

import java.util.LinkedHashMap;
import java.util.Map;

/** The error answers of the rate limiter: 429 when over a limit, 503 when it cannot check and fails closed. */
public final class RateLimitExceptions {

    /** Seconds a client should wait when the limiter itself is unavailable. */
    static final long UNAVAILABLE_RETRY_SECONDS = 1;

    private RateLimitExceptions() {
    }

    /** The exception for an outcome that does not permit the request. */
    public static ApiException of(RateLimiter.Outcome outcome, long nowMillis) {
        if (outcome.status() == RateLimiter.Status.UNAVAILABLE) {
            return new ApiException(503, ErrorWords.RATE_LIMIT_UNAVAILABLE,
                    "Rate limits cannot be checked right now; try again shortly",
                    Map.of("endpoint", outcome.endpoint(), "retry_after_seconds", UNAVAILABLE_RETRY_SECONDS),
                    Map.of("Retry-After", Long.toString(UNAVAILABLE_RETRY_SECONDS)));
        }
        var d = outcome.decision();
        String limit = d.limiting().describe();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("limit", limit);
        details.put("endpoint", outcome.endpoint());
        details.put("retry_after_seconds", d.retryAfterSeconds());
        return new ApiException(429, ErrorWords.RATE_LIMIT_EXCEEDED,
                "Rate limit exceeded: " + limit + ". Retry in " + d.retryAfterSeconds() + " s.",
                details, RateLimitHeaders.of(outcome.policy(), d, nowMillis));
    }
}
