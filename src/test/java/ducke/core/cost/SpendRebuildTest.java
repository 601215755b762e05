package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit store's rows reduced to the cluster's spend state, at a time the test chooses. */
class SpendRebuildTest {

    private static final long MINUTE = 60_000L;
    private static final long T0 = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
    private static final CostLimits LIMITS = CostLimits.defaults();

    private final List<SpendRebuild.ChargeRow> charges = new ArrayList<>();
    private final List<SpendRebuild.SessionRow> sessions = new ArrayList<>();
    private final List<SpendRebuild.BreakerEvent> events = new ArrayList<>();

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private void charge(String session, String client, long atMillis, String amount) {
        charges.add(new SpendRebuild.ChargeRow(session, client, atMillis, usd(amount)));
    }

    private SpendRebuild.Result rebuild(long nowMillis) {
        return SpendRebuild.reduce(new SpendRebuild.History(charges, sessions, events), nowMillis, LIMITS);
    }

    private static SpendLedger.Snapshot spend(SpendRebuild.Result r, long nowMillis) {
        return r.ledger().snapshot(nowMillis, LIMITS);
    }

    @Test
    void chargeRowsBecomeTheHourlySpendAndEachClientsSpend() {
        charge("s1", "203.0.113.1", T0, "10.00");
        charge("s1", "203.0.113.1", T0 + 5 * MINUTE, "7.50");
        charge("s2", "203.0.113.2", T0 + 20 * MINUTE, "22.50");

        SpendRebuild.Result r = rebuild(T0 + 30 * MINUTE);

        assertThat(spend(r, T0 + 30 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("40.00"));
        assertThat(spend(r, T0 + 30 * MINUTE).breakerNanoUsd()).isEqualTo(usd("40.00"));
        assertThat(r.clients()).containsOnlyKeys("203.0.113.1", "203.0.113.2");
        assertThat(r.clients().get("203.0.113.1").snapshot(T0 + 30 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("17.50"));
        assertThat(r.clients().get("203.0.113.2").snapshot(T0 + 30 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("22.50"));
        assertThat(r.charges()).isEqualTo(3);
        assertThat(r.ledger().rows()).containsOnlyKeys(SpendRebuild.WRITER);
    }

    @Test
    void spendAgesOutOfTheRebuiltWindowsAsItWouldHaveLive() {
        charge("s1", "c1", T0, "10.00");
        charge("s1", "c1", T0 + 30 * MINUTE, "20.00");

        SpendRebuild.Result r = rebuild(T0 + 40 * MINUTE);

        // the first minute leaves the hour once the whole minute has: one minute after T0 + 60 min
        assertThat(spend(r, T0 + 60 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("30.00"));
        assertThat(spend(r, T0 + 61 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("20.00"));
    }

    @Test
    void rowsOlderThanTheLongestWindowAreNotCounted() {
        charge("old", "c1", T0 - 61 * MINUTE, "45.00");
        charge("new", "c1", T0 - 30 * MINUTE, "5.00");
        sessions.add(new SpendRebuild.SessionRow("older", "c2", T0 - 90 * MINUTE, usd("30.00"), 0, false));

        SpendRebuild.Result r = rebuild(T0);

        assertThat(spend(r, T0).hourlyNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(r.clients()).containsOnlyKeys("c1");
        assertThat(r.charges()).isEqualTo(1);
        assertThat(r.sessions()).isZero();
    }

    @Test
    void aSessionRowCountsOnlyWhatItsChargeRowsLackAtItsEnd() {
        // charged 3.00 in rows, recorded at 5.00: 2.00 whose rows never reached the store
        charge("s1", "c1", T0, "3.00");
        sessions.add(new SpendRebuild.SessionRow("s1", "c1", T0 + 2 * MINUTE, usd("5.00"), usd("3.00"), false));
        // recorded before charge rows were kept: all of it
        sessions.add(new SpendRebuild.SessionRow("s2", "c2", T0 + 3 * MINUTE, usd("4.00"), 0, false));
        // live when the cluster stopped: its last checkpoint
        sessions.add(new SpendRebuild.SessionRow("s3", "c3", T0 + 4 * MINUTE, usd("1.25"), 0, true));
        // fully charged in rows: nothing more
        charge("s4", "c4", T0 + MINUTE, "6.00");
        sessions.add(new SpendRebuild.SessionRow("s4", "c4", T0 + 5 * MINUTE, usd("6.00"), usd("6.00"), false));

        SpendRebuild.Result r = rebuild(T0 + 10 * MINUTE);

        assertThat(spend(r, T0 + 10 * MINUTE).hourlyNanoUsd()).isEqualTo(usd("16.25"));
        assertThat(r.clients().get("c1").snapshot(T0 + 10 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(r.clients().get("c3").snapshot(T0 + 10 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("1.25"));
        assertThat(r.sessions()).isEqualTo(3);
        // counted at the session's end: it leaves the hour one minute after its end minute does
        assertThat(spend(r, T0 + 63 * MINUTE).hourlyNanoUsd()).as("s2 at +3 min and s3 at +4 min are left").isEqualTo(usd("5.25"));
    }

    @Test
    void anOpenBreakerStaysOpenUntilItsRecordedResetTime() {
        charge("s1", "c1", T0, "100.00");
        events.add(new SpendRebuild.BreakerEvent(T0 + 10, true, T0, T0 + 60 * MINUTE, "spend", usd("100.00")));

        SpendRebuild.Result r = rebuild(T0 + 20 * MINUTE);
        SpendLedger.Snapshot s = spend(r, T0 + 20 * MINUTE);

        assertThat(s.breakerOpenAt(T0 + 20 * MINUTE)).isTrue();
        assertThat(s.breakerOpenedAtMillis()).isEqualTo(T0);
        assertThat(s.breakerClosesAtMillis()).isEqualTo(T0 + 60 * MINUTE);
        assertThat(s.breakerCause()).isEqualTo("spend");
        assertThat(spend(r, T0 + 60 * MINUTE).breakerOpenAt(T0 + 60 * MINUTE)).isFalse();
    }

    @Test
    void aManualTripRecordedBeforeItsResetTimeWasKeptOpensForAFullCooldown() {
        events.add(new SpendRebuild.BreakerEvent(T0, true, 0, 0, "tripped by operator", 0));

        SpendLedger.Snapshot s = spend(rebuild(T0 + MINUTE), T0 + MINUTE);

        assertThat(s.breakerOpenAt(T0 + MINUTE)).isTrue();
        assertThat(s.breakerClosesAtMillis()).isEqualTo(T0 + LIMITS.breakerCooldownMillis());
    }

    @Test
    void aBreakerResetAfterItOpenedIsClosedAndCountsOnlyLaterSpend() {
        charge("s1", "c1", T0, "60.00");
        charge("s1", "c1", T0 + 10 * MINUTE + 1_000, "30.00");
        events.add(new SpendRebuild.BreakerEvent(T0 + MINUTE, true, T0 + MINUTE, T0 + 61 * MINUTE, "tripped by operator", usd("60")));
        events.add(new SpendRebuild.BreakerEvent(T0 + 10 * MINUTE + 30_000, false, 0, 0, "reset", 0));
        charge("s2", "c2", T0 + 10 * MINUTE + 45_000, "5.00");
        charge("s2", "c2", T0 + 20 * MINUTE, "7.00");

        SpendLedger.Snapshot s = spend(rebuild(T0 + 30 * MINUTE), T0 + 30 * MINUTE);

        assertThat(s.breakerOpenAt(T0 + 30 * MINUTE)).isFalse();
        assertThat(s.hourlyNanoUsd()).isEqualTo(usd("102.00"));
        // the same as a live ledger that saw these charges, the trip and the reset
        SpendLedger live = SpendLedger.EMPTY;
        live = live.charge(usd("60.00"), T0, LIMITS).ledger();
        live = live.trip(T0 + MINUTE, LIMITS, "tripped by operator");
        live = live.charge(usd("30.00"), T0 + 10 * MINUTE + 1_000, LIMITS).ledger();
        live = live.reset(T0 + 10 * MINUTE + 30_000, LIMITS);
        live = live.charge(usd("5.00"), T0 + 10 * MINUTE + 45_000, LIMITS).ledger();
        live = live.charge(usd("7.00"), T0 + 20 * MINUTE, LIMITS).ledger();
        assertThat(s.breakerNanoUsd()).isEqualTo(live.snapshot(T0 + 30 * MINUTE, LIMITS).breakerNanoUsd()).isEqualTo(usd("12.00"));
    }

    @Test
    void aBreakerWhoseCooldownEndedBeforeTheRestartIsClosedAtItsResetTime() {
        charge("s1", "c1", T0, "100.00");
        events.add(new SpendRebuild.BreakerEvent(T0, true, T0, T0 + 30 * MINUTE, "spend", usd("100")));
        charge("s2", "c2", T0 + 31 * MINUTE, "4.00");

        SpendLedger.Snapshot s = spend(rebuild(T0 + 40 * MINUTE), T0 + 40 * MINUTE);

        assertThat(s.breakerOpenAt(T0 + 40 * MINUTE)).isFalse();
        assertThat(s.breakerNanoUsd()).isEqualTo(usd("4.00"));
        assertThat(s.hourlyNanoUsd()).isEqualTo(usd("104.00"));
    }

    @Test
    void theRebuiltWindowsAnswerAsTheLiveLedgerDidForTheSameCharges() {
        Random random = new Random(18);
        SpendLedger live = SpendLedger.EMPTY;
        long now = T0;
        for (int i = 0; i < 500; i++) {
            now += random.nextInt(20_000);
            long cost = 1 + random.nextInt(50_000_000);
            charges.add(new SpendRebuild.ChargeRow("s" + (i % 7), "c" + (i % 3), now, cost));
            live = live.charge(cost, now, LIMITS).ledger();
        }
        SpendRebuild.Result r = rebuild(now);
        for (long at = now; at < now + 70 * MINUTE; at += 7 * MINUTE) {
            SpendLedger.Snapshot want = live.snapshot(at, LIMITS);
            SpendLedger.Snapshot got = spend(r, at);
            assertThat(got.hourlyNanoUsd()).as("hourly at +%d ms", at - now).isEqualTo(want.hourlyNanoUsd());
            assertThat(got.hourlyRetryAfterMillis()).isEqualTo(want.hourlyRetryAfterMillis());
        }
    }
}
