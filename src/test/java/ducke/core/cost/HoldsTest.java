package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Reservations against the budgets that span sessions: the client's hour and the breaker's window. */
class HoldsTest {

    private static final CostLimits LIMITS = CostLimits.defaults(); // client 10.00/hour, breaker 100.00
    private static final long NOW = 1_800_000_000_000L;
    private static final long LATER = NOW + 60_000;

    private static long usd(String v) {
        return Money.nanoUsd(v);
    }

    @Test
    void aClientsReservationsAndSpendTogetherNeverPassItsCap() {
        ClientSpend c = ClientSpend.EMPTY.charge(usd("6.00"), NOW, LIMITS);
        c = c.reserve("s1/1", usd("2.00"), NOW, LATER, LIMITS);
        assertThat(c).isNotNull();
        c = c.reserve("s2/1", usd("2.00"), NOW, LATER, LIMITS);
        assertThat(c).as("6.00 spent + 4.00 held: exactly the cap").isNotNull();
        assertThat(c.reserve("s3/1", 1, NOW, LATER, LIMITS)).as("one nano-dollar more does not fit").isNull();
    }

    @Test
    void settlingGivesTheHoldBackInTheSameStepAsTheSpend() {
        ClientSpend c = ClientSpend.EMPTY.reserve("s1/1", usd("9.00"), NOW, LATER, LIMITS);
        assertThat(c.reserve("s2/1", usd("2.00"), NOW, LATER, LIMITS)).isNull();
        c = c.charge(usd("1.00"), NOW, LIMITS, "s1/1");
        assertThat(c.holds().isEmpty()).isTrue();
        assertThat(c.reserve("s2/1", usd("9.00"), NOW, LATER, LIMITS)).isNotNull();
    }

    @Test
    void raisingAHoldCountsOnlyItsNewAmount() {
        ClientSpend c = ClientSpend.EMPTY.reserve("s1/1", usd("6.00"), NOW, LATER, LIMITS);
        assertThat(c.reserve("s1/1", usd("10.00"), NOW, LATER, LIMITS)).isNotNull();
        assertThat(c.reserve("s1/1", usd("10.01"), NOW, LATER, LIMITS)).isNull();
    }

    @Test
    void aHoldLapsesAtItsExpiry() {
        ClientSpend c = ClientSpend.EMPTY.reserve("dead-node/1", usd("10.00"), NOW, LATER, LIMITS);
        assertThat(c.reserve("s2/1", 1, NOW, LATER, LIMITS)).isNull();
        assertThat(c.reserve("s2/1", usd("10.00"), LATER, LATER + 60_000, LIMITS)).isNotNull();
    }

    @Test
    void aClientWithOnlyHoldsIsNotEmptyUntilTheyLapse() {
        ClientSpend c = ClientSpend.EMPTY.reserve("s1/1", usd("1.00"), NOW, LATER, LIMITS);
        assertThat(c.isEmpty()).isFalse();
        assertThat(c.idleAtMillis(LIMITS)).isEqualTo(LATER);
        assertThat(c.release("s1/1", NOW).isEmpty()).isTrue();
    }

    @Test
    void theBreakersWindowRefusesAReservationThatDoesNotFitAndOpens() {
        SpendLedger s = SpendLedger.EMPTY.charge(usd("90.00"), NOW, LIMITS).ledger();
        SpendLedger.Reserved r = s.reserve("s1/1", usd("6.00"), NOW, LATER, LIMITS);
        assertThat(r.ok()).isTrue();
        SpendLedger.Reserved refused = r.ledger().reserve("s2/1", usd("4.01"), NOW, LATER, LIMITS);
        assertThat(refused.ok()).isFalse();
        assertThat(refused.breakerOpenedNow()).isTrue();
        assertThat(refused.snapshot().breakerOpen()).isTrue();
        assertThat(refused.ledger().reserve("s3/1", 1, NOW, LATER, LIMITS).ok()).as("nothing while open").isFalse();
    }

    @Test
    void aReservationThatFitsExactlyIsTaken() {
        SpendLedger s = SpendLedger.EMPTY.charge(usd("90.00"), NOW, LIMITS).ledger();
        SpendLedger.Reserved r = s.reserve("s1/1", usd("10.00"), NOW, LATER, LIMITS);
        assertThat(r.ok()).isTrue();
        assertThat(r.snapshot().breakerOpen()).isFalse();
    }

    @Test
    void aChargeSettlesItsHoldOnTheSpendLedger() {
        SpendLedger s = SpendLedger.EMPTY.reserve("s1/1", usd("50.00"), NOW, LATER, LIMITS).ledger();
        SpendLedger after = s.charge(ChargeId.live("w"), usd("1.00"), NOW, LIMITS, "s1/1").ledger();
        assertThat(after.holds().isEmpty()).isTrue();
        assertThat(after.reserve("s2/1", usd("99.00"), NOW, LATER, LIMITS).ok()).isTrue();
    }

    @Test
    void mergedCopiesKeepEveryHoldAtItsLargest() {
        Holds a = Holds.NONE.with("x", 5, LATER).with("y", 1, LATER);
        Holds b = Holds.NONE.with("x", 7, NOW + 1).with("z", 2, LATER);
        Holds m = Holds.merge(a, b);
        assertThat(m).isEqualTo(Holds.merge(b, a));
        assertThat(m.total(NOW)).isEqualTo(7 + 1 + 2);
        assertThat(m.byId().get("x").expiresAtMillis()).isEqualTo(LATER);
    }

    @Test
    void unenforcedLimitsHoldNothing() {
        CostLimits off = new CostLimits(false, LIMITS.maxSessionCostNanoUsd(), LIMITS.maxSessionDurationMillis(),
                LIMITS.warningBasisPoints(), 3, LIMITS.maxHourlyCostNanoUsd(), LIMITS.hourlyWindowMillis(),
                LIMITS.breakerThresholdNanoUsd(), LIMITS.breakerWindowMillis(), LIMITS.breakerCooldownMillis(),
                LIMITS.maxClientHourlyCostNanoUsd());
        assertThat(ClientSpend.EMPTY.reserve("s", usd("1000"), NOW, LATER, off).holds().isEmpty()).isTrue();
        assertThat(SpendLedger.EMPTY.reserve("s", usd("1000"), NOW, LATER, off).ok()).isTrue();
    }
}
