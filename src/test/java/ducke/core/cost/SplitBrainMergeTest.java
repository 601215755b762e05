package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The merge functions that run when a split cluster heals: two copies of a value that were the
 * same at the split and then changed apart become one that counts every charge of both sides once.
 */
class SplitBrainMergeTest {

    private static final long T0 = 1_700_000_040_000L;
    private static final long SECOND = 1_000L;
    private static final long MINUTE = 60_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final ChargeId A = ChargeId.live("node-a/1");
    private static final ChargeId B = ChargeId.live("node-b/2");
    private static final ChargeId C = ChargeId.live("node-c/3");

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static SessionLedger open() {
        return SessionLedger.open("sess_1", "client", "node-a", "gpt-5", "v1", T0, LIMITS, "");
    }

    private static SessionLedger charge(SessionLedger l, ChargeId by, String amount, long at) {
        return SessionRules.charge(l, by, usd(amount), TokenCounts.of(1, 0, 0, 2, 0), at, LIMITS).ledger();
    }

    // ------------------------------------------------------------------ session ledgers

    @Test
    void divergedLedgersKeepEveryChargeOfBothSidesOnce() {
        SessionLedger atSplit = charge(charge(open(), A, "0.10", T0), B, "0.20", T0 + SECOND);
        SessionLedger minority = charge(atSplit, C, "0.40", T0 + 2 * SECOND);
        SessionLedger majority = charge(charge(atSplit, A, "0.05", T0 + 3 * SECOND), B, "0.01", T0 + 4 * SECOND);

        SessionLedger merged = SessionLedger.merge(majority, minority);

        assertThat(merged.costNanoUsd()).isEqualTo(usd("0.76"));
        assertThat(merged.chargedResponses()).isEqualTo(5);
        assertThat(merged.tokens()).isEqualTo(TokenCounts.of(5, 0, 0, 10, 0));
        assertThat(merged).as("commutative").isEqualTo(SessionLedger.merge(minority, majority));
        assertThat(SessionLedger.merge(merged, merged)).as("idempotent").isEqualTo(merged);
        assertThat(SessionLedger.merge(merged, minority)).as("a stale copy adds nothing").isEqualTo(merged);
    }

    @Test
    void theSameCopyTwiceIsThatCopy() {
        SessionLedger l = charge(open(), A, "1.00", T0);
        assertThat(SessionLedger.merge(l, l)).isEqualTo(l);
        assertThat(SessionLedger.merge(l, null)).isEqualTo(l);
        assertThat(SessionLedger.merge(null, l)).isEqualTo(l);
    }

    @Test
    void endedBeatsLiveAndKeepsTheOtherSidesCharges() {
        SessionLedger atSplit = charge(open(), A, "0.10", T0);
        SessionLedger ended = SessionRules.end(atSplit, EndReason.API_ENDED, T0 + 10 * SECOND);
        SessionLedger charged = charge(atSplit, B, "0.30", T0 + 20 * SECOND);

        SessionLedger merged = SessionLedger.merge(charged, ended);

        assertThat(merged.active()).isFalse();
        assertThat(merged.endReason()).isEqualTo(EndReason.API_ENDED);
        assertThat(merged.endedAtMillis()).isEqualTo(T0 + 10 * SECOND);
        assertThat(merged.costNanoUsd()).as("the live side's charge is still counted").isEqualTo(usd("0.40"));
        assertThat(merged).isEqualTo(SessionLedger.merge(ended, charged));
    }

    @Test
    void ofTwoEndsTheEarlierWins() {
        SessionLedger atSplit = open();
        SessionLedger lost = SessionRules.end(atSplit, EndReason.NODE_LOST, T0 + 15 * SECOND);
        SessionLedger degraded = SessionRules.end(atSplit, EndReason.CLUSTER_DEGRADED, T0 + 14 * SECOND);
        assertThat(SessionLedger.merge(lost, degraded).endReason()).isEqualTo(EndReason.CLUSTER_DEGRADED);
        assertThat(SessionLedger.merge(degraded, lost).endReason()).isEqualTo(EndReason.CLUSTER_DEGRADED);
        SessionLedger sameTime = SessionRules.end(atSplit, EndReason.API_ENDED, T0 + 15 * SECOND);
        assertThat(SessionLedger.merge(lost, sameTime)).as("a tie is decided the same way from both sides")
                .isEqualTo(SessionLedger.merge(sameTime, lost));
    }

