package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A guard whose part of the cluster loses its quorum: refusals, the journal, and its replay. */
class CostGuardJournalTest {

    private static final long T0 = 1_700_000_040_000L;
    private static final long SECOND = 1_000L;
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final TokenUsage USAGE = TokenUsage.totals(10_000, 20_000);

    private final ducke.testing.MemoryStores.MemorySessions sessions = new ducke.testing.MemoryStores.MemorySessions();
    private final ducke.testing.MemoryStores.MemorySpend spend = new ducke.testing.MemoryStores.MemorySpend();
    private final RecordingJournalObserver observer = new RecordingJournalObserver();
    private final ClusterHealth health = new ClusterHealth(2, 3, 3, 15_000);
    private final AtomicInteger ids = new AtomicInteger();
    private CostGuard guard;

    private static final class RecordingJournalObserver extends CostGuardTest.RecordingObserver {
        final List<ChargeRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void journal(String outcome) {
            limits.add("journal:" + outcome);
        }

        @Override
        public void chargeRecorded(ChargeRecord record) {
            records.add(record);
        }
    }

    @BeforeEach
    void guard() {
        guard = guard(new ChargeJournal(3));
    }

    private CostGuard guard(ChargeJournal journal) {
        return guard(journal, "node-a/1");
    }

    private CostGuard guard(ChargeJournal journal, String writer) {
        return new CostGuard(PriceTable.defaults(), LIMITS, sessions, spend, new SpendView(),
                new CostGuardTest.RecordingBroadcast(), observer, "node-a", () -> "sess_" + ids.incrementAndGet(), health,
                journal, writer);
    }

    private long hourly() {
        return spend.ledger().snapshot(T0 + 2 * SECOND, LIMITS).hourlyNanoUsd();
    }

    private long clientHourly(String clientId) {
        return spend.clientSnapshot(clientId, T0 + 2 * SECOND, LIMITS).hourlyNanoUsd();
    }

    private void loseQuorum() {
        health.membersSeen(1);
        sessions.quorum.set(false);
        spend.quorum.set(false);
    }

    private void regainQuorum() {
        sessions.quorum.set(true);
        spend.quorum.set(true);
        health.membersSeen(3);
    }

    private String started() {
        return guard.start("client", "gpt-5", "", T0).ledger().sessionId();
    }

    @Test
    void withoutQuorumNewSessionsAreRefusedWithAWait() {
        loseQuorum();
        CostGuard.Start s = guard.start("client", "gpt-5", "", T0);
        assertThat(s.started()).isFalse();
        assertThat(s.refusal()).isEqualTo(CostGuard.Refusal.CLUSTER_DEGRADED);
        assertThat(s.retryAfterMillis()).isEqualTo(15_000);
        assertThat(sessions.ledgerCount()).isZero();
    }

    @Test
    void aGridThatRefusesIsNoQuorumEvenBeforeTheNodeNoticed() {
        sessions.quorum.set(false);
        spend.quorum.set(false);
        assertThat(guard.start("client", "gpt-5", "", T0).refusal()).isEqualTo(CostGuard.Refusal.CLUSTER_DEGRADED);
    }

