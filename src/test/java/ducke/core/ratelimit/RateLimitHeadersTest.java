package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

class RateLimitHeadersTest {

    private static final long NOW = 1_700_000_000_000L;
    private static final LimitPolicy SIXTY_PER_MINUTE = LimitParser.parse("60/minute");

    @Test
    void allowedRequestCarriesPolicyRateLimitAndLegacyHeadersButNoRetryAfter() {
        Decision d = new Decision(true, null, 60, 60, 12, 7_000, 0, SIXTY_PER_MINUTE.get(0), 7_000);

        Map<String, String> h = RateLimitHeaders.of(SIXTY_PER_MINUTE, d, NOW);

        assertThat(h).containsExactly(
                entry("RateLimit-Policy", "60;w=60"),
                entry("RateLimit", "limit=60, remaining=12, reset=7"),
                entry("X-RateLimit-Limit", "60"),
                entry("X-RateLimit-Remaining", "12"),
                entry("X-RateLimit-Reset", "1700000007"));
    }

    @Test
    void deniedRequestAddsRetryAfterInWholeSeconds() {
        Decision d = new Decision(false, null, 60, 60, 0, 60_000, 1_000, SIXTY_PER_MINUTE.get(0), 60_000);

        Map<String, String> h = RateLimitHeaders.of(SIXTY_PER_MINUTE, d, NOW);

        assertThat(h)
                .containsEntry("RateLimit", "limit=60, remaining=0, reset=60")
                .containsEntry("X-RateLimit-Remaining", "0")
                .containsEntry("X-RateLimit-Reset", "1700000060")
                .containsEntry("Retry-After", "1")
                .hasSize(6);
    }

    @Test
    void retryAfterIsTheRealWaitRoundedUp() {
        Decision d = new Decision(false, null, 5, 3_600, 0, 3_600_000, 720_001, new Bandwidth(5, 3_600_000), 3_600_000);

        assertThat(RateLimitHeaders.of(LimitParser.parse("5/hour"), d, NOW)).containsEntry("Retry-After", "721");
    }

    @Test
    void legacyResetIsIntegerEpochSecondsRoundedUp() {
        Decision d = new Decision(true, null, 60, 60, 12, 6_600, 0, SIXTY_PER_MINUTE.get(0), 6_600);

        Map<String, String> h = RateLimitHeaders.of(SIXTY_PER_MINUTE, d, NOW + 500);

        // 1_700_000_000_500 + 6_600 ms = 1_700_000_007.1 s
        assertThat(h).containsEntry("X-RateLimit-Reset", "1700000008")
                .containsEntry("RateLimit", "limit=60, remaining=12, reset=7");
    }

    @Test
    void legacyResetOfAFullBucketIsNow() {
        Decision d = TokenBuckets.peek(SIXTY_PER_MINUTE, null, NOW);

        assertThat(RateLimitHeaders.of(SIXTY_PER_MINUTE, d, NOW))
                .containsEntry("X-RateLimit-Reset", "1700000000")
                .containsEntry("RateLimit", "limit=60, remaining=60, reset=0");
    }

    @Test
    void policyHeaderListsEveryBandWhileRateLimitDescribesTheTightest() {
        LimitPolicy policy = LimitParser.parse("5/minute; 100/day");
        Decision d = TokenBuckets.tryConsume(policy, null, NOW);

        Map<String, String> h = RateLimitHeaders.of(policy, d, NOW);

        assertThat(h)
                .containsEntry("RateLimit-Policy", "5;w=60, 100;w=86400")
                .containsEntry("RateLimit", "limit=5, remaining=4, reset=12")
                .containsEntry("X-RateLimit-Limit", "5")
                .containsEntry("X-RateLimit-Remaining", "4")
                .containsEntry("X-RateLimit-Reset", "1700000012")
                .doesNotContainKey("Retry-After");
    }

    @Test
    void headersOfARealDenialCarryTheWaitForOneToken() {
        LimitPolicy policy = LimitParser.parse("5/hour");
        BucketState state = null;
        for (int i = 0; i < 5; i++) {
            state = TokenBuckets.tryConsume(policy, state, NOW).state();
        }
        Decision denied = TokenBuckets.tryConsume(policy, state, NOW);

        assertThat(RateLimitHeaders.of(policy, denied, NOW))
                .containsEntry("Retry-After", "720")
                .containsEntry("RateLimit", "limit=5, remaining=0, reset=3600")
                .containsEntry("X-RateLimit-Reset", "1700003600");
    }
}