    @Test
    void warnedIfEitherSideWarned() {
        SessionLedger atSplit = open();
        SessionLedger warned = charge(atSplit, A, "4.10", T0);
        SessionLedger quiet = charge(atSplit, B, "0.10", T0);
        assertThat(warned.warned()).isTrue();
        assertThat(SessionLedger.merge(quiet, warned).warned()).isTrue();
    }

    @Test
    void anAuditedRecordStaysAuditedOnlyIfTheMergeChangesNothing() {
        SessionLedger atSplit = charge(open(), A, "0.10", T0);
        SessionLedger audited = SessionRules.end(atSplit, EndReason.API_ENDED, T0 + SECOND).markedAudited();

        assertThat(SessionLedger.merge(audited, atSplit).audited()).as("the other copy only knew less").isTrue();
        SessionLedger chargedElsewhere = charge(atSplit, B, "0.20", T0 + 2 * SECOND);
        SessionLedger merged = SessionLedger.merge(audited, chargedElsewhere);
        assertThat(merged.audited()).as("the record grew: it must be written again").isFalse();
        assertThat(merged.record().costNanoUsd()).isEqualTo(usd("0.30"));
    }

    @Test
    void aReplayedChargeCountsOnceHoweverOftenItIsApplied() {
        ChargeId replay = new ChargeId("node-c/3", 7);
        SessionRules.Charge first = SessionRules.charge(open(), replay, usd("0.50"), TokenCounts.ZERO, T0, LIMITS);
        SessionRules.Charge again = SessionRules.charge(first.ledger(), replay, usd("0.50"), TokenCounts.ZERO, T0, LIMITS);
        assertThat(first.applied()).isTrue();
        assertThat(again.applied()).isFalse();
        assertThat(again.repeated()).isTrue();
        assertThat(again.ledger().costNanoUsd()).isEqualTo(usd("0.50"));
        SessionRules.Charge older = SessionRules.charge(first.ledger(), new ChargeId("node-c/3", 6), usd("1"),
                TokenCounts.ZERO, T0, LIMITS);
        assertThat(older.repeated()).as("replays come in order: an older number was applied before").isTrue();
        SessionRules.Charge next = SessionRules.charge(first.ledger(), new ChargeId("node-c/3", 8), usd("0.25"),
                TokenCounts.ZERO, T0, LIMITS);
        assertThat(next.ledger().costNanoUsd()).isEqualTo(usd("0.75"));
    }

    // ------------------------------------------------------------------ spend and breaker

    @Test
    void divergedSpendKeepsEveryChargeOfBothSidesOnce() {
        SpendLedger atSplit = SpendLedger.EMPTY.charge(A, usd("1"), T0, LIMITS).ledger()
                .charge(B, usd("2"), T0 + SECOND, LIMITS).ledger();
        SpendLedger minority = atSplit.charge(C, usd("4"), T0 + 2 * SECOND, LIMITS).ledger();
        SpendLedger majority = atSplit.charge(A, usd("8"), T0 + MINUTE, LIMITS).ledger()
                .charge(B, usd("16"), T0 + 2 * MINUTE, LIMITS).ledger();

        SpendLedger merged = SpendLedger.merge(majority, minority);

        SpendLedger.Snapshot s = merged.snapshot(T0 + 3 * MINUTE, LIMITS);
        assertThat(s.hourlyNanoUsd()).isEqualTo(usd("31"));
        assertThat(s.breakerNanoUsd()).isEqualTo(usd("31"));
        assertThat(merged).isEqualTo(SpendLedger.merge(minority, majority));
        assertThat(SpendLedger.merge(merged, merged)).isEqualTo(merged);
        assertThat(SpendLedger.merge(merged, atSplit)).isEqualTo(merged);
        assertThat(merged.rows()).containsOnlyKeys(A.writer(), B.writer(), C.writer());
    }

