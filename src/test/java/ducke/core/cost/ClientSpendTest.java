package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClientSpendTest {

    /** A minute-aligned wall-clock instant. */
    private static final long T0 = 1_700_000_040_000L;
    private static final long SECOND = 1_000L;
    private static final long MINUTE = 60_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    @Test
    void spendAddsUpWithinTheHour() {
        ClientSpend s = ClientSpend.EMPTY.charge(usd("2.50"), T0, LIMITS)
                .charge(usd("1.25"), T0 + 10 * SECOND, LIMITS)
                .charge(usd("3.00"), T0 + 30 * MINUTE, LIMITS);
        assertThat(s.bucketCount()).as("one bucket per minute").isEqualTo(2);
        assertThat(s.snapshot(T0 + 30 * MINUTE, LIMITS)).isEqualTo(new ClientSpend.Snapshot(usd("6.75"), 0));
    }

    @Test
    void spendAgesOutAMinuteLateNeverEarly() {
        ClientSpend s = ClientSpend.EMPTY.charge(usd("4"), T0 + 30 * SECOND, LIMITS);
        assertThat(s.snapshot(T0 + 61 * MINUTE - 1, LIMITS).hourlyNanoUsd()).isEqualTo(usd("4"));
        assertThat(s.snapshot(T0 + 61 * MINUTE, LIMITS).hourlyNanoUsd()).isZero();
    }

    @Test
    void atTheCapTheWaitIsUntilEnoughSpendLeavesTheWindow() {
        ClientSpend s = ClientSpend.EMPTY.charge(usd("3"), T0, LIMITS)
                .charge(usd("3"), T0 + 10 * MINUTE, LIMITS)
                .charge(usd("4"), T0 + 20 * MINUTE, LIMITS);
        long now = T0 + 25 * MINUTE;
        // $10 at the cap: the $3 of minute 0 leaves at 61:00, leaving $7 < $10
        assertThat(s.snapshot(now, LIMITS)).isEqualTo(new ClientSpend.Snapshot(usd("10"), 36 * MINUTE));
        ClientSpend more = s.charge(usd("6"), now, LIMITS);
        // $16: without minutes 0 and 10 it is still $10, at the cap; minute 20 must leave too, at 81:00
        assertThat(more.snapshot(now, LIMITS).retryAfterMillis()).isEqualTo(56 * MINUTE);
        assertThat(ClientSpend.EMPTY.charge(usd("9.99"), T0, LIMITS).snapshot(T0, LIMITS).retryAfterMillis())
                .as("under the cap there is nothing to wait for").isZero();
    }

    @Test
    void oldBucketsAreDroppedOnTheNextChargeAndTheEntryGoesIdleAnHourAfterItsLast() {
        ClientSpend s = ClientSpend.EMPTY.charge(usd("1"), T0, LIMITS).charge(usd("1"), T0 + 5 * MINUTE, LIMITS);
        assertThat(s.idleAtMillis(LIMITS)).isEqualTo(T0 + 66 * MINUTE);
        ClientSpend later = s.charge(usd("2"), T0 + 62 * MINUTE, LIMITS);
        assertThat(later.bucketCount()).isEqualTo(2);
        assertThat(later.snapshot(T0 + 62 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("3"));
        assertThat(later.idleAtMillis(LIMITS)).isEqualTo(T0 + 123 * MINUTE);
        assertThat(ClientSpend.EMPTY.isEmpty()).isTrue();
    }

    @Test
    void aClockGoingBackwardsLandsInAnOlderBucket() {
        ClientSpend s = ClientSpend.EMPTY.charge(usd("1"), T0 + 5 * MINUTE, LIMITS).charge(usd("2"), T0, LIMITS);
        assertThat(s.minute(0)).isLessThan(s.minute(1));
        assertThat(s.snapshot(T0 + 5 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("3"));
        assertThat(s).isEqualTo(new ClientSpend(new long[]{s.minute(0), s.minute(1)}, new long[]{usd("2"), usd("1")}))
                .hasSameHashCodeAs(new ClientSpend(new long[]{s.minute(0), s.minute(1)}, new long[]{usd("2"), usd("1")}));
    }
}
