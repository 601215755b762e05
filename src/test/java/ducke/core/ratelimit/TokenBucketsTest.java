package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokenBucketsTest {

    /** A fixed wall-clock instant; every test moves time by passing explicit offsets from it. */
    private static final long T0 = 1_700_000_000_000L;

    private static final Bandwidth TWO_PER_SECOND = new Bandwidth(2, 1_000);
    private static final Bandwidth FIVE_PER_MINUTE = new Bandwidth(5, 60_000);

    /** One client's bucket as a store would keep it: replaces the state only when a decision carries one. */
    private static final class Bucket {
        private final LimitPolicy policy;
        private BucketState state;

        Bucket(LimitPolicy policy) {
            this.policy = policy;
        }

        Decision take(long nowMillis) {
            Decision d = TokenBuckets.tryConsume(policy, state, nowMillis);
            if (d.state() != null) {
                state = d.state();
            }
            return d;
        }

        int takeAll(long nowMillis) {
            int allowed = 0;
            while (take(nowMillis).allowed()) {
                allowed++;
                if (allowed > 1_000_000) {
                    throw new AssertionError("bucket never ran dry");
                }
            }
            return allowed;
        }
    }

    private static Bucket bucket(String limit) {
        return new Bucket(LimitParser.parse(limit));
    }

    @Test
    void freshBucketAllowsExactlyCapacityThenDenies() {
        Bucket b = bucket("60/minute");

        for (int i = 1; i <= 60; i++) {
            Decision d = b.take(T0);
            assertThat(d.allowed()).as("request %d", i).isTrue();
            assertThat(d.remaining()).as("remaining after request %d", i).isEqualTo(60 - i);
            assertThat(d.limit()).isEqualTo(60);
            assertThat(d.windowSeconds()).isEqualTo(60);
            assertThat(d.retryAfterMillis()).isZero();
        }
        Decision denied = b.take(T0);

        assertThat(denied.allowed()).isFalse();
        assertThat(denied.remaining()).isZero();
    }

    @Test
    void firstRequestStoresAStateWithOneTokenTaken() {
        LimitPolicy policy = LimitParser.parse("60/minute");

        Decision d = TokenBuckets.tryConsume(policy, null, T0);

        assertThat(d.allowed()).isTrue();
        assertThat(d.state()).isNotNull();
        assertThat(d.state().size()).isEqualTo(1);
        assertThat(d.state().lastRefillMillis()).isEqualTo(T0);
        assertThat(d.state().units(0)).isEqualTo(59 * 60_000L);
    }

    @Test
    void freshStateHoldsEveryBandwidthFull() {
        LimitPolicy policy = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);

        BucketState fresh = TokenBuckets.fresh(policy, T0);

        assertThat(fresh).isEqualTo(new BucketState(new long[]{2 * 1_000L, 5 * 60_000L}, T0));
    }

    @Test
    void retryAfterIsTheWaitForOneTokenWhenExhaustedAtTheSameInstant() {
        assertThat(exhaustedRetryAfterMillis("60/minute")).isEqualTo(1_000);
        assertThat(exhaustedRetryAfterMillis("5/hour")).isEqualTo(720_000);
        assertThat(exhaustedRetryAfterMillis("1/day")).isEqualTo(86_400_000);
        assertThat(exhaustedRetryAfterMillis("30/minute")).isEqualTo(2_000);
        // 10 s / 3 = 3333.3 ms, rounded up so the client never comes back too early
        assertThat(exhaustedRetryAfterMillis("3/10 seconds")).isEqualTo(3_334);
    }

    private static long exhaustedRetryAfterMillis(String limit) {
        Bucket b = bucket(limit);
        b.takeAll(T0);
        Decision denied = b.take(T0);
        assertThat(denied.allowed()).isFalse();
        return denied.retryAfterMillis();
    }

    @Test
    void retryAfterShrinksAsTheBucketRefills() {
        Bucket b = bucket("60/minute");
        b.takeAll(T0);

        Decision later = b.take(T0 + 400);

        assertThat(later.allowed()).isFalse();
        assertThat(later.retryAfterMillis()).isEqualTo(600);
    }

    @Test
    void refillsProportionallyOverTime() {
        Bucket b = bucket("60/minute");
        assertThat(b.takeAll(T0)).isEqualTo(60);

        assertThat(b.take(T0 + 999).allowed()).isFalse();
        assertThat(b.take(T0 + 1_000).allowed()).isTrue();
        assertThat(b.take(T0 + 1_000).allowed()).isFalse();
        assertThat(b.takeAll(T0 + 31_000)).isEqualTo(30);
    }

    @Test
    void refillIsExactForPeriodsThatDoNotDivideEvenly() {
        Bucket b = bucket("3/10 seconds");
        b.takeAll(T0);

        assertThat(b.take(T0 + 3_333).allowed()).isFalse();
        assertThat(b.take(T0 + 3_334).allowed()).isTrue();
        // the 2 surplus units carry over: the next token needs 3333 ms, not a full 3334
        Decision next = b.take(T0 + 3_334);
        assertThat(next.allowed()).isFalse();
        assertThat(next.retryAfterMillis()).isEqualTo(3_333);
    }

    @Test
    void neverExceedsCapacityAfterALongIdle() {
        Bucket b = bucket("5/minute");
        b.take(T0);

        Decision afterIdle = b.take(T0 + 400L * 24 * 3_600_000);

        assertThat(afterIdle.allowed()).isTrue();
        assertThat(afterIdle.remaining()).isEqualTo(4);
        assertThat(b.takeAll(T0 + 400L * 24 * 3_600_000)).isEqualTo(4);
    }

    @Test
    void refillStopsAtCapacityPerBandwidth() {
        LimitPolicy policy = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);
        BucketState empty = new BucketState(new long[]{0, 0}, T0);

        BucketState refilled = TokenBuckets.refill(policy, empty, T0 + 5_000);

        assertThat(refilled.units(0)).isEqualTo(2_000);
        assertThat(refilled.units(1)).isEqualTo(25_000);
        assertThat(refilled.lastRefillMillis()).isEqualTo(T0 + 5_000);
    }

    @Test
    void clockGoingBackwardsRefillsNothing() {
        Bucket b = bucket("60/minute");
        b.takeAll(T0);
        BucketState exhausted = b.state;

        Decision backwards = b.take(T0 - 5_000);

        assertThat(backwards.allowed()).isFalse();
        assertThat(backwards.state()).isNull();
        assertThat(b.state).isEqualTo(exhausted);
        assertThat(TokenBuckets.refill(b.policy, exhausted, T0 - 5_000)).isEqualTo(exhausted);
    }

    @Test
    void clockGoingBackwardsDoesNotMoveTheRefillTimeBack() {
        Bucket b = bucket("10/minute");
        for (int i = 0; i < 5; i++) {
            b.take(T0);
        }

        Decision backwards = b.take(T0 - 30_000);

        assertThat(backwards.allowed()).isTrue();
        assertThat(backwards.state().lastRefillMillis()).isEqualTo(T0);
        assertThat(backwards.remaining()).isEqualTo(4);
        // back at T0 nothing was gained by the detour: 4 tokens left, not 4 + 30 s of refill
        assertThat(b.takeAll(T0)).isEqualTo(4);
        assertThat(b.takeAll(T0 + 6_000)).isEqualTo(1);
    }

    @Test
    void deniedRequestAtTheSameInstantChangesNothing() {
        LimitPolicy policy = LimitParser.parse("2/minute");
        Bucket b = new Bucket(policy);
        b.takeAll(T0);
        BucketState exhausted = b.state;

        Decision first = TokenBuckets.tryConsume(policy, exhausted, T0);
        Decision second = TokenBuckets.tryConsume(policy, exhausted, T0);

        assertThat(first.allowed()).isFalse();
        assertThat(first.state()).isNull();
        assertThat(second).isEqualTo(first);
    }

    @Test
    void retryAfterCountsTheTimeUntilTheCallersClockCatchesUp() {
        LimitPolicy policy = LimitParser.parse("60/minute");
        Bucket b = new Bucket(policy);
        b.takeAll(T0);
        Decision denied = TokenBuckets.tryConsume(policy, b.state, T0 - 5_000);
        assertThat(denied.allowed()).isFalse();
        assertThat(denied.retryAfterMillis()).isEqualTo(6_000);
        assertThat(denied.resetMillis()).isEqualTo(65_000);
    }

    @Test
    void deniedRequestLaterTakesNoToken() {
        LimitPolicy policy = LimitParser.parse("2/minute");
        Bucket b = new Bucket(policy);
        b.takeAll(T0);
        BucketState exhausted = b.state;

        Decision denied = TokenBuckets.tryConsume(policy, exhausted, T0 + 10_000);

        assertThat(denied.allowed()).isFalse();
        // a denial stores nothing: its refill follows from the stored state and the time alone
        assertThat(denied.state()).isNull();
        assertThat(TokenBuckets.tryConsume(policy, exhausted, T0 + 30_000).allowed()).isTrue();
    }

    @Test
    void multiBandwidthAllowsOnlyWhileEveryBandHasAToken() {
        Bucket b = new Bucket(LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE));

        assertThat(b.takeAll(T0)).isEqualTo(2);
        assertThat(b.takeAll(T0 + 1_000)).isEqualTo(2);
        // the per-second band is full again, but the per-minute band holds less than one token
        assertThat(b.takeAll(T0 + 2_000)).isEqualTo(1);
        assertThat(b.takeAll(T0 + 3_000)).isZero();
    }

    @Test
    void multiBandwidthDenialConsumesFromNoBand() {
        LimitPolicy policy = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);
        BucketState perSecondFullPerMinuteShort = new BucketState(new long[]{2_000, 10_000}, T0);

        Decision now = TokenBuckets.tryConsume(policy, perSecondFullPerMinuteShort, T0);
        Decision later = TokenBuckets.tryConsume(policy, perSecondFullPerMinuteShort, T0 + 1);

        assertThat(now.allowed()).isFalse();
        assertThat(now.state()).isNull();
        assertThat(later.allowed()).isFalse();
        if (later.state() != null) {
            assertThat(later.state().units(0)).isEqualTo(2_000);
            assertThat(later.state().units(1)).isEqualTo(10_005);
        }
    }

    @Test
    void multiBandwidthDenialWaitsForTheBandThatIsShort() {
        LimitPolicy policy = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);
        BucketState perSecondFullPerMinuteShort = new BucketState(new long[]{2_000, 10_000}, T0);

        Decision denied = TokenBuckets.tryConsume(policy, perSecondFullPerMinuteShort, T0);

        assertThat(denied.retryAfterMillis()).isEqualTo(10_000);
        assertThat(denied.limiting()).isEqualTo(FIVE_PER_MINUTE);
        assertThat(denied.limit()).isEqualTo(5);
        assertThat(denied.windowSeconds()).isEqualTo(60);
        assertThat(denied.remaining()).isZero();
    }

    @Test
    void multiBandwidthRetryAfterIsTheLongestWaitWhicheverOrder() {
        Bandwidth onePerSecond = new Bandwidth(1, 1_000);
        Bandwidth twoPerMinute = new Bandwidth(2, 60_000);

        Decision d1 = TokenBuckets.tryConsume(LimitPolicy.of(onePerSecond, twoPerMinute),
                new BucketState(new long[]{0, 2_000}, T0), T0);
        Decision d2 = TokenBuckets.tryConsume(LimitPolicy.of(twoPerMinute, onePerSecond),
                new BucketState(new long[]{2_000, 0}, T0), T0);

        assertThat(d1.allowed()).isFalse();
        assertThat(d1.retryAfterMillis()).isEqualTo(29_000);
        assertThat(d1.limiting()).isEqualTo(twoPerMinute);
        assertThat(d2.allowed()).isFalse();
        assertThat(d2.retryAfterMillis()).isEqualTo(29_000);
        assertThat(d2.limiting()).isEqualTo(twoPerMinute);
    }

    @Test
    void headersDescribeTheBandWithFewestTokensLeft() {
        Decision d1 = TokenBuckets.tryConsume(LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE), null, T0);
        Decision d2 = TokenBuckets.tryConsume(LimitPolicy.of(FIVE_PER_MINUTE, TWO_PER_SECOND), null, T0);

        for (Decision d : new Decision[]{d1, d2}) {
            assertThat(d.limit()).isEqualTo(2);
            assertThat(d.windowSeconds()).isEqualTo(1);
            assertThat(d.remaining()).isEqualTo(1);
            assertThat(d.resetMillis()).isEqualTo(500);
        }
    }

    @Test
    void headersOnATieDescribeTheBandThatTakesLongestToRefill() {
        Bandwidth twoPerMinute = new Bandwidth(2, 60_000);

        Decision d = TokenBuckets.tryConsume(LimitPolicy.of(TWO_PER_SECOND, twoPerMinute), null, T0);

        assertThat(d.remaining()).isEqualTo(1);
        assertThat(d.limit()).isEqualTo(2);
        assertThat(d.windowSeconds()).isEqualTo(60);
        assertThat(d.resetMillis()).isEqualTo(30_000);
    }

    @Test
    void reportsRemainingAndResetOfASingleBand() {
        Bucket b = bucket("60/minute");
        Decision d = null;
        for (int i = 0; i < 48; i++) {
            d = b.take(T0);
        }

        assertThat(d.remaining()).isEqualTo(12);
        assertThat(d.resetMillis()).isEqualTo(48_000);
        assertThat(d.resetSeconds()).isEqualTo(48);
    }

    @Test
    void entryTtlIsTheTimeUntilEveryBandIsFull() {
        assertThat(bucket("60/minute").take(T0).entryTtlMillis()).isEqualTo(1_000);

        Bucket exhausted = bucket("60/minute");
        exhausted.takeAll(T0);
        assertThat(exhausted.take(T0).entryTtlMillis()).isEqualTo(60_000);

        LimitPolicy policy = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);
        Decision d = TokenBuckets.tryConsume(policy, null, T0);
        assertThat(d.entryTtlMillis()).isEqualTo(12_000);
        assertThat(TokenBuckets.refill(policy, d.state(), T0 + 12_000).copyUnits())
                .containsExactly(TokenBuckets.fresh(policy, T0).copyUnits());
        assertThat(TokenBuckets.refill(policy, d.state(), T0 + 11_999).copyUnits())
                .isNotEqualTo(TokenBuckets.fresh(policy, T0).copyUnits());
    }

    @Test
    void entryTtlIsZeroWhenNothingIsUsed() {
        assertThat(TokenBuckets.peek(LimitParser.parse("5/minute"), null, T0).entryTtlMillis()).isZero();
    }

    @Test
    void storedStateOfADifferentShapeStartsFresh() {
        LimitPolicy twoBands = LimitPolicy.of(TWO_PER_SECOND, FIVE_PER_MINUTE);
        LimitPolicy oneBand = LimitParser.parse("60/minute");
        BucketState twoBandsEmpty = new BucketState(new long[]{0, 0}, T0);
        BucketState oneBandEmpty = new BucketState(new long[]{0}, T0);

        Decision narrowed = TokenBuckets.tryConsume(oneBand, twoBandsEmpty, T0);
        Decision widened = TokenBuckets.tryConsume(twoBands, oneBandEmpty, T0);

        assertThat(narrowed.allowed()).isTrue();
        assertThat(narrowed.remaining()).isEqualTo(59);
        assertThat(narrowed.state().size()).isEqualTo(1);
        assertThat(widened.allowed()).isTrue();
        assertThat(widened.state().size()).isEqualTo(2);
        assertThat(widened.state().units(1)).isEqualTo(4 * 60_000L);
    }

    @Test
    void peekReportsWithoutConsuming() {
        LimitPolicy policy = LimitParser.parse("5/minute");
        Bucket b = new Bucket(policy);
        b.take(T0);
        b.take(T0);

        Decision peeked = TokenBuckets.peek(policy, b.state, T0);

        assertThat(peeked.state()).isNull();
        assertThat(peeked.remaining()).isEqualTo(3);
        assertThat(TokenBuckets.peek(policy, null, T0).remaining()).isEqualTo(5);
        assertThat(b.takeAll(T0)).isEqualTo(3);
    }

    /**
     * A bucket stored under an older, larger limit of the same shape (the limit was lowered and the
     * nodes restarted) must be read against the current capacity. With time elapsed the refill caps
     * it; at the same instant or with a node clock behind the last writer it currently does not.
     * DOCUMENTS A BUG in TokenBuckets.refill (the elapsed <= 0 early return skips the cap):
     * expected to fail until fixed.
     */
    @Test
    void storedUnitsAboveCapacityAreCappedEvenWhenNoTimeHasPassed() {
        LimitPolicy oldPolicy = LimitParser.parse("100/minute");
        LimitPolicy newPolicy = LimitParser.parse("5/minute");
        BucketState oldState = TokenBuckets.tryConsume(oldPolicy, null, T0).state();

        Decision sameInstant = TokenBuckets.tryConsume(newPolicy, oldState, T0);
        Decision clockBehind = TokenBuckets.tryConsume(newPolicy, oldState, T0 - 50);

        for (Decision d : new Decision[]{sameInstant, clockBehind}) {
            assertThat(d.remaining()).isLessThanOrEqualTo(newPolicy.get(0).capacity() - 1);
            assertThat(d.resetMillis()).isNotNegative();
            assertThat(d.entryTtlMillis()).isNotNegative();
        }
    }

    @Test
    void storedUnitsAboveCapacityAreCappedOnceTimeHasPassed() {
        LimitPolicy oldPolicy = LimitParser.parse("100/minute");
        LimitPolicy newPolicy = LimitParser.parse("5/minute");
        BucketState oldState = TokenBuckets.tryConsume(oldPolicy, null, T0).state();

        Decision d = TokenBuckets.tryConsume(newPolicy, oldState, T0 + 1);

        assertThat(d.allowed()).isTrue();
        assertThat(d.remaining()).isEqualTo(4);
        assertThat(d.resetMillis()).isEqualTo(12_000);
    }
}