    @Test
    void aCopyPrunedFurtherLosesNothingTheOtherStillCounts() {
        SpendLedger old = SpendLedger.EMPTY.charge(A, usd("1"), T0, LIMITS).ledger();
        SpendLedger pruned = old.charge(B, usd("2"), T0 + 2 * 60 * MINUTE, LIMITS).ledger();
        SpendLedger merged = SpendLedger.merge(old, pruned);
        assertThat(merged.snapshot(T0 + 2 * 60 * MINUTE, LIMITS).hourlyNanoUsd()).isEqualTo(usd("2"));
    }

    @Test
    void aReplayedSpendCountsOnce() {
        ChargeId replay = new ChargeId("node-c/3", 4);
        SpendLedger once = SpendLedger.EMPTY.charge(replay, usd("3"), T0, LIMITS).ledger();
        SpendLedger.Charged twice = once.charge(replay, usd("3"), T0 + SECOND, LIMITS);
        assertThat(twice.snapshot().hourlyNanoUsd()).isEqualTo(usd("3"));
        assertThat(twice.breakerOpenedNow()).isFalse();
    }

    @Test
    void theBreakerAsLastChangedWinsAndAnOpenOneWinsATie() {
        SpendLedger atSplit = SpendLedger.EMPTY.charge(A, usd("1"), T0, LIMITS).ledger();
        SpendLedger tripped = atSplit.trip(T0 + MINUTE, LIMITS, "operator");
        SpendLedger resetLater = tripped.reset(T0 + 2 * MINUTE, LIMITS);
        assertThat(SpendLedger.merge(tripped, resetLater).breaker().open()).isFalse();
        assertThat(SpendLedger.merge(resetLater, tripped).breaker().open()).isFalse();

        SpendLedger trippedLater = resetLater.trip(T0 + 3 * MINUTE, LIMITS, "operator");
        assertThat(SpendLedger.merge(resetLater, trippedLater).breaker().open()).isTrue();

        SpendLedger trippedHere = atSplit.trip(T0 + MINUTE, LIMITS, "a");
        SpendLedger closedThere = new SpendLedger(atSplit.rows(), new SpendLedger.Breaker(false, 0, 0, "", 0,
                T0 + MINUTE, 0));
        assertThat(SpendLedger.merge(trippedHere, closedThere).breaker().open()).isTrue();
        assertThat(SpendLedger.merge(closedThere, trippedHere).breaker().open()).isTrue();
    }

    // ------------------------------------------------------------------ slots

    @Test
    void slotsTakenOnEitherSideAreHeldUnlessEitherSideReleasedThem() {
        long expires = T0 + 30 * MINUTE;
        SessionSlots atSplit = SessionSlots.EMPTY.tryAcquire("s1", expires, 3, T0).tryAcquire("s2", expires, 3, T0);
        SessionSlots left = atSplit.release("s1").tryAcquire("s3", expires, 3, T0 + SECOND);
        SessionSlots right = atSplit.tryAcquire("s4", expires, 3, T0 + SECOND).release("s2");

        SessionSlots merged = SessionSlots.merge(left, right);

        assertThat(merged.lapsesAtMillis()).containsOnlyKeys("s3", "s4");
        assertThat(merged.releasedUntilMillis()).containsOnlyKeys("s1", "s2");
        assertThat(merged).isEqualTo(SessionSlots.merge(right, left));
        assertThat(SessionSlots.merge(merged, atSplit)).as("the copy from before cannot bring a slot back").isEqualTo(merged);
    }

    @Test
    void aRememberedReleaseLapsesWithTheSlot() {
        long expires = T0 + 30 * MINUTE;
        SessionSlots released = SessionSlots.EMPTY.tryAcquire("s1", expires, 3, T0).release("s1");
        assertThat(released.isEmpty()).isFalse();
        assertThat(released.lastLapseMillis()).isEqualTo(expires + SessionSlots.GRACE_MILLIS);
        SessionSlots later = released.tryAcquire("s2", expires + MINUTE, 3, expires + SessionSlots.GRACE_MILLIS);
        assertThat(later.releasedUntilMillis()).isEmpty();
        assertThat(later.lapsesAtMillis()).isEqualTo(Map.of("s2", expires + MINUTE + SessionSlots.GRACE_MILLIS));
    }
}
