package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpendLedgerTest {

    /** A minute-aligned wall-clock instant; every time below is an explicit offset from it. */
    private static final long T0 = 1_700_000_040_000L;
    private static final long SECOND = 1_000L;
    private static final long MINUTE = 60_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final long FIVE = Money.nanoUsd("5.00");

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static CostLimits limits(boolean enforced, long breakerWindowMillis) {
        return new CostLimits(enforced, usd("5"), 30 * MINUTE, 8000, 3, usd("50"), 60 * MINUTE, usd("100"),
                breakerWindowMillis, 60 * MINUTE, usd("10"));
    }

    /** The spend ledger as the store keeps it: each change replaces the value. */
    private static final class Spend {
        private final CostLimits limits;
        private SpendLedger ledger = SpendLedger.EMPTY;

        Spend(CostLimits limits) {
            this.limits = limits;
        }

        SpendLedger.Charged charge(long nanoUsd, long nowMillis) {
            SpendLedger.Charged c = ledger.charge(nanoUsd, nowMillis, limits);
            ledger = c.ledger();
            return c;
        }

        SpendLedger.Snapshot at(long nowMillis) {
            return ledger.snapshot(nowMillis, limits);
        }

        SpendLedger.Snapshot trip(long nowMillis, String cause) {
            ledger = ledger.trip(nowMillis, limits, cause);
            return at(nowMillis);
        }

        SpendLedger.Snapshot reset(long nowMillis) {
            ledger = ledger.reset(nowMillis, limits);
            return at(nowMillis);
        }

        /** Charges $5 twenty times, a second apart from {@code startMillis}; returns the time of the last. */
        long openBySpend(long startMillis) {
            long t = startMillis;
            for (int i = 0; i < 20; i++) {
                t = startMillis + i * SECOND;
                charge(FIVE, t);
            }
            return t;
        }
    }

    @Test
    void emptyLedgerHasNoSpendAndAClosedBreaker() {
        SpendLedger.Snapshot s = SpendLedger.EMPTY.snapshot(T0, LIMITS);
        assertThat(s.hourlyNanoUsd()).isZero();
        assertThat(s.breakerNanoUsd()).isZero();
        assertThat(s.breakerOpen()).isFalse();
        assertThat(s.hourlyRetryAfterMillis()).isZero();
        assertThat(s.asOfMillis()).isEqualTo(T0);
    }

    @Test
    void hourlySpendSumsTheLastSixtyMinutes() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("10"), T0 + 5 * SECOND);
        s.charge(usd("20"), T0 + 10 * MINUTE);
        s.charge(usd("5"), T0 + 59 * MINUTE);
        s.charge(usd("1.5"), T0 + 59 * MINUTE + 30 * SECOND);
        assertThat(s.at(T0 + 59 * MINUTE + 59 * SECOND).hourlyNanoUsd()).isEqualTo(usd("36.5"));
        assertThat(s.ledger.bucketCount()).isEqualTo(3);
    }

    @Test
    void spendLeavesTheWindowOnlyOnceItsWholeMinuteHasLeft() {
        Spend s = new Spend(LIMITS);
        long spentAt = T0 + 30 * SECOND;
        s.charge(usd("10"), spentAt);

        assertThat(s.at(spentAt + 60 * MINUTE).hourlyNanoUsd()).as("exactly an hour later: never early").isEqualTo(usd("10"));
        assertThat(s.at(T0 + 61 * MINUTE - 1).hourlyNanoUsd()).as("its minute not yet wholly out").isEqualTo(usd("10"));
        assertThat(s.at(T0 + 61 * MINUTE).hourlyNanoUsd()).as("at most a minute late").isZero();
    }

    @Test
    void spendAtTheStartOfAMinuteIsAtMostOneMinuteLate() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("10"), T0);
        assertThat(s.at(T0 + 61 * MINUTE - 1).hourlyNanoUsd()).isEqualTo(usd("10"));
        assertThat(s.at(T0 + 61 * MINUTE).hourlyNanoUsd()).isZero();
    }

    @Test
    void hourlyRetryAfterIsExactlyWhenEnoughSpendAgesOut() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("10"), T0 + 10 * SECOND);             // minute 0
        s.charge(usd("10"), T0 + 5 * MINUTE + 10 * SECOND); // minute 5
        s.charge(usd("40"), T0 + 10 * MINUTE + 10 * SECOND); // minute 10
        long now = T0 + 30 * MINUTE;

        SpendLedger.Snapshot at = s.at(now);
        assertThat(at.hourlyNanoUsd()).isEqualTo(usd("60"));
        // minute 0 leaving gives 50, still at the cap; minute 5 leaving (at 66:00) gives 40
        assertThat(at.hourlyRetryAfterMillis()).isEqualTo(36 * MINUTE);

        long retryAt = now + at.hourlyRetryAfterMillis();
        assertThat(s.at(retryAt - 1).hourlyNanoUsd()).isEqualTo(usd("50"));
        assertThat(s.at(retryAt).hourlyNanoUsd()).isEqualTo(usd("40"));
        assertThat(s.at(retryAt).hourlyRetryAfterMillis()).isZero();
    }

    @Test
    void hourlyRetryAfterCountsDownAsTimePasses() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("50"), T0 + 10 * SECOND);
        assertThat(s.at(T0 + 20 * MINUTE).hourlyRetryAfterMillis()).isEqualTo(41 * MINUTE);
        assertThat(s.at(T0 + 60 * MINUTE).hourlyRetryAfterMillis()).isEqualTo(MINUTE);
    }

    @Test
    void noRetryAfterBelowTheHourlyCap() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("49.999999999"), T0);
        assertThat(s.at(T0 + MINUTE).hourlyRetryAfterMillis()).isZero();
    }

    @Test
    void nineteenChargesOfFiveDollarsDoNotOpenTheBreaker() {
        Spend s = new Spend(LIMITS);
        for (int i = 0; i < 19; i++) {
            SpendLedger.Charged c = s.charge(FIVE, T0 + i * SECOND);
            assertThat(c.breakerOpenedNow()).isFalse();
            assertThat(c.snapshot().breakerOpen()).isFalse();
        }
        assertThat(s.at(T0 + 19 * SECOND).breakerNanoUsd()).isEqualTo(usd("95"));
    }

    @Test
    void twentiethChargeOfFiveDollarsOpensTheBreakerExactlyOnce() {
        Spend s = new Spend(LIMITS);
        int openedNow = 0;
        SpendLedger.Charged opening = null;
        for (int i = 0; i < 20; i++) {
            SpendLedger.Charged c = s.charge(FIVE, T0 + i * SECOND);
            if (c.breakerOpenedNow()) {
                openedNow++;
                opening = c;
            }
        }
        assertThat(openedNow).isEqualTo(1);
        long openedAt = T0 + 19 * SECOND;
        SpendLedger.Snapshot snap = opening.snapshot();
        assertThat(snap.breakerOpen()).isTrue();
        assertThat(snap.breakerOpenedAtMillis()).isEqualTo(openedAt);
        assertThat(snap.breakerClosesAtMillis()).isEqualTo(openedAt + 60 * MINUTE);
        assertThat(snap.breakerCause()).isEqualTo("spend");
        assertThat(snap.breakerNanoUsd()).isEqualTo(usd("100"));
        assertThat(s.ledger.breaker().spendAtOpenNanoUsd()).isEqualTo(usd("100"));

        SpendLedger.Charged after = s.charge(FIVE, openedAt + SECOND);
        assertThat(after.breakerOpenedNow()).as("already open").isFalse();
        assertThat(after.snapshot().breakerOpen()).isTrue();
        assertThat(after.snapshot().breakerOpenedAtMillis()).isEqualTo(openedAt);
        assertThat(after.snapshot().hourlyNanoUsd()).isEqualTo(usd("105"));
    }

    @Test
    void breakerClosesByItselfAfterTheCooldown() {
        Spend s = new Spend(LIMITS);
        long openedAt = s.openBySpend(T0);
        long closesAt = openedAt + 60 * MINUTE;

        SpendLedger.Snapshot before = s.at(closesAt - 1);
        assertThat(before.breakerOpen()).isTrue();
        assertThat(before.breakerOpenAt(closesAt - 1)).isTrue();

        SpendLedger.Snapshot at = s.at(closesAt);
        assertThat(at.breakerOpen()).isFalse();
        assertThat(at.breakerOpenAt(closesAt)).isFalse();
        assertThat(at.breakerNanoUsd()).as("spend before the close no longer counts").isZero();
        assertThat(at.hourlyNanoUsd()).as("but still counts toward the hour").isEqualTo(usd("100"));
    }

    @Test
    void afterTheCooldownOnlyNewSpendCanReopenTheBreaker() {
        Spend s = new Spend(LIMITS);
        long closesAt = s.openBySpend(T0) + 60 * MINUTE;

        SpendLedger.Charged first = s.charge(FIVE, closesAt + SECOND);
        assertThat(first.breakerOpenedNow()).isFalse();
        assertThat(first.snapshot().breakerOpen()).isFalse();
        assertThat(first.snapshot().breakerNanoUsd()).isEqualTo(FIVE);

        for (int i = 2; i <= 19; i++) {
            assertThat(s.charge(FIVE, closesAt + i * SECOND).breakerOpenedNow()).as("charge %d after close", i).isFalse();
        }
        SpendLedger.Charged twentieth = s.charge(FIVE, closesAt + 20 * SECOND);
        assertThat(twentieth.breakerOpenedNow()).isTrue();
        assertThat(twentieth.snapshot().breakerNanoUsd()).isEqualTo(usd("100"));
    }

    @Test
    void resetClosesTheBreakerAndForgetsEarlierSpendForIt() {
        Spend s = new Spend(LIMITS);
        long openedAt = s.openBySpend(T0);
        // reset within the same minute as the spend that opened it
        SpendLedger.Snapshot reset = s.reset(openedAt + 10 * SECOND);
        assertThat(reset.breakerOpen()).isFalse();
        assertThat(reset.breakerNanoUsd()).isZero();
        assertThat(reset.hourlyNanoUsd()).isEqualTo(usd("100"));

        SpendLedger.Charged sameMinute = s.charge(FIVE, openedAt + 20 * SECOND);
        assertThat(sameMinute.breakerOpenedNow()).isFalse();
        assertThat(sameMinute.snapshot().breakerNanoUsd()).as("only spend after the reset").isEqualTo(FIVE);
        assertThat(sameMinute.snapshot().hourlyNanoUsd()).isEqualTo(usd("105"));

        assertThat(s.charge(usd("90"), T0 + 2 * MINUTE).breakerOpenedNow()).isFalse();
        SpendLedger.Charged reopening = s.charge(FIVE, T0 + 3 * MINUTE);
        assertThat(reopening.breakerOpenedNow()).isTrue();
        assertThat(reopening.snapshot().breakerNanoUsd()).isEqualTo(usd("100"));
    }

    @Test
    void resetInALaterMinuteIgnoresEarlierMinutes() {
        Spend s = new Spend(LIMITS);
        s.openBySpend(T0);
        s.reset(T0 + 5 * MINUTE + 30 * SECOND);
        SpendLedger.Charged c = s.charge(usd("99"), T0 + 6 * MINUTE);
        assertThat(c.breakerOpenedNow()).isFalse();
        assertThat(c.snapshot().breakerNanoUsd()).isEqualTo(usd("99"));
        assertThat(c.snapshot().hourlyNanoUsd()).isEqualTo(usd("199"));
    }

    @Test
    void breakerOnlyCountsSpendWithinItsOwnWindow() {
        Spend s = new Spend(limits(true, 10 * MINUTE));
        s.charge(usd("60"), T0);
        SpendLedger.Charged c = s.charge(usd("50"), T0 + 15 * MINUTE);
        assertThat(c.breakerOpenedNow()).isFalse();
        assertThat(c.snapshot().breakerNanoUsd()).isEqualTo(usd("50"));
        assertThat(c.snapshot().hourlyNanoUsd()).isEqualTo(usd("110"));
    }

    @Test
    void tripOpensByHandWithACause() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("3"), T0);
        SpendLedger.Snapshot tripped = s.trip(T0 + MINUTE, "upstream billing alert");
        assertThat(tripped.breakerOpen()).isTrue();
        assertThat(tripped.breakerCause()).isEqualTo("upstream billing alert");
        assertThat(tripped.breakerOpenedAtMillis()).isEqualTo(T0 + MINUTE);
        assertThat(tripped.breakerClosesAtMillis()).isEqualTo(T0 + 61 * MINUTE);
        assertThat(s.ledger.breaker().spendAtOpenNanoUsd()).isEqualTo(usd("3"));
    }

    @Test
    void tripIsIdempotentWhileOpen() {
        Spend s = new Spend(LIMITS);
        s.trip(T0, "first");
        SpendLedger before = s.ledger;
        SpendLedger.Snapshot again = s.trip(T0 + 10 * MINUTE, "second");
        assertThat(s.ledger).isEqualTo(before);
        assertThat(again.breakerCause()).isEqualTo("first");
        assertThat(again.breakerOpenedAtMillis()).isEqualTo(T0);
        assertThat(again.breakerClosesAtMillis()).isEqualTo(T0 + 60 * MINUTE);
    }

    @Test
    void trippedBreakerClosesAfterItsCooldownToo() {
        Spend s = new Spend(LIMITS);
        s.trip(T0, "manual");
        assertThat(s.at(T0 + 60 * MINUTE - 1).breakerOpen()).isTrue();
        assertThat(s.at(T0 + 60 * MINUTE).breakerOpen()).isFalse();
        SpendLedger.Snapshot retripped = s.trip(T0 + 61 * MINUTE, "again");
        assertThat(retripped.breakerOpen()).isTrue();
        assertThat(retripped.breakerCause()).isEqualTo("again");
    }

    @Test
    void unenforcedLimitsNeverOpenTheBreakerBySpend() {
        Spend s = new Spend(limits(false, 60 * MINUTE));
        for (int i = 0; i < 40; i++) {
            SpendLedger.Charged c = s.charge(FIVE, T0 + i * SECOND);
            assertThat(c.breakerOpenedNow()).isFalse();
            assertThat(c.snapshot().breakerOpen()).isFalse();
        }
        assertThat(s.at(T0 + MINUTE).hourlyNanoUsd()).as("still metered").isEqualTo(usd("200"));
    }

    @Test
    void clockGoingBackwardsDoesNotLoseSpend() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("10"), T0 + 5 * MINUTE + 30 * SECOND);
        s.charge(usd("7"), T0 + 2 * MINUTE);                // another node's clock is behind
        s.charge(usd("1"), T0 + 5 * MINUTE + 10 * SECOND);  // earlier, same minute
        assertThat(s.at(T0 + 2 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("18"));
        assertThat(s.at(T0 + 5 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("18"));
        assertThat(s.at(T0 + 6 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("18"));
        assertThat(s.ledger.bucketCount()).isEqualTo(2);
        assertThat(s.ledger.minute(0)).isLessThan(s.ledger.minute(1));
        assertThat(s.ledger.amount(0)).isEqualTo(usd("7"));
        assertThat(s.ledger.amount(1)).isEqualTo(usd("11"));
    }

    @Test
    void snapshotAtAnEarlierTimeStillCountsLaterSpend() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("20"), T0 + 10 * MINUTE);
        assertThat(s.at(T0).hourlyNanoUsd()).isEqualTo(usd("20"));
        assertThat(s.at(T0).breakerNanoUsd()).isEqualTo(usd("20"));
    }

    @Test
    void spendOlderThanEveryWindowIsPruned() {
        Spend s = new Spend(LIMITS);
        s.charge(usd("10"), T0);
        s.charge(usd("1"), T0 + 2 * 60 * MINUTE);
        assertThat(s.ledger.bucketCount()).isEqualTo(1);
        assertThat(s.at(T0 + 2 * 60 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("1"));
    }

    @Test
    void equalContentMeansEqualLedgers() {
        SpendLedger a = new SpendLedger(new long[]{1, 2}, new long[]{10, 20}, SpendLedger.EMPTY.breaker());
        SpendLedger b = new SpendLedger(new long[]{1, 2}, new long[]{10, 20}, SpendLedger.EMPTY.breaker());
        SpendLedger c = new SpendLedger(new long[]{1, 2}, new long[]{10, 21}, SpendLedger.EMPTY.breaker());
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
    }

    @Test
    void ledgerIsImmutableFromOutside() {
        long[] minutes = {1, 2};
        long[] amounts = {10, 20};
        SpendLedger l = new SpendLedger(minutes, amounts, SpendLedger.EMPTY.breaker());
        minutes[0] = 99;
        amounts[0] = 99;
        assertThat(l.minute(0)).isEqualTo(1);
        assertThat(l.amount(0)).isEqualTo(10);
    }

    @Test
    void refusesMismatchedBuckets() {
        assertThatThrownBy(() -> new SpendLedger(new long[]{1}, new long[0], SpendLedger.EMPTY.breaker()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
