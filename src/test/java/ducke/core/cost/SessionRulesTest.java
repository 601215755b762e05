package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionRulesTest {

    /** A minute-aligned wall-clock instant; tests pass explicit offsets from it. */
    private static final long T0 = 1_700_000_040_000L;
    private static final long MINUTE = 60_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final CostLimits UNENFORCED = new CostLimits(false, LIMITS.maxSessionCostNanoUsd(),
            LIMITS.maxSessionDurationMillis(), LIMITS.warningBasisPoints(), LIMITS.maxConcurrentSessionsPerClient(),
            LIMITS.maxHourlyCostNanoUsd(), LIMITS.hourlyWindowMillis(), LIMITS.breakerThresholdNanoUsd(),
            LIMITS.breakerWindowMillis(), LIMITS.breakerCooldownMillis(), LIMITS.maxClientHourlyCostNanoUsd());
    private static final TokenCounts SOME = TokenCounts.of(10, 20, 5, 30, 40);

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static SessionLedger fresh(CostLimits limits) {
        return SessionLedger.open("sess_1", "client-a", "node-1", "gpt-realtime", "v1", T0, limits, null);
    }

    private static SessionLedger fresh() {
        return fresh(LIMITS);
    }

    @Test
    void opensWithTheDefaultCapsAndNothingSpent() {
        SessionLedger l = fresh();
        assertThat(l.active()).isTrue();
        assertThat(l.startedAtMillis()).isEqualTo(T0);
        assertThat(l.expiresAtMillis()).isEqualTo(T0 + 30 * MINUTE);
        assertThat(l.maxCostNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(l.costNanoUsd()).isZero();
        assertThat(l.tokens()).isEqualTo(TokenCounts.ZERO);
        assertThat(l.holder()).isEmpty();
        assertThat(l.remainingBudgetNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(l.remainingDurationSeconds(T0)).isEqualTo(1_800);
    }

    @Test
    void costBelowTheCapIsFine() {
        SessionRules.Charge c = SessionRules.charge(fresh(), usd("4.999999999"), SOME, T0 + 1_000, LIMITS);
        assertThat(c.applied()).isTrue();
        assertThat(c.budgetOk()).isTrue();
        assertThat(c.endedNow()).isNull();
        assertThat(c.ledger().active()).isTrue();
        assertThat(c.ledger().costNanoUsd()).isEqualTo(4_999_999_999L);
        assertThat(c.ledger().remainingBudgetNanoUsd()).isEqualTo(1);
    }

    @Test
    void exactlyTheCapIsOverBudgetAndEndsTheSession() {
        SessionRules.Charge c = SessionRules.charge(fresh(), usd("5.00"), SOME, T0 + 1_000, LIMITS);
        assertThat(c.applied()).isTrue();
        assertThat(c.callCostNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(c.budgetOk()).isFalse();
        assertThat(c.endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(c.ledger().active()).isFalse();
        assertThat(c.ledger().endReason()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(c.ledger().endedAtMillis()).isEqualTo(T0 + 1_000);
        assertThat(c.ledger().costNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(c.ledger().remainingBudgetNanoUsd()).isZero();
    }

    @Test
    void reachingTheCapOverSeveralChargesEndsTheSession() {
        SessionLedger l = fresh();
        for (int i = 0; i < 4; i++) {
            SessionRules.Charge c = SessionRules.charge(l, usd("1.25"), SOME, T0 + i, LIMITS);
            assertThat(c.endedNow()).as("charge %d", i + 1).isEqualTo(i < 3 ? null : EndReason.BUDGET_EXCEEDED);
            l = c.ledger();
        }
        assertThat(l.costNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(l.chargedResponses()).isEqualTo(4);
        assertThat(l.tokens()).isEqualTo(SOME.plus(SOME).plus(SOME).plus(SOME));
    }

    @Test
    void warnsOnceAtExactlyEightyPercent() {
        SessionRules.Charge first = SessionRules.charge(fresh(), usd("4.00"), SOME, T0, LIMITS);
        assertThat(first.warningNow()).isTrue();
        assertThat(first.ledger().warned()).isTrue();
        assertThat(first.budgetOk()).isTrue();

        SessionRules.Charge second = SessionRules.charge(first.ledger(), usd("0.50"), SOME, T0, LIMITS);
        assertThat(second.warningNow()).as("never twice").isFalse();
        assertThat(second.ledger().warned()).isTrue();

        SessionRules.Charge third = SessionRules.charge(second.ledger(), usd("0.10"), SOME, T0, LIMITS);
        assertThat(third.warningNow()).isFalse();
    }

    @Test
    void noWarningJustBelowEightyPercent() {
        SessionRules.Charge c = SessionRules.charge(fresh(), usd("3.999999999"), SOME, T0, LIMITS);
        assertThat(c.warningNow()).isFalse();
        assertThat(c.ledger().warned()).isFalse();

        SessionRules.Charge next = SessionRules.charge(c.ledger(), 1, SOME, T0, LIMITS);
        assertThat(next.warningNow()).isTrue();
    }

    @Test
    void warningComesFromTheRunningTotal() {
        SessionRules.Charge a = SessionRules.charge(fresh(), usd("2.00"), SOME, T0, LIMITS);
        SessionRules.Charge b = SessionRules.charge(a.ledger(), usd("2.00"), SOME, T0, LIMITS);
        assertThat(a.warningNow()).isFalse();
        assertThat(b.warningNow()).isTrue();
    }

    @Test
    void jumpingFromZeroPastTheCapGivesNoWarningButEndsTheSession() {
        SessionRules.Charge c = SessionRules.charge(fresh(), usd("6.00"), SOME, T0, LIMITS);
        assertThat(c.warningNow()).isFalse();
        assertThat(c.endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(c.budgetOk()).isFalse();
        assertThat(c.ledger().costNanoUsd()).as("the money was spent").isEqualTo(usd("6.00"));
    }

    @Test
    void chargeOnAnEndedLedgerIsRecordedWithoutChangingItsEnd() {
        SessionLedger ended = SessionRules.end(fresh(), EndReason.CLIENT_CLOSED, T0 + 5_000).markedAudited();
        SessionRules.Charge c = SessionRules.charge(ended, usd("1.00"), SOME, T0 + 6_000, LIMITS);
        assertThat(c.applied()).isTrue();
        assertThat(c.afterEnd()).isTrue();
        assertThat(c.callCostNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(c.warningNow()).isFalse();
        assertThat(c.endedNow()).isNull();
        assertThat(c.ledger().costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(c.ledger().tokens()).isEqualTo(SOME);
        assertThat(c.ledger().chargedResponses()).isEqualTo(1);
        assertThat(c.ledger().endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(c.ledger().endedAtMillis()).isEqualTo(T0 + 5_000);
        assertThat(c.ledger().audited()).as("the grown record is audited again").isFalse();
        assertThat(c.ledger().record().costNanoUsd()).isEqualTo(usd("1.00"));
    }

    @Test
    void chargeAfterBudgetEndIsRecordedAndEndsNothingAgain() {
        SessionLedger over = SessionRules.charge(fresh(), usd("5.00"), SOME, T0, LIMITS).ledger();
        SessionRules.Charge c = SessionRules.charge(over, usd("1.00"), SOME, T0 + 1, LIMITS);
        assertThat(c.applied()).isTrue();
        assertThat(c.afterEnd()).isTrue();
        assertThat(c.ledger().costNanoUsd()).isEqualTo(usd("6.00"));
        assertThat(c.ledger().endReason()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(c.budgetOk()).isFalse();
        assertThat(c.endedNow()).isNull();
    }

    @Test
    void aChargeThatEndsTheSessionIsNotALateOne() {
        SessionRules.Charge c = SessionRules.charge(fresh(), usd("5.00"), SOME, T0, LIMITS);
        assertThat(c.endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(c.afterEnd()).isFalse();
    }

    @Test
    void chargeOnAMissingLedgerHasNoLedger() {
        SessionRules.Charge c = SessionRules.charge(null, usd("1.00"), SOME, T0, LIMITS);
        assertThat(c.ledger()).isNull();
        assertThat(c.applied()).isFalse();
        assertThat(c.budgetOk()).isFalse();
    }

    @Test
    void chargeAfterExpiryIsAppliedAndEndsWithTimeout() {
        SessionLedger l = fresh();
        SessionRules.Charge justBefore = SessionRules.charge(l, usd("1.00"), SOME, l.expiresAtMillis() - 1, LIMITS);
        assertThat(justBefore.endedNow()).isNull();

        SessionRules.Charge c = SessionRules.charge(justBefore.ledger(), usd("1.00"), SOME, l.expiresAtMillis(), LIMITS);
        assertThat(c.applied()).isTrue();
        assertThat(c.ledger().costNanoUsd()).as("money was spent").isEqualTo(usd("2.00"));
        assertThat(c.endedNow()).isEqualTo(EndReason.SESSION_TIMEOUT);
        assertThat(c.ledger().endReason()).isEqualTo(EndReason.SESSION_TIMEOUT);
        assertThat(c.ledger().endedAtMillis()).isEqualTo(l.expiresAtMillis());
        assertThat(c.budgetOk()).isTrue();
    }

    @Test
    void overBudgetWinsOverTimeoutWhenBothHappen() {
        SessionLedger l = fresh();
        SessionRules.Charge c = SessionRules.charge(l, usd("5.00"), SOME, l.expiresAtMillis() + 10, LIMITS);
        assertThat(c.endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
    }

    @Test
    void unenforcedLimitsNeverEndASession() {
        SessionLedger l = fresh(UNENFORCED);
        SessionRules.Charge c = SessionRules.charge(l, usd("50.00"), SOME, l.expiresAtMillis() + 60 * MINUTE, UNENFORCED);
        assertThat(c.applied()).isTrue();
        assertThat(c.endedNow()).isNull();
        assertThat(c.ledger().active()).isTrue();
        assertThat(c.ledger().costNanoUsd()).isEqualTo(usd("50.00"));
        assertThat(c.budgetOk()).as("still reported honestly").isFalse();
        assertThat(SessionRules.expired(c.ledger(), l.expiresAtMillis() + 60 * MINUTE, UNENFORCED)).isFalse();
    }

    @Test
    void endIsIdempotentAndTheFirstReasonWins() {
        SessionLedger first = SessionRules.end(fresh(), EndReason.API_ENDED, T0 + 10_000);
        SessionLedger second = SessionRules.end(first, EndReason.ADMIN_ENDED, T0 + 20_000);
        assertThat(second).isSameAs(first);
        assertThat(second.endReason()).isEqualTo(EndReason.API_ENDED);
        assertThat(second.endedAtMillis()).isEqualTo(T0 + 10_000);
        assertThat(SessionRules.end(null, EndReason.API_ENDED, T0)).isNull();
    }

    @Test
    void endBeforeTheStartIsRecordedAtTheStart() {
        SessionLedger ended = SessionRules.end(fresh(), EndReason.NODE_LOST, T0 - 5_000);
        assertThat(ended.endedAtMillis()).isEqualTo(T0);
        assertThat(ended.record().durationMillis()).isZero();
    }

    @Test
    void expiredOnlyFromTheDurationCapOfAnActiveSession() {
        SessionLedger l = fresh();
        assertThat(SessionRules.expired(l, l.expiresAtMillis() - 1, LIMITS)).isFalse();
        assertThat(SessionRules.expired(l, l.expiresAtMillis(), LIMITS)).isTrue();
        assertThat(SessionRules.expired(l, l.expiresAtMillis() + 1, LIMITS)).isTrue();
        SessionLedger ended = SessionRules.end(l, EndReason.CLIENT_CLOSED, T0);
        assertThat(SessionRules.expired(ended, l.expiresAtMillis() + 1, LIMITS)).isFalse();
    }

    @Test
    void remainingDurationIsWholeSecondsNeverNegative() {
        SessionLedger l = fresh();
        assertThat(l.remainingDurationSeconds(l.expiresAtMillis() - 1_999)).isEqualTo(1);
        assertThat(l.remainingDurationSeconds(l.expiresAtMillis() - 999)).isZero();
        assertThat(l.remainingDurationSeconds(l.expiresAtMillis() + 5_000)).isZero();
    }

    @Test
    void recordOfAnEndedSessionCarriesItsTotals() {
        SessionLedger charged = SessionRules.charge(fresh(), usd("1.25"), SOME, T0 + 1_000, LIMITS).ledger();
        SessionLedger ended = SessionRules.end(charged, EndReason.CLIENT_CLOSED, T0 + 90_000);
        SessionRecord r = ended.record();
        assertThat(r.sessionId()).isEqualTo("sess_1");
        assertThat(r.clientId()).isEqualTo("client-a");
        assertThat(r.nodeName()).isEqualTo("node-1");
        assertThat(r.model()).isEqualTo("gpt-realtime");
        assertThat(r.priceVersion()).isEqualTo("v1");
        assertThat(r.endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(r.costNanoUsd()).isEqualTo(usd("1.25"));
        assertThat(r.tokens()).isEqualTo(SOME);
        assertThat(r.chargedResponses()).isEqualTo(1);
        assertThat(r.durationMillis()).isEqualTo(90_000);
    }

    @Test
    void activeSessionHasNoRecordYet() {
        assertThatThrownBy(() -> fresh().record()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void markedAuditedKeepsEverythingElse() {
        SessionLedger ended = SessionRules.end(fresh(), EndReason.CLIENT_CLOSED, T0 + 1);
        SessionLedger audited = ended.markedAudited();
        assertThat(audited.audited()).isTrue();
        assertThat(ended.audited()).isFalse();
        assertThat(audited.record()).isEqualTo(ended.record());
    }

    @Test
    void aLiveSessionAtTheOldCapMovesToTheNewCapAndOneWithABudgetOfItsOwnKeepsItUnlessTheNewCapIsLower() {
        SessionLedger atCap = fresh();
        assertThat(SessionRules.recapped(atCap, usd("5.00"), usd("8.00")).maxCostNanoUsd()).isEqualTo(usd("8.00"));
        assertThat(SessionRules.recapped(atCap, usd("5.00"), usd("2.00")).maxCostNanoUsd()).isEqualTo(usd("2.00"));
        SessionLedger own = SessionLedger.open("sess_2", "client-a", "node-1", "gpt-realtime", "v1", T0, LIMITS, null, usd("1.00"));
        assertThat(SessionRules.recapped(own, usd("5.00"), usd("8.00"))).isSameAs(own);
        assertThat(SessionRules.recapped(own, usd("5.00"), usd("0.50")).maxCostNanoUsd()).isEqualTo(usd("0.50"));
        SessionLedger ended = SessionRules.end(atCap, EndReason.API_ENDED, T0 + MINUTE);
        assertThat(SessionRules.recapped(ended, usd("5.00"), usd("8.00"))).isSameAs(ended);
    }

    @Test
    void aLiveSessionHeldByTheMemberThatLeftMovesToItsNewHolderOnceAndNothingElseChanges() {
        SessionLedger held = SessionLedger.open("sess_3", "client-a", "node-1", "gpt-realtime", "v1", T0, LIMITS, "member-a");
        SessionLedger charged = SessionRules.charge(held, usd("0.25"), TokenCounts.ZERO, T0 + 1, LIMITS).ledger();
        SessionLedger moved = SessionRules.reheld(charged, "member-a", "member-b");
        assertThat(moved.holder()).isEqualTo("member-b");
        assertThat(moved.costNanoUsd()).isEqualTo(charged.costNanoUsd());
        assertThat(moved.shares()).isEqualTo(charged.shares());
        assertThat(moved.expiresAtMillis()).isEqualTo(charged.expiresAtMillis());
        // a second taker (another member's reaper) finds it held by someone else: unchanged
        assertThat(SessionRules.reheld(moved, "member-a", "member-c")).isSameAs(moved);
        // an ended session, or one never held (API sessions), stays as it is
        SessionLedger ended = SessionRules.end(charged, EndReason.NODE_LOST, T0 + 2);
        assertThat(SessionRules.reheld(ended, "member-a", "member-b")).isSameAs(ended);
        SessionLedger api = SessionLedger.open("sess_4", "client-a", "node-1", "gpt-realtime", "v1", T0, LIMITS, null);
        assertThat(SessionRules.reheld(api, "member-a", "member-b")).isSameAs(api);
    }

    @Test
    void aCapSetOnALiveSessionRaisesOrLowersItAboveItsCostAndNothingElseChanges() {
        SessionLedger l = SessionLedger.open("sess_5", "client-a", "node-1", "gpt-realtime", "v1", T0, LIMITS, "member-a");
        SessionLedger charged = SessionRules.charge(l, usd("4.00"), TokenCounts.ZERO, T0 + 1, LIMITS).ledger();
        SessionLedger raised = SessionRules.capped(charged, usd("10.00"));
        assertThat(raised.maxCostNanoUsd()).isEqualTo(usd("10.00"));
        assertThat(raised.remainingBudgetNanoUsd()).isEqualTo(usd("6.00"));
        assertThat(raised.shares()).isEqualTo(charged.shares());
        assertThat(raised.holder()).isEqualTo("member-a");
        assertThat(SessionRules.capped(charged, usd("4.50")).maxCostNanoUsd()).as("lowered").isEqualTo(usd("4.50"));
        // at or under the cost so far the session would end at its next charge: refused, unchanged
        assertThat(SessionRules.capped(charged, usd("4.00"))).isSameAs(charged);
        assertThat(SessionRules.capped(charged, usd("1.00"))).isSameAs(charged);
        assertThat(SessionRules.capped(charged, charged.maxCostNanoUsd())).isSameAs(charged);
        SessionLedger ended = SessionRules.end(charged, EndReason.BUDGET_EXCEEDED, T0 + 2);
        assertThat(SessionRules.capped(ended, usd("10.00"))).isSameAs(ended);
        assertThat(SessionRules.capped(null, usd("10.00"))).isNull();
        // the raised cap takes charges up to it instead of ending the session at the old one
        SessionRules.Charge next = SessionRules.charge(raised, usd("2.00"), TokenCounts.ZERO, T0 + 3, LIMITS);
        assertThat(next.endedNow()).isNull();
        assertThat(next.ledger().costNanoUsd()).isEqualTo(usd("6.00"));
    }
}
