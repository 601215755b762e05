package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ClientBudgetTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final long USD = 1_000_000_000L;
    /** 2026-12-06T10:00Z. */
    private static final long NOW = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
    private static final BudgetLimits HALF_A_DAY_TWENTY_A_MONTH = new BudgetLimits(USD / 2, 20 * USD, BudgetLimits.NONE);

    private static BudgetWindows at(long millis) {
        return BudgetWindows.of(millis, BERLIN);
    }

    @Test
    void windowsAreTheCalendarDayAndMonthOfTheZone() {
        BudgetWindows w = at(Instant.parse("2026-12-31T23:30:00Z").toEpochMilli());
        // 00:30 on 1 January in Berlin: a new day and a new month there, not yet in UTC
        assertThat(Instant.ofEpochMilli(w.dayStartMillis())).isEqualTo(Instant.parse("2026-12-31T23:00:00Z"));
        assertThat(Instant.ofEpochMilli(w.monthStartMillis())).isEqualTo(Instant.parse("2026-12-31T23:00:00Z"));
        assertThat(Instant.ofEpochMilli(w.monthEndMillis())).isEqualTo(Instant.parse("2027-01-31T23:00:00Z"));
        assertThat(Instant.ofEpochMilli(w.resetAtMillis(BudgetWindow.DAY))).isEqualTo(Instant.parse("2027-01-01T23:00:00Z"));
    }

    @Test
    void aDayOfTwentyThreeHoursAtTheSpringChange() {
        BudgetWindows w = at(Instant.parse("2027-03-28T12:00:00Z").toEpochMilli());
        assertThat(w.dayEndMillis() - w.dayStartMillis()).isEqualTo(23 * 3_600_000L);
    }

    @Test
    void reservesNoMoreThanTheDayHasLeft() {
        ClientBudget b = ClientBudget.EMPTY.charge(USD * 3 / 10, at(NOW), NOW, null);
        ClientBudget r = b.reserveUpTo("h-1", 1, USD, NOW, NOW + 60_000, at(NOW), HALF_A_DAY_TWENTY_A_MONTH);
        assertThat(r.held("h-1", NOW)).isEqualTo(USD / 5);
        assertThat(r.reserveUpTo("h-2", 1, USD, NOW, NOW + 60_000, at(NOW), HALF_A_DAY_TWENTY_A_MONTH))
                .as("the day is spent or reserved").isNull();
    }

    @Test
    void theMonthLimitsWhenItIsTheTighter() {
        BudgetLimits month = new BudgetLimits(5 * USD, 2 * USD, BudgetLimits.NONE);
        ClientBudget b = new ClientBudget(null, at(NOW).dayStartMillis(), 0, 0, at(NOW).monthStartMillis(), USD * 19 / 10,
                Holds.NONE, Holds.NONE);
        assertThat(b.reserveUpTo("h", 1, USD, NOW, NOW + 1, at(NOW), month).held("h", NOW)).isEqualTo(USD / 10);
        ClientBudget.Refusal r = b.charge(USD / 10, at(NOW), NOW, null).refusal(NOW, at(NOW), month);
        assertThat(r.window()).isEqualTo(BudgetWindow.MONTH);
        assertThat(Instant.ofEpochMilli(r.resetAtMillis())).isEqualTo(Instant.parse("2026-12-31T23:00:00Z"));
    }

    @Test
    void aSettledChargeGivesItsReservationBack() {
        ClientBudget r = ClientBudget.EMPTY.reserveUpTo("h-1", 1, USD / 4, NOW, NOW + 60_000, at(NOW), HALF_A_DAY_TWENTY_A_MONTH);
        ClientBudget settled = r.charge(USD / 10, at(NOW), NOW, "h-1");
        assertThat(settled.held("h-1", NOW)).isZero();
        assertThat(settled.daySpend(at(NOW))).isEqualTo(USD / 10);
        assertThat(settled.monthSpend(at(NOW))).isEqualTo(USD / 10);
    }

    @Test
    void aDayWithLessRoomThanAFirstResponseRefusesUntilMidnight() {
        // $0.45 of $0.50 spent: $0.05 left, less than the $0.20 a relayed session's first response reserves at least
        ClientBudget b = ClientBudget.EMPTY.charge(USD * 45 / 100, at(NOW), NOW, null);
        assertThat(b.refusal(NOW, at(NOW), HALF_A_DAY_TWENTY_A_MONTH)).as("a session that reserves nothing").isNull();
        assertThat(b.refusal(NOW, at(NOW), HALF_A_DAY_TWENTY_A_MONTH, USD / 5))
                .isEqualTo(new ClientBudget.Refusal(BudgetWindow.DAY, at(NOW).dayEndMillis()));
        assertThat(b.refusal(NOW, at(NOW), HALF_A_DAY_TWENTY_A_MONTH, USD / 20)).as("exactly what is left fits").isNull();
        // $0.20 spent, $0.15 reserved by a live session: $0.15 beside it, room again once it is settled
        ClientBudget held = ClientBudget.EMPTY.charge(USD / 5, at(NOW), NOW, null)
                .reserveUpTo("h", 1, USD * 15 / 100, NOW, NOW + 60_000, at(NOW), HALF_A_DAY_TWENTY_A_MONTH);
        assertThat(held.refusal(NOW, at(NOW), HALF_A_DAY_TWENTY_A_MONTH, USD / 5))
                .isEqualTo(new ClientBudget.Refusal(BudgetWindow.DAY, NOW + 1000));
    }

    @Test
    void theDayStartsOverAtMidnightAndTheMonthOnTheFirst() {
        ClientBudget b = ClientBudget.EMPTY.charge(USD / 2, at(NOW), NOW, null);
        assertThat(b.refusal(NOW, at(NOW), HALF_A_DAY_TWENTY_A_MONTH).window()).isEqualTo(BudgetWindow.DAY);
        long tomorrow = at(NOW).dayEndMillis();
        assertThat(b.refusal(tomorrow, at(tomorrow), HALF_A_DAY_TWENTY_A_MONTH)).isNull();
        assertThat(b.daySpend(at(tomorrow))).isZero();
        assertThat(b.monthSpend(at(tomorrow))).isEqualTo(USD / 2);
        long nextMonth = at(NOW).monthEndMillis();
        assertThat(b.monthSpend(at(nextMonth))).isZero();
        assertThat(b.monthSpend(at(nextMonth - 1))).isEqualTo(USD / 2);
    }

    @Test
    void aClockThatWentBackKeepsCountingInTheNewerDay() {
        long tomorrow = at(NOW).dayEndMillis() + 10;
        ClientBudget b = ClientBudget.EMPTY.charge(USD / 10, at(tomorrow), tomorrow, null);
        ClientBudget back = b.charge(USD / 10, at(NOW), NOW, null);
        assertThat(back.daySpend(at(tomorrow))).isEqualTo(USD / 5);
    }

    @Test
    void anOverrideFieldInheritsIsNoneOrIsItsOwn() {
        BudgetLimits defaults = new BudgetLimits(USD, 10 * USD, 600_000);
        BudgetOverride o = new BudgetOverride(BudgetOverride.INHERIT, BudgetLimits.NONE, 1_200_000, NOW);
        assertThat(o.over(defaults)).isEqualTo(new BudgetLimits(USD, BudgetLimits.NONE, 1_200_000));
        ClientBudget b = ClientBudget.EMPTY.withOverride(o);
        assertThat(b.limits(defaults).monthNanoUsd()).isEqualTo(BudgetLimits.NONE);
        assertThat(b.withOverride(new BudgetOverride(5, 5, 5, NOW - 1)).override()).as("an older version loses").isEqualTo(o);
        BudgetOverride none = new BudgetOverride(BudgetLimits.NONE, BudgetLimits.NONE, BudgetLimits.NONE, NOW);
        BudgetOverride dollar = new BudgetOverride(USD, USD, 60_000, NOW);
        assertThat(BudgetOverride.later(none, dollar)).as("one millisecond: the lower limits").isEqualTo(dollar);
        assertThat(BudgetOverride.later(dollar, none)).isEqualTo(dollar);
    }

    @Test
    void sessionTimeIsReservedAndCountedWhenTheSessionEnds() {
        BudgetLimits tenMinutes = new BudgetLimits(BudgetLimits.NONE, BudgetLimits.NONE, 600_000);
        ClientBudget a = ClientBudget.EMPTY.reserveTime("s-1", 1000, 1_800_000, NOW, NOW + 1_900_000, at(NOW), tenMinutes);
        assertThat(a.heldTime("s-1", NOW)).isEqualTo(600_000);
        assertThat(a.reserveTime("s-2", 1000, 1_800_000, NOW, NOW + 1_900_000, at(NOW), tenMinutes)).isNull();
        assertThat(a.refusal(NOW, at(NOW), tenMinutes).resetAtMillis()).as("held, not used: try again soon").isEqualTo(NOW + 1000);
        ClientBudget used = a.useTime("s-1", 240_000, at(NOW), NOW);
        assertThat(used.dayUsed(at(NOW))).isEqualTo(240_000);
        assertThat(used.reserveTime("s-2", 1000, 1_800_000, NOW, NOW + 1_900_000, at(NOW), tenMinutes).heldTime("s-2", NOW))
                .isEqualTo(360_000);
        ClientBudget spent = used.useTime("s-2", 360_000, at(NOW), NOW);
        assertThat(spent.refusal(NOW, at(NOW), tenMinutes)).isEqualTo(new ClientBudget.Refusal(BudgetWindow.MINUTES, at(NOW).dayEndMillis()));
    }

    @Test
    void withoutLimitsNothingIsHeld() {
        assertThat(ClientBudget.EMPTY.reserveUpTo("h", 1, USD, NOW, NOW + 1, at(NOW), BudgetLimits.UNLIMITED)).isSameAs(ClientBudget.EMPTY);
        assertThat(ClientBudget.EMPTY.refusal(NOW, at(NOW), BudgetLimits.UNLIMITED)).isNull();
    }

    @Test
    void mergeKeepsTheNewerWindowAndTheLargerCountWithinOne() {
        long tomorrow = at(NOW).dayEndMillis() + 1;
        ClientBudget today = ClientBudget.EMPTY.charge(3 * USD, at(NOW), NOW, null);
        ClientBudget next = today.charge(USD, at(tomorrow), tomorrow, null);
        ClientBudget other = ClientBudget.EMPTY.charge(2 * USD, at(NOW), NOW, null)
                .reserveUpTo("h", 1, 5, NOW, NOW + 10, at(NOW), new BudgetLimits(10 * USD, 100 * USD, BudgetLimits.NONE));
        ClientBudget m = ClientBudget.merge(next, other);
        assertThat(m).isEqualTo(ClientBudget.merge(other, next));
        assertThat(m.daySpend(at(tomorrow))).isEqualTo(USD);
        assertThat(m.monthSpend(at(tomorrow))).isEqualTo(4 * USD);
        assertThat(m.holds().byId()).containsOnlyKeys("h");
        assertThat(ClientBudget.merge(null, other)).isSameAs(other);
    }

    @Test
    void anEntryIsIdleWithNothingCountedNoReservationAndNoOverride() {
        assertThat(ClientBudget.EMPTY.idle(at(NOW), NOW)).isTrue();
        ClientBudget spent = ClientBudget.EMPTY.charge(1, at(NOW), NOW, null);
        assertThat(spent.idle(at(NOW), NOW)).isFalse();
        assertThat(spent.idle(at(at(NOW).monthEndMillis()), at(NOW).monthEndMillis())).isTrue();
        assertThat(spent.idleAtMillis(at(NOW))).isEqualTo(at(NOW).monthEndMillis());
        assertThat(ClientBudget.EMPTY.withOverride(new BudgetOverride(1, 1, 1, NOW)).idleAtMillis(at(NOW))).isEqualTo(Long.MAX_VALUE);
        assertThat(new ClientBudget(null, 0, 0, 0, 0, 0, new Holds(Map.of("h", new Holds.Hold(1, NOW + 5))), Holds.NONE).idle(at(NOW), NOW))
                .isFalse();
    }

    @Test
    void aSessionsTimeCountsOnlyWhereItFallsInTheDay() {
        BudgetWindows w = BudgetWindows.of(Instant.parse("2026-12-07T00:00:30Z").toEpochMilli(), java.time.ZoneOffset.UTC);
        long midnight = Instant.parse("2026-12-07T00:00:00Z").toEpochMilli();
        assertThat(ClientBudgets.todaysPart(midnight - 30_000, midnight + 30_000, w)).isEqualTo(30_000);
        assertThat(ClientBudgets.todaysPart(midnight + 1_000, midnight + 30_000, w)).isEqualTo(29_000);
        assertThat(ClientBudgets.todaysPart(midnight - 90_000, midnight - 30_000, w)).as("wholly in the day before").isZero();
    }
}
