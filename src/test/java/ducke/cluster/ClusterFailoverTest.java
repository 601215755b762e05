package ducke.cluster;

import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimiter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Buckets survive the abrupt loss of a member; a member that cannot reach the grid fails open or closed. */
class ClusterFailoverTest {

    private static final long NOW = 1_795_000_000_000L;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::stop);
    }

    private RateLimiter limiter(ClusterNode node, boolean failOpen) {
        return new RateLimiter(Map.of("status", LimitParser.parse("20/minute")), node.rateLimitStore(5_000),
                new LocalDenials(100), true, failOpen);
    }

    @Test
    void bucketsSurviveTheAbruptLossOfAMember() throws Exception {
        nodes.addAll(Members.start(3));
        List<RateLimiter> limiters = nodes.stream().map(n -> limiter(n, true)).toList();
        // many clients, so that the lost member owned some of their buckets
        for (int c = 0; c < 30; c++) {
            for (int i = 0; i < 20; i++) {
                assertThat(limiters.get(i % 3).check("status", "198.51.100." + c, NOW).permitted()).isTrue();
            }
        }
        nodes.get(2).terminate();
        long deadline = System.currentTimeMillis() + 60_000;
        while (nodes.get(0).memberCount() != 2 || nodes.get(1).memberCount() != 2) {
            assertThat(System.currentTimeMillis()).isLessThan(deadline);
            Thread.onSpinWait();
        }
        for (int c = 0; c < 30; c++) {
            RateLimiter.Outcome o = limiters.get(c % 2).check("status", "198.51.100." + c, NOW);
            assertThat(o.status()).as("client %d", c).isEqualTo(RateLimiter.Status.DENIED);
        }
    }

    @Test
    void aMemberThatIsNoLongerRunningFailsOpenOrClosedAsConfigured() throws Exception {
        nodes.addAll(Members.start(1));
        RateLimiter open = limiter(nodes.get(0), true);
        RateLimiter closed = limiter(nodes.get(0), false);
        nodes.get(0).terminate();
        assertThat(open.check("status", "198.51.100.200", NOW).status()).isEqualTo(RateLimiter.Status.FAILED_OPEN);
        assertThat(open.check("status", "198.51.100.200", NOW).permitted()).isTrue();
        assertThat(closed.check("status", "198.51.100.200", NOW).status()).isEqualTo(RateLimiter.Status.UNAVAILABLE);
        assertThat(closed.check("status", "198.51.100.200", NOW).permitted()).isFalse();
    }
}
