package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keyed charges count once: the pure rules on a ledger, the merge of two diverged copies, and a
 * guard that charges the session, the cluster's spend and the client's spend, live or journaled.
 */
class KeyedChargeTest {

    private static final long T0 = 1_700_000_040_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final TokenCounts SOME = TokenCounts.of(10, 20, 0, 0, 0);
    private static final TokenUsage USAGE = TokenUsage.totals(100_000, 200_000);
    private static final ChargeKey K1 = ChargeKey.of("report:k1", "gpt-5", USAGE);
    private static final ChargeId A = ChargeId.live("node-a/1");
    private static final ChargeId B = ChargeId.live("node-b/2");

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static SessionLedger fresh() {
        return SessionLedger.open("sess_1", "client-a", "node-1", "gpt-5", "v1", T0, LIMITS, null);
    }

    // ---- the rules ----

    @Test
    void aKeySeenBeforeChangesNothingOnAnyWriter() {
        SessionRules.Charge first = SessionRules.charge(fresh(), A, K1, usd("1.00"), SOME, T0, LIMITS);
        assertThat(first.applied()).isTrue();
        assertThat(first.keyRepeated()).isFalse();

        SessionRules.Charge again = SessionRules.charge(first.ledger(), B, K1, usd("1.00"), SOME, T0 + 1, LIMITS);
        assertThat(again.applied()).isFalse();
        // a report's spend part is not confirmed yet: a retry would complete it
        assertThat(again.key()).isEqualTo(ChargeKeys.Seen.SAME_REPORT_UNSPENT);
        assertThat(again.ledger()).isSameAs(first.ledger());
        assertThat(again.ledger().costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(again.ledger().chargedResponses()).isEqualTo(1);

        SessionLedger confirmed = SessionRules.spendConfirmed(first.ledger(), K1);
        SessionRules.Charge later = SessionRules.charge(confirmed, B, K1, usd("1.00"), SOME, T0 + 2, LIMITS);
        assertThat(later.key()).isEqualTo(ChargeKeys.Seen.SAME_REPORT);
        assertThat(later.ledger().costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(SessionRules.spendConfirmed(confirmed, K1)).as("confirmed once is enough").isSameAs(confirmed);
    }

    @Test
    void aMergeKeepsASpendPartThatEitherCopyHadNotSeenConfirmed() {
        SessionLedger pending = SessionRules.charge(fresh(), A, K1, usd("1.00"), SOME, T0, LIMITS).ledger();
        SessionLedger confirmed = SessionRules.spendConfirmed(pending, K1);
        assertThat(SessionLedger.merge(pending, confirmed).seen(K1)).isEqualTo(ChargeKeys.Seen.SAME_REPORT_UNSPENT);
        assertThat(SessionLedger.merge(confirmed, pending).seen(K1)).isEqualTo(ChargeKeys.Seen.SAME_REPORT_UNSPENT);
        assertThat(SessionLedger.merge(confirmed, confirmed).seen(K1)).isEqualTo(ChargeKeys.Seen.SAME_REPORT);
    }

    @Test
    void theSameKeyWithAnotherReportIsToldApartAndChargesNothing() {
        SessionLedger l = SessionRules.charge(fresh(), A, K1, usd("1.00"), SOME, T0, LIMITS).ledger();
        ChargeKey other = ChargeKey.of("report:k1", "gpt-5", TokenUsage.totals(1, 2));
        SessionRules.Charge c = SessionRules.charge(l, A, other, usd("0.01"), SOME, T0, LIMITS);
        assertThat(c.key()).isEqualTo(ChargeKeys.Seen.OTHER_REPORT);
        assertThat(c.ledger().costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(ChargeKey.of("report:k1", null, USAGE).reportHash())
                .as("naming the model or not are two reports").isNotEqualTo(K1.reportHash());
    }

    @Test
    void anEndedSessionRecognisesItsKeysToo() {
        SessionLedger l = SessionRules.charge(fresh(), A, K1, usd("1.00"), SOME, T0, LIMITS).ledger();
        SessionLedger ended = SessionRules.end(l, EndReason.API_ENDED, T0 + 5);
        assertThat(SessionRules.charge(ended, B, K1, usd("1.00"), SOME, T0 + 6, LIMITS).keyRepeated()).isTrue();
        SessionRules.Charge late = SessionRules.charge(ended, B, ChargeKey.of("resp_2", 7), 7, SOME, T0 + 6, LIMITS);
        assertThat(late.afterEnd()).isTrue();
        assertThat(SessionRules.charge(late.ledger(), A, ChargeKey.of("resp_2", 7), 7, SOME, T0 + 7, LIMITS).keyRepeated())
                .isTrue();
    }

    @Test
    void aReplayAppliedBeforeIsRecognisedByItsSequenceFirstSoItsSpendPartCanComplete() {
        ChargeId replay = new ChargeId("node-a/1", 3);
        SessionLedger l = SessionRules.charge(fresh(), replay, K1, usd("1.00"), SOME, T0, LIMITS).ledger();
        SessionRules.Charge again = SessionRules.charge(l, replay, K1, usd("1.00"), SOME, T0, LIMITS);
        assertThat(again.repeated()).isTrue();
        assertThat(again.keyRepeated()).isFalse();
    }

    @Test
    void unkeyedChargesAreNeverRepeats() {
        SessionLedger l = SessionRules.charge(fresh(), A, null, usd("1.00"), SOME, T0, LIMITS).ledger();
        SessionRules.Charge again = SessionRules.charge(l, A, null, usd("1.00"), SOME, T0, LIMITS);
        assertThat(again.applied()).isTrue();
        assertThat(again.ledger().costNanoUsd()).isEqualTo(usd("2.00"));
        assertThat(again.ledger().keys().size()).isZero();
    }

    // ---- the bound and the merge ----

    @Test
    void pastTheBoundTheOldestKeysAreForgotten() {
        SessionLedger l = fresh();
        for (int i = 0; i <= ChargeKeys.MAX_KEYS; i++) {
            l = SessionRules.charge(l, A, ChargeKey.of("resp_" + i, 1), 1, SOME, T0 + i, LIMITS).ledger();
        }
        assertThat(l.keys().size()).isEqualTo(ChargeKeys.MAX_KEYS);
        assertThat(l.seen(ChargeKey.of("resp_0", 1))).as("the oldest went").isEqualTo(ChargeKeys.Seen.NEW);
        assertThat(l.seen(ChargeKey.of("resp_1", 1))).isEqualTo(ChargeKeys.Seen.SAME_REPORT);
        assertThat(l.seen(ChargeKey.of("resp_" + ChargeKeys.MAX_KEYS, 1))).isEqualTo(ChargeKeys.Seen.SAME_REPORT);
    }

    @Test
    void mergedCopiesKnowTheKeysOfBothSidesWhateverTheOrder() {
        SessionLedger shared = SessionRules.charge(fresh(), A, ChargeKey.of("resp_0", 1), 1, SOME, T0, LIMITS).ledger();
        SessionLedger left = SessionRules.charge(shared, A, K1, usd("1.00"), SOME, T0 + 10, LIMITS).ledger();
        SessionLedger right = SessionRules.charge(shared, B, ChargeKey.of("resp_9", 2), 2, SOME, T0 + 5, LIMITS).ledger();

        SessionLedger merged = SessionLedger.merge(left, right);
        assertThat(SessionLedger.merge(right, left)).isEqualTo(merged);
        assertThat(SessionLedger.merge(merged, left)).as("idempotent").isEqualTo(merged);
        assertThat(merged.keys().size()).isEqualTo(3);
        assertThat(SessionRules.charge(merged, B, K1, usd("1.00"), SOME, T0 + 20, LIMITS).keyRepeated()).isTrue();
        assertThat(SessionRules.charge(merged, A, ChargeKey.of("resp_9", 2), 2, SOME, T0 + 20, LIMITS).keyRepeated()).isTrue();
        assertThat(merged.costNanoUsd()).isEqualTo(usd("1.00") + 3);
    }

    @Test
    void aMergePastTheBoundKeepsTheNewestKeysOfBothSides() {
        List<ChargeKeys.Entry> a = new ArrayList<>();
        List<ChargeKeys.Entry> b = new ArrayList<>();
        for (int i = 0; i < ChargeKeys.MAX_KEYS; i++) {
            a.add(new ChargeKeys.Entry(2L * i, 0, T0 + 2L * i));
            b.add(new ChargeKeys.Entry(2L * i + 1, 0, T0 + 2L * i + 1));
        }
        ChargeKeys merged = ChargeKeys.merge(ChargeKeys.of(a), ChargeKeys.of(b));
        assertThat(merged).isEqualTo(ChargeKeys.merge(ChargeKeys.of(b), ChargeKeys.of(a)));
        assertThat(merged.size()).isEqualTo(ChargeKeys.MAX_KEYS);
        assertThat(merged.entries().get(0).keyHash()).isEqualTo(ChargeKeys.MAX_KEYS);
    }

    // ---- a guard ----

    private final ducke.testing.MemoryStores.MemorySessions sessions = new ducke.testing.MemoryStores.MemorySessions();
    private final ducke.testing.MemoryStores.MemorySpend spend = new ducke.testing.MemoryStores.MemorySpend();
    private final ClusterHealth health = new ClusterHealth(2, 3, 3, 15_000);
    private final AtomicInteger ids = new AtomicInteger();

    private CostGuard guard(String writer, ChargeJournal journal) {
        return new CostGuard(PriceTable.defaults(), LIMITS, sessions, spend, new SpendView(),
                new CostGuardTest.RecordingBroadcast(), CostObserver.NONE, "node", () -> "sess_" + ids.incrementAndGet(),
                health, journal, writer);
    }

    @Test
    void aKeyedReportSentTwiceChargesTheSessionTheSpendAndTheClientOnce() {
        CostGuard a = guard("node-a/1", new ChargeJournal(10));
        CostGuard b = guard("node-b/1", new ChargeJournal(10));
        String id = a.start("client-1", "gpt-5", "", T0).ledger().sessionId();

        CostGuard.Usage first = a.report(id, "gpt-5", USAGE, "report:k1", T0);
        CostGuard.Usage again = b.report(id, "gpt-5", USAGE, "report:k1", T0 + 1);

        assertThat(first.applied()).isTrue();
        assertThat(first.callCostNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(again.applied()).isFalse();
        assertThat(again.repeated()).isTrue();
        assertThat(again.conflicting()).isFalse();
        assertThat(again.callCostNanoUsd()).isZero();
        assertThat(again.priced().costNanoUsd()).as("what the report costs, for the answer").isEqualTo(usd("7.00"));
        assertThat(a.get(id).orElseThrow().costNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(a.refreshSpend(T0 + 2).hourlyNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(spend.clientSnapshot("client-1", T0 + 2, LIMITS).hourlyNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(b.report(id, "gpt-5", TokenUsage.totals(1, 1), "report:k1", T0 + 2).conflicting()).isTrue();
        assertThat(a.report(id, "gpt-5", USAGE, "report:k2", T0 + 3).applied()).as("another key is another report").isTrue();
    }

    @Test
    void aRelayedResponseChargedTwiceCountsOnce() {
        CostGuard a = guard("node-a/1", new ChargeJournal(10));
        String id = a.start("client-1", "gpt-realtime", "", T0).ledger().sessionId();
        TokenUsage u = TokenUsage.totals(1_000, 2_000);
        assertThat(a.report(id, "gpt-realtime", null, u, "resp_abc", T0).applied()).isTrue();
        assertThat(a.report(id, "gpt-realtime", null, u, "resp_abc", T0 + 1).repeated()).isTrue();
        assertThat(a.report(id, "gpt-realtime", null, u, "transcription:item_1", T0 + 2).applied()).isTrue();
        assertThat(a.get(id).orElseThrow().chargedResponses()).isEqualTo(2);
    }

    @Test
    void aKeyedReportJournaledWhileTheClusterChargedItElsewhereCountsOnceAfterTheHeal() {
        CostGuard majority = guard("node-a/1", new ChargeJournal(10));
        CostGuard minority = guard("node-b/1", new ChargeJournal(10));
        String id = majority.start("client-1", "gpt-5", "", T0).ledger().sessionId();

        health.membersSeen(1);
        sessions.quorum.set(false);
        spend.quorum.set(false);
        CostGuard.Usage journaled = minority.report(id, "gpt-5", USAGE, "report:k1", T0);
        CostGuard.Usage journaledAgain = minority.report(id, "gpt-5", USAGE, "report:k1", T0 + 1);
        assertThat(journaled.journaled()).isTrue();
        assertThat(journaledAgain.journalSeq()).as("the same entry, not a second one").isEqualTo(journaled.journalSeq());
        assertThat(journaledAgain.repeated()).isTrue();
        assertThat(minority.journal().size()).isEqualTo(1);
        assertThat(minority.report(id, "gpt-5", TokenUsage.totals(1, 1), "report:k1", T0 + 1).conflicting()).isTrue();

        // the other side of the partition has the quorum (this in-memory grid has one switch for both)
        sessions.quorum.set(true);
        spend.quorum.set(true);
        health.membersSeen(3);
        assertThat(majority.report(id, "gpt-5", USAGE, "report:k1", T0 + 2).applied()).isTrue();
        assertThat(minority.replayJournal()).isEqualTo(1);

        assertThat(majority.get(id).orElseThrow().costNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(majority.refreshSpend(T0 + 3).hourlyNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(minority.journal().pending(id, "report:k1")).isNull();
    }
}