    @Test
    void usageWithoutQuorumIsJournaledAndChargedOnceWhenTheQuorumIsBack() {
        String id = started();
        loseQuorum();
        CostGuard.Usage u = guard.report(id, null, USAGE, T0 + SECOND);
        assertThat(u.journaled()).isTrue();
        assertThat(u.journalSeq()).isEqualTo(1);
        assertThat(guard.journal().size()).isEqualTo(1);
        assertThat(guard.replayJournal()).as("nothing happens without the quorum").isZero();

        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(guard.replayJournal()).isZero();
        SessionLedger l = sessions.get(id).orElseThrow();
        assertThat(l.costNanoUsd()).as("gpt-5 10k in / 20k out").isEqualTo(Money.nanoUsd("0.70"));
        assertThat(spend.ledger().snapshot(T0 + 2 * SECOND, LIMITS).hourlyNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(guard.journal().size()).isZero();
        assertThat(observer.limits).contains("journal:journaled", "journal:applied");
    }

    @Test
    void aReplayThatFailsHalfwayIsFinishedOnceLater() {
        String id = started();
        loseQuorum();
        guard.report(id, null, USAGE, T0 + SECOND);
        sessions.quorum.set(true);
        health.membersSeen(3);
        // the session's ledger takes the charge, the spend ledger does not yet
        assertThat(guard.replayJournal()).isZero();
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(guard.journal().size()).isEqualTo(1);

        spend.quorum.set(true);
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).as("the ledger part is not charged twice")
                .isEqualTo(Money.nanoUsd("0.70"));
        assertThat(spend.ledger().snapshot(T0 + 2 * SECOND, LIMITS).hourlyNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
    }

    @Test
    void aLiveChargeWhoseSpendFindsNoQuorumJournalsTheSpend() {
        String id = started();
        spend.quorum.set(false);
        CostGuard.Usage u = guard.report(id, null, USAGE, T0 + SECOND);
        assertThat(u.applied()).isTrue();
        assertThat(u.journaled()).isFalse();
        assertThat(guard.journal().oldest()).isInstanceOf(ChargeJournal.Spend.class);
        spend.quorum.set(true);
        guard.replayJournal();
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(spend.ledger().snapshot(T0 + 2 * SECOND, LIMITS).hourlyNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
    }

    @Test
    void aFullJournalRefusesRatherThanLoses() {
        String id = started();
        loseQuorum();
        for (int i = 0; i < 3; i++) {
            guard.report(id, null, USAGE, T0 + SECOND);
        }
        assertThatThrownBy(() -> guard.report(id, null, USAGE, T0 + SECOND)).isInstanceOf(QuorumLostException.class);
        assertThat(observer.limits).contains("journal:refused");
        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(3);
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("2.10"));
    }

    @Test
    void aRelayedEndIsJournaledAfterItsChargesAndAppliedInOrder() {
        String id = guard.start("client", "gpt-5", "member-1", T0).ledger().sessionId();
        loseQuorum();
        assertThat(guard.report(id, "gpt-5", null, USAGE, T0 + SECOND).journaled()).isTrue();
        assertThat(guard.endOrJournal(id, EndReason.CLUSTER_DEGRADED, T0 + 2 * SECOND)).isEqualTo(Optional.empty());
        assertThatThrownBy(() -> guard.end(id, EndReason.API_ENDED, T0)).as("the API's end is not journaled")
                .isInstanceOf(QuorumLostException.class);
        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(2);
        SessionLedger l = sessions.get(id).orElseThrow();
        assertThat(l.costNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(l.endReason()).isEqualTo(EndReason.CLUSTER_DEGRADED);
        assertThat(l.endedAtMillis()).isEqualTo(T0 + 2 * SECOND);
        assertThat(sessions.slotsHeld("client")).isZero();
    }

    @Test
    void aRelayedChargeWhoseLedgerExpiredStillCountsInTheSpendTheClientsSpendAndTheAudit() {
        SessionLedger session = guard.start("client", "gpt-5", "member-1", T0).ledger();
        loseQuorum();
        assertThat(guard.report(session, null, USAGE, T0 + SECOND).journaled()).isTrue();
        sessions.expire(session.sessionId());
        regainQuorum();

        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(hourly()).as("gpt-5 10k in / 20k out").isEqualTo(Money.nanoUsd("0.70"));
        assertThat(clientHourly("client")).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(observer.limits).contains("journal:applied_orphan").doesNotContain("journal:discarded");
        assertThat(observer.records).singleElement().satisfies(r -> {
            assertThat(r.sessionId()).isEqualTo(session.sessionId());
            assertThat(r.chargeKey()).isEqualTo("journal:node-a/1#1");
            assertThat(r.clientId()).isEqualTo("client");
            assertThat(r.model()).isEqualTo("gpt-5");
            assertThat(r.costNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
            assertThat(r.atMillis()).isEqualTo(T0 + SECOND);
            assertThat(r.priceVersion()).isEqualTo(PriceTable.defaults().versioned(1).version());
        });
        assertThat(guard.replayJournal()).isZero();
        assertThat(hourly()).isEqualTo(Money.nanoUsd("0.70"));
    }

    @Test
    void aToolFeeWhoseLedgerExpiredStillCountsForItsClient() {
        PriceTable fees = new PriceTable(PriceTable.defaults().models().values().stream().toList(),
                java.util.Map.of("web_search", Money.nanoUsd("0.01")));
        CostGuard g = new CostGuard(fees, LIMITS, sessions, spend, new SpendView(), new CostGuardTest.RecordingBroadcast(),
                observer, "node-a", () -> "sess_" + ids.incrementAndGet(), health, new ChargeJournal(3), "node-a/1");
        SessionLedger session = g.start("client", "gpt-5", "member-1", T0).ledger();
        loseQuorum();
        assertThat(g.chargeToolFee(session, "web_search", T0 + SECOND).journaled()).isTrue();
        sessions.expire(session.sessionId());
        regainQuorum();
        assertThat(g.replayJournal()).isEqualTo(1);
        assertThat(hourly()).isEqualTo(Money.nanoUsd("0.01"));
        assertThat(clientHourly("client")).isEqualTo(Money.nanoUsd("0.01"));
        assertThat(observer.records).singleElement().satisfies(r -> assertThat(r.model()).isEqualTo("gpt-5"));
    }

    @Test
    void aReportForASessionNoOneKnowsAnyMoreCountsInTheClusterSpendAtTheModelItNames() {
        loseQuorum();
        guard.report("sess_unknown", "gpt-5", USAGE, T0);
        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(hourly()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(observer.limits).contains("journal:applied_orphan");
        assertThat(observer.records).singleElement().satisfies(r -> assertThat(r.clientId()).isNull());
    }

    @Test
    void theEndOfASessionNoOneKnowsIsDiscarded() {
        String id = guard.start("client", "gpt-5", "member-1", T0).ledger().sessionId();
        loseQuorum();
        guard.endOrJournal(id, EndReason.CLUSTER_DEGRADED, T0 + SECOND);
        sessions.expire(id);
        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(observer.limits).contains("journal:discarded");
        assertThat(spend.charges()).isZero();
    }

    @Test
    void aFullJournalRefusesALiveChargeBeforeItsSessionPartIsApplied() {
        String id = started();
        loseQuorum();
        for (int i = 0; i < 3; i++) {
            guard.report(id, null, USAGE, T0 + SECOND);
        }
        // the session's store is back, the spend's is not yet: the spend part would need the full journal
        sessions.quorum.set(true);
        health.membersSeen(3);
        assertThatThrownBy(() -> guard.report(id, null, USAGE, T0 + SECOND)).isInstanceOf(QuorumLostException.class);
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).as("nothing applied").isZero();
        assertThat(sessions.get(id).orElseThrow().chargedResponses()).isZero();
        assertThat(observer.limits).contains("journal:refused");

        spend.quorum.set(true);
        assertThat(guard.replayJournal()).isEqualTo(3);
        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("2.10"));
        assertThat(guard.report(id, null, USAGE, T0 + SECOND).applied()).as("room again").isTrue();
    }

    @Test
    void entriesOfAnEarlierProcessAreAppliedAsTheirOwnWriterSoARepeatAfterACrashCountsOnce() {
        String id = started();
        loseQuorum();
        guard.report(id, null, USAGE, T0 + SECOND);
        ChargeJournal.Entry journaled = guard.journal().oldest();
        assertThat(journaled.id()).isEqualTo(new ChargeId("node-a/1", 1));
        regainQuorum();
        // applied, then the process dies before its file says so: the next process finds the entry again
        assertThat(guard.replayJournal()).isEqualTo(1);
        CostGuard next = guard(new ChargeJournal(3, List.of(journaled), ChargeJournal.Store.NONE), "node-a/2");
        assertThat(next.journal().size()).isEqualTo(1);
        assertThat(next.replayJournal()).isEqualTo(1);

        assertThat(sessions.get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(sessions.get(id).orElseThrow().chargedResponses()).isEqualTo(1);
        assertThat(hourly()).isEqualTo(Money.nanoUsd("0.70"));
        assertThat(next.journal().size()).isZero();
    }

    @Test
    void journalKeepsOrderAndBound() {
        ChargeJournal j = new ChargeJournal(2);
        ChargeJournal.Entry a = j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 1));
        ChargeJournal.Entry b = j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 2));
        assertThat(j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 3))).isNull();
        assertThat(List.of(a.seq(), b.seq())).containsExactly(1L, 2L);
        assertThat(j.oldest()).isSameAs(a);
        assertThatThrownBy(() -> j.applied(b)).isInstanceOf(IllegalStateException.class);
        j.applied(a);
        assertThat(j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 3)).seq()).isEqualTo(3);
        assertThat(j.journaled()).isEqualTo(3);
    }

    @Test
    void roomTakenIsKeptForItsChargeAndGivenBackWhenUnused() {
        ChargeJournal j = new ChargeJournal(2);
        ChargeJournal.Room room = j.reserve();
        j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 1));
        assertThat(j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 2))).as("the room is taken").isNull();
        assertThat(j.reserve()).isNull();
        assertThat(j.append(room, seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 2))).isNotNull();
        assertThat(j.size()).isEqualTo(2);
        j.applied(j.oldest());
        ChargeJournal.Room unused = j.reserve();
        j.release(unused);
        j.release(unused);
        assertThat(j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 3))).isNotNull();
    }

    @Test
    void aStoreThatCannotWriteRefusesAnEntryUnlessItsRoomWasTaken() {
        ChargeJournal.Store broken = new ChargeJournal.Store() {
            @Override
            public long write(ChargeJournal.Entry e) throws java.io.IOException {
                throw new java.io.IOException("disk full (test)");
            }

            @Override
            public void sync(long ticket) {
            }

            @Override
            public void applied(ChargeJournal.Entry e, int left, java.util.function.Supplier<List<ChargeJournal.Entry>> waiting) {
            }
        };
        ChargeJournal j = new ChargeJournal(3, List.of(), broken);
        assertThat(j.append(seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 1))).isNull();
        ChargeJournal.Room room = j.reserve();
        assertThat(j.append(room, seq -> new ChargeJournal.Spend(new ChargeId("w", seq), T0, "c", 1))).isNotNull();
        assertThat(j.unsynced()).isEqualTo(1);
    }
}
