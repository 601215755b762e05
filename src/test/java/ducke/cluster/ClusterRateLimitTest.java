package ducke.cluster;

import com.hazelcast.core.EntryView;
import com.hazelcast.map.IMap;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimiter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Three real Hazelcast members in one JVM share every bucket. */
class ClusterRateLimitTest {

    private static final long NOW = 1_795_000_000_000L;
    private static final int LIMIT = 30;
    private static final List<ClusterNode> NODES = new ArrayList<>();
    private static final List<RateLimiter> LIMITERS = new ArrayList<>();
    private static final List<LocalDenials> DENIALS = new ArrayList<>();

    @BeforeAll
    static void startThreeMembers() throws Exception {
        for (ClusterNode node : Members.start(3)) {
            LocalDenials denials = Members.denials(node);
            NODES.add(node);
            DENIALS.add(denials);
            LIMITERS.add(new RateLimiter(Map.of("status", LimitParser.parse(LIMIT + "/minute")),
                    node.rateLimitStore(5_000), denials, true, true));
        }
    }

    @AfterAll
    static void stopMembers() {
        NODES.forEach(ClusterNode::stop);
    }

    @Test
    void limitSpreadAcrossThreeMembersAllowsExactlyNThenRejectsEverywhere() throws Exception {
        String client = "203.0.113.1";
        AtomicInteger allowed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(12);
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 3 * LIMIT; i++) {
            RateLimiter limiter = LIMITERS.get(i % 3);
            calls.add(pool.submit(() -> {
                if (limiter.check("status", client, NOW).status() == RateLimiter.Status.ALLOWED) {
                    allowed.incrementAndGet();
                }
            }));
        }
        for (Future<?> f : calls) {
            f.get();
        }
        pool.shutdown();
        assertThat(allowed.get()).isEqualTo(LIMIT);
        for (RateLimiter limiter : LIMITERS) {
            RateLimiter.Outcome o = limiter.check("status", client, NOW);
            assertThat(o.status()).isEqualTo(RateLimiter.Status.DENIED);
            assertThat(o.decision().retryAfterMillis()).isEqualTo(2_000);
        }
    }

    @Test
    void repeatedRejectionsAreAnsweredLocallyWithoutTheGrid() {
        String client = "203.0.113.2";
        for (int i = 0; i < LIMIT; i++) {
            assertThat(LIMITERS.get(i % 3).check("status", client, NOW).permitted()).isTrue();
        }
        RateLimiter.Outcome first = LIMITERS.get(0).check("status", client, NOW);
        RateLimiter.Outcome second = LIMITERS.get(0).check("status", client, NOW);
        assertThat(first.status()).isEqualTo(RateLimiter.Status.DENIED);
        assertThat(first.fromLocalCache()).isFalse();
        assertThat(second.status()).isEqualTo(RateLimiter.Status.DENIED);
        assertThat(second.fromLocalCache()).isTrue();
    }

    @Test
    void resetOnOneMemberClearsTheClientEverywhereIncludingCachedDenials() {
        String client = "203.0.113.3";
        IntStream.range(0, LIMIT).forEach(i -> LIMITERS.get(i % 3).check("status", client, NOW));
        for (RateLimiter limiter : LIMITERS) {
            limiter.check("status", client, NOW);
            assertThat(limiter.check("status", client, NOW).fromLocalCache()).isTrue();
        }
        assertThat(LIMITERS.get(1).reset(client, null)).isEqualTo(1);
        for (RateLimiter limiter : LIMITERS) {
            assertThat(limiter.check("status", client, NOW).status()).isEqualTo(RateLimiter.Status.ALLOWED);
        }
        for (LocalDenials d : DENIALS) {
            assertThat(d.find(RateLimiter.key("status", client), NOW)).isNull();
        }
    }

    @Test
    void idleBucketsExpireWhenTheyWouldBeFullAgain() {
        String client = "203.0.113.7";
        LIMITERS.get(0).check("status", client, NOW);
        LIMITERS.get(1).check("status", client, NOW);
        IMap<String, ?> buckets = NODES.get(2).hazelcast().getMap(HazelcastFactory.RATE_BUCKETS_MAP);
        EntryView<String, ?> view = buckets.getEntryView(RateLimiter.key("status", client));
        // two tokens at 30/minute come back in 4 s; the entry lives that long plus the skew allowance
        assertThat(view.getTtl()).isEqualTo(4_000 + ConsumeProcessor.TTL_SLACK_MILLIS);
    }

    @Test
    void clientsAreIndependent() {
        IntStream.range(0, LIMIT + 1).forEach(i -> LIMITERS.get(i % 3).check("status", "203.0.113.4", NOW));
        assertThat(LIMITERS.get(2).check("status", "203.0.113.5", NOW).status()).isEqualTo(RateLimiter.Status.ALLOWED);
    }

    @Test
    void bucketsRefillByTheCallersClockNotTheMembers() {
        String client = "203.0.113.6";
        IntStream.range(0, LIMIT).forEach(i -> LIMITERS.get(i % 3).check("status", client, NOW));
        assertThat(LIMITERS.get(0).check("status", client, NOW).permitted()).isFalse();
        // one token per two seconds at 30/minute: the cached denial ends and the grid has a token again
        assertThat(LIMITERS.get(1).check("status", client, NOW + 2_000).status()).isEqualTo(RateLimiter.Status.ALLOWED);
        assertThat(LIMITERS.get(2).check("status", client, NOW + 2_000).status()).isEqualTo(RateLimiter.Status.DENIED);
    }
}
