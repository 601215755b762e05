package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure lease arithmetic of {@link TokenBuckets#take} and {@link TokenBuckets#giveBack}. */
class TokenBucketsLeaseTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final long GEN = 0x5eed_1234L;
    private static final LimitPolicy THOUSAND_PER_MINUTE = LimitParser.parse("1000/minute");
    private static final long UNITS_PER_TOKEN = 60_000;

    private static LeaseAsk ask(long want) {
        return new LeaseAsk(want, GEN, T0 + 500, LeaseReturn.NONE);
    }

    @Test
    void grantIsAtMostASixteenthOfTheAvailableTokens() {
        Decision d = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(256));

        assertThat(d.allowed()).isTrue();
        assertThat(d.granted()).isEqualTo(1000 / 16);
        assertThat(d.leased()).isEqualTo(61);
        assertThat(d.leaseGeneration()).isEqualTo(GEN);
        assertThat(d.remaining()).isEqualTo(1000 - 62);
        assertThat(d.state().leasedTokens()).isEqualTo(61);
        assertThat(d.state().leaseUntilMillis()).isEqualTo(T0 + 500);
        assertThat(d.state().units(0)).isEqualTo((1000 - 62) * UNITS_PER_TOKEN);
    }

    @Test
    void grantNeverExceedsWhatWasAskedFor() {
        Decision d = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(5));

        assertThat(d.granted()).isEqualTo(5);
        assertThat(d.state().leasedTokens()).isEqualTo(4);
    }

    @Test
    void lastTokensGoOneByOne() {
        BucketState thirtyOneLeft = new BucketState(new long[]{31 * UNITS_PER_TOKEN}, T0);

        Decision d = TokenBuckets.take(THOUSAND_PER_MINUTE, thirtyOneLeft, T0, ask(256));

        assertThat(d.granted()).isEqualTo(1);
        assertThat(d.leased()).isZero();
        assertThat(d.leaseGeneration()).isZero();
        assertThat(d.state().leasedTokens()).isZero();
        assertThat(TokenBuckets.take(THOUSAND_PER_MINUTE, new BucketState(new long[]{32 * UNITS_PER_TOKEN}, T0), T0, ask(256))
                .granted()).isEqualTo(2);
    }

    @Test
    void aGrantTakesFromEveryBandwidth() {
        LimitPolicy twoBands = LimitParser.parse("1000/minute;100000/day");
        Decision d = TokenBuckets.take(twoBands, null, T0, ask(256));

        assertThat(d.granted()).isEqualTo(62);
        assertThat(d.state().units(0)).isEqualTo(twoBands.get(0).maxUnits() - 62 * 60_000L);
        assertThat(d.state().units(1)).isEqualTo(twoBands.get(1).maxUnits() - 62 * 86_400_000L);
    }

    @Test
    void whileTokensAreLeasedTheBucketRefillsOnlyToCapacityMinusThem() {
        BucketState leased = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(256)).state();

        // a whole minute later the bucket would be full, but 61 tokens are still out
        BucketState later = TokenBuckets.refill(THOUSAND_PER_MINUTE, leased, T0 + 300);

        assertThat(later.units(0) / UNITS_PER_TOKEN + later.leasedTokens()).isLessThanOrEqualTo(1000);
        BucketState aMinuteLater = TokenBuckets.refill(THOUSAND_PER_MINUTE, leased, T0 + 400);
        assertThat(aMinuteLater.units(0)).isEqualTo((1000 - 61) * UNITS_PER_TOKEN);
    }

    @Test
    void giveBackReturnsTheUnusedTokensAndEndsTheLease() {
        Decision d = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(256));

        BucketState after = TokenBuckets.giveBack(THOUSAND_PER_MINUTE, d.state(), T0,
                new LeaseReturn(GEN, 61, 20));

        assertThat(after.leasedTokens()).isZero();
        assertThat(after.units(0)).isEqualTo((1000 - 62 + 20) * UNITS_PER_TOKEN);
        // nothing outstanding: it refills to the full bucket again
        assertThat(TokenBuckets.refill(THOUSAND_PER_MINUTE, after, T0 + 60_000).units(0)).isEqualTo(1000 * UNITS_PER_TOKEN);
    }

    @Test
    void giveBackInTheSameCallAsTheNextTake() {
        Decision first = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(10));

        Decision second = TokenBuckets.take(THOUSAND_PER_MINUTE, first.state(), T0,
                new LeaseAsk(10, GEN + 1, T0 + 500, new LeaseReturn(GEN, 9, 9)));

        assertThat(second.granted()).isEqualTo(10);
        // all 9 came back, 10 went out: 11 tokens taken in all, 9 of them outstanding in a new generation
        assertThat(second.remaining()).isEqualTo(1000 - 11);
        assertThat(second.state().leasedTokens()).isEqualTo(9);
        assertThat(second.leaseGeneration()).isEqualTo(GEN + 1);
    }

    @Test
    void giveBackOfAnotherGenerationChangesNothing() {
        BucketState leased = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(256)).state();

        assertThat(TokenBuckets.giveBack(THOUSAND_PER_MINUTE, leased, T0, new LeaseReturn(GEN + 1, 61, 61))).isNull();
        assertThat(TokenBuckets.giveBack(THOUSAND_PER_MINUTE, null, T0, new LeaseReturn(GEN, 61, 61))).isNull();
    }

    @Test
    void leasesNeverGivenBackAreWrittenOffAfterTheGrace() {
        BucketState leased = TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(256)).state();
        long writtenOff = T0 + 500 + TokenBuckets.LEASE_GRACE_MILLIS;

        assertThat(TokenBuckets.refill(THOUSAND_PER_MINUTE, leased, writtenOff - 1).leasedTokens()).isEqualTo(61);
        BucketState after = TokenBuckets.refill(THOUSAND_PER_MINUTE, leased, writtenOff);
        assertThat(after.leasedTokens()).isZero();
        // a late give-back of the written-off lease creates no tokens
        assertThat(TokenBuckets.giveBack(THOUSAND_PER_MINUTE, after, writtenOff, new LeaseReturn(GEN, 61, 61))).isNull();
    }

    @Test
    void theEntryLivesUntilItsLeasesAreWrittenOff() {
        LimitPolicy manyPerSecond = LimitParser.parse("1000/second");
        Decision d = TokenBuckets.take(manyPerSecond, null, T0, new LeaseAsk(10, GEN, T0 + 500, LeaseReturn.NONE));

        // the bucket alone would be full again in 10 ms
        assertThat(d.entryTtlMillis()).isEqualTo(500 + TokenBuckets.LEASE_GRACE_MILLIS);
    }

    @Test
    void aDenialStoresTheGiveBackItCarried() {
        BucketState leased = new BucketState(new long[]{0}, T0, 5, T0 + 500, GEN);

        Decision d = TokenBuckets.take(THOUSAND_PER_MINUTE, leased, T0,
                new LeaseAsk(1, GEN + 1, T0 + 500, new LeaseReturn(GEN, 5, 0)));

        assertThat(d.allowed()).isFalse();
        assertThat(d.state()).isNotNull();
        assertThat(d.state().leasedTokens()).isZero();
        assertThat(TokenBuckets.take(THOUSAND_PER_MINUTE, null, T0, ask(1)).state()).isNotNull();
        assertThat(TokenBuckets.take(THOUSAND_PER_MINUTE, new BucketState(new long[]{0}, T0), T0, ask(1)).state()).isNull();
    }

    /**
     * Three nodes with leases and a stand-in for the grid: bursts of random requests at random
     * nodes with idle gaps between them (so buckets refill while leases are out), give-backs at
     * random moments. No window of any length ever allows more than one token bucket would:
     * capacity + rate × window.
     */
    @Test
    void leasesNeverAllowMoreInAnyWindowThanOneBucket() {
        LimitPolicy policy = LimitParser.parse("600/second");
        Random random = new Random(42);
        List<Long> allowedAt = new ArrayList<>();
        GridStandIn grid = new GridStandIn(policy);
        List<RateLimiter> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(new RateLimiter(java.util.Map.of("status", policy), grid, new LocalDenials(100), true, false));
        }
        long now = T0;
        for (int step = 0; step < 200_000; step++) {
            // bursts of about ten requests a millisecond, now and then an idle gap of up to a second
            now += random.nextInt(2_000) == 0 ? random.nextInt(1_000) : random.nextInt(10) == 0 ? 1 : 0;
            RateLimiter node = nodes.get(random.nextInt(3));
            if (random.nextInt(50) == 0) {
                node.endExpiredLeases(now);
            }
            if (node.check("status", "c", now).status() == RateLimiter.Status.ALLOWED) {
                allowedAt.add(now);
            }
        }
        assertThat(grid.leasedGrants).as("leases were granted").isPositive();
        for (long window : new long[]{1, 10, 50, 100, 500, 1_000, 5_000}) {
            long bound = 600 + Decision.ceilDiv(600 * window, 1_000);
            int from = 0;
            for (int to = 0; to < allowedAt.size(); to++) {
                while (allowedAt.get(to) - allowedAt.get(from) >= window) {
                    from++;
                }
                assertThat(to - from + 1L).as("allowed within %d ms", window).isLessThanOrEqualTo(bound);
            }
        }
    }

    /** Without refill: every token is spent exactly once, leased or not, once requests continue on every node. */
    @Test
    void everyTokenIsSpentExactlyOnceWhenRequestsContinueOnEveryNode() {
        LimitPolicy policy = LimitParser.parse("5000/day");
        GridStandIn grid = new GridStandIn(policy);
        List<RateLimiter> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(new RateLimiter(java.util.Map.of("status", policy), grid, new LocalDenials(100), true, false));
        }
        Random random = new Random(7);
        int allowed = 0;
        for (int i = 0; i < 12_000; i++) {
            if (nodes.get(random.nextInt(3)).check("status", "c", T0).permitted()) {
                allowed++;
            }
        }
        for (RateLimiter node : nodes) {
            while (node.check("status", "c", T0).permitted()) {
                allowed++;
            }
        }
        assertThat(grid.leasedGrants).isPositive();
        assertThat(allowed).isEqualTo(5000);
    }

    /** The grid's part, in memory: the same pure functions the entry processors run. */
    static final class GridStandIn implements RateLimitStore {
        private final LimitPolicy policy;
        private BucketState state;
        int leasedGrants;

        GridStandIn(LimitPolicy policy) {
            this.policy = policy;
        }

        @Override
        public Decision tryConsume(String key, LimitPolicy p, long nowMillis) {
            return take(key, p, nowMillis, LeaseAsk.ONE);
        }

        @Override
        public synchronized Decision take(String key, LimitPolicy p, long nowMillis, LeaseAsk ask) {
            Decision d = TokenBuckets.take(policy, state, nowMillis, ask);
            if (d.state() != null) {
                state = d.state();
            }
            if (d.leased() > 0) {
                leasedGrants++;
            }
            return d;
        }

        @Override
        public synchronized void giveBack(String key, LimitPolicy p, long nowMillis, LeaseReturn giveBack) {
            BucketState after = TokenBuckets.giveBack(policy, state, nowMillis, giveBack);
            if (after != null) {
                state = after;
            }
        }

        @Override
        public synchronized int reset(java.util.Collection<String> keys) {
            state = null;
            return 1;
        }
    }
}
