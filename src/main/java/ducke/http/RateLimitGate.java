package ducke.http;

import ducke.core.ratelimit.RateLimitHeaders;
import ducke.core.ratelimit.RateLimiter;
import ducke.metrics.GuardMetrics;

import java.time.Clock;
import java.util.Map;

/**
 * Runs one rate-limit check at the edge: reads the clock once, times the check itself and records
 * the outcome in metrics. Shared by the request filter and the tool-quota API. Thread-safe.
 */
public final class RateLimitGate {

    /** A finished check and the instant it was made at. */
    public record Checked(RateLimiter.Outcome outcome, long nowMillis) {
        public boolean permitted() {
            return outcome.permitted();
        }

        /** The rate-limit headers to send, empty when no bucket was consulted. */
        public Map<String, String> headers() {
            return outcome.decision() == null ? Map.of()
                    : RateLimitHeaders.of(outcome.policy(), outcome.decision(), nowMillis);
        }
    }

    private final RateLimiter limiter;
    private final GuardMetrics metrics;
    private final Clock clock;

    public RateLimitGate(RateLimiter limiter, GuardMetrics metrics, Clock clock) {
        this.limiter = limiter;
        this.metrics = metrics;
        this.clock = clock;
    }

    public RateLimiter limiter() {
        return limiter;
    }

    public Checked check(String endpoint, String client) {
        long nowMillis = clock.millis();
        long started = System.nanoTime();
        RateLimiter.Outcome outcome = limiter.check(endpoint, client, nowMillis);
        if (outcome.status() != RateLimiter.Status.DISABLED) {
            metrics.rateLimitChecked(endpoint, System.nanoTime() - started);
        }
        switch (outcome.status()) {
            case DENIED -> metrics.rateLimitExceeded(endpoint, outcome.fromLocalCache());
            case FAILED_OPEN -> metrics.rateLimitGridError(endpoint, true);
            case UNAVAILABLE -> metrics.rateLimitGridError(endpoint, false);
            default -> { }
        }
        return new Checked(outcome, nowMillis);
    }
}
