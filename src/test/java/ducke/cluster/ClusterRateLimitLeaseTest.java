package ducke.cluster;

import com.hazelcast.map.IMap;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.LocalLeases;
import ducke.core.ratelimit.RateLimiter;
import ducke.testing.Poll;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Leases of tokens on three real Hazelcast members in one JVM: a limit large enough for nodes to
 * lease batches still allows exactly the limit when requests are spread over the members, and
 * leases come back or are dropped as they should. The clock stands still (no refill) unless a
 * test moves it, and at 2000/day half a second refills no whole token.
 */
class ClusterRateLimitLeaseTest {

    private static final long NOW = 1_795_000_000_000L;
    private static final int LIMIT = 2_000;
    private static final List<ClusterNode> NODES = new ArrayList<>();
    private static final List<RateLimiter> LIMITERS = new ArrayList<>();
    private static final List<LocalDenials> DENIALS = new ArrayList<>();

    @BeforeAll
    static void startThreeMembers() throws Exception {
        for (ClusterNode node : Members.start(3)) {
            LocalDenials denials = Members.denials(node);
            NODES.add(node);
            DENIALS.add(denials);
            LIMITERS.add(new RateLimiter(Map.of("status", LimitParser.parse(LIMIT + "/day")),
                    // a grid call that times out leaves its lease's tokens out until the lease is written
                    // off, which the frozen clock never reaches: a busy machine must not turn into timeouts
                    node.rateLimitStore(60_000), denials, true, false));
        }
    }

    @AfterAll
    static void stopMembers() {
        NODES.forEach(ClusterNode::stop);
    }

    @Test
    void concurrentRequestsSpreadOverThreeMembersAllowExactlyTheLimit() throws Exception {
        String client = "203.0.113.21";
        AtomicInteger allowed = new AtomicInteger();
        AtomicInteger fromLease = new AtomicInteger();
        AtomicInteger unanswered = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(12);
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 3 * LIMIT; i++) {
            RateLimiter limiter = LIMITERS.get(i % 3);
            calls.add(pool.submit(() -> {
                RateLimiter.Outcome o = limiter.check("status", client, NOW);
                if (o.status() == RateLimiter.Status.ALLOWED) {
                    allowed.incrementAndGet();
                    if (o.fromLocalCache()) {
                        fromLease.incrementAndGet();
                    }
                } else if (o.status() != RateLimiter.Status.DENIED) {
                    unanswered.incrementAndGet();
                }
            }));
        }
        for (Future<?> f : calls) {
            f.get();
        }
        pool.shutdown();
        assertThat(unanswered.get()).as("checks the grid did not answer in time").isZero();
        assertThat(allowed.get()).isLessThanOrEqualTo(LIMIT);
        // requests go on at every member: tokens still leased to one are spent there
        int tail = 0;
        for (RateLimiter limiter : LIMITERS) {
            tail += allowedUntilDenied(limiter, client, NOW);
        }

        assertThat(allowed.get() + tail).isEqualTo(LIMIT);
        assertThat(fromLease.get()).as("checks answered from a lease, without the grid").isGreaterThan(LIMIT / 2);
        for (RateLimiter limiter : LIMITERS) {
            assertThat(limiter.check("status", client, NOW).status()).isEqualTo(RateLimiter.Status.DENIED);
        }
    }

    @Test
    void unusedLeaseTokensGoBackToTheSharedBucketWhenTheLeaseEnds() {
        String client = "203.0.113.22";
        String key = RateLimiter.key("status", client);
        int spentOnFirst = leaseOn(0, client);
        long unspent = DENIALS.get(0).leases().unspent(key);
        assertThat(unspent).isPositive();
        assertThat(outstanding(key)).isGreaterThanOrEqualTo(unspent);

        long leaseEnded = NOW + LocalLeases.LEASE_MILLIS;
        assertThat(LIMITERS.get(0).endExpiredLeases(leaseEnded)).isEqualTo(1);

        Poll.until("the give-back reaches the bucket", 10_000, () -> outstanding(key) == 0);
        assertThat(DENIALS.get(0).leases().unspent(key)).isZero();
        int spentElsewhere = allowedUntilDenied(LIMITERS.get(1), client, leaseEnded)
                + allowedUntilDenied(LIMITERS.get(2), client, leaseEnded);
        assertThat(spentOnFirst + spentElsewhere).isEqualTo(LIMIT);
    }

    @Test
    void resetDropsTheLeasesOfEveryMember() {
        String client = "203.0.113.23";
        String key = RateLimiter.key("status", client);
        leaseOn(1, client);
        leaseOn(2, client);
        assertThat(DENIALS.get(1).leases().unspent(key)).isPositive();
        assertThat(DENIALS.get(2).leases().unspent(key)).isPositive();

        assertThat(LIMITERS.get(0).reset(client, null)).isEqualTo(1);

        for (LocalDenials d : DENIALS) {
            assertThat(d.leases().unspent(key)).isZero();
        }
        int allowed = 0;
        for (RateLimiter limiter : LIMITERS) {
            allowed += allowedUntilDenied(limiter, client, NOW);
        }
        assertThat(allowed).isEqualTo(LIMIT);
    }

    /** Checks on one member until it holds a lease with tokens left; answers how many checks were allowed. */
    private static int leaseOn(int member, String client) {
        String key = RateLimiter.key("status", client);
        for (int i = 1; i <= 20; i++) {
            assertThat(LIMITERS.get(member).check("status", client, NOW).permitted()).isTrue();
            if (DENIALS.get(member).leases().unspent(key) > 0) {
                return i;
            }
        }
        throw new AssertionError("member " + member + " never leased tokens of " + client);
    }

    private static int allowedUntilDenied(RateLimiter limiter, String client, long nowMillis) {
        int allowed = 0;
        while (limiter.check("status", client, nowMillis).permitted()) {
            allowed++;
            assertThat(allowed).isLessThanOrEqualTo(LIMIT);
        }
        return allowed;
    }

    private static long outstanding(String key) {
        IMap<String, BucketState> buckets = NODES.get(0).hazelcast().getMap(HazelcastFactory.RATE_BUCKETS_MAP);
        BucketState s = buckets.get(key);
        return s == null ? 0 : s.leasedTokens();
    }
}
