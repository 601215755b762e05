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
    private final CostGuardTest.RecordingObserver observer = new RecordingJournalObserver();
    private final ClusterHealth health = new ClusterHealth(2, 3, 3, 15_000);
    private final AtomicInteger ids = new AtomicInteger();
    private CostGuard guard;

    private static final class RecordingJournalObserver extends CostGuardTest.RecordingObserver {
        @Override
        public void journal(String outcome) {
            limits.add("journal:" + outcome);
        }
    }

    @BeforeEach
    void guard() {
        guard = guard(new ChargeJournal(3));
    }

    private CostGuard guard(ChargeJournal journal) {
        return new CostGuard(PriceTable.defaults(), LIMITS, sessions, spend, new SpendView(),
                new CostGuardTest.RecordingBroadcast(), observer, "node-a", () -> "sess_" + ids.incrementAndGet(), health,
                journal, "node-a/1");
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
    void reportsForSessionsNoOneKnowsAreDiscardedWhenApplied() {
        loseQuorum();
        guard.report("sess_unknown", null, USAGE, T0);
        regainQuorum();
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(spend.charges()).isZero();
        assertThat(observer.limits).contains("journal:discarded");
    }

    @Test
    void journalKeepsOrderAndBound() {
        ChargeJournal j = new ChargeJournal(2);
        ChargeJournal.Entry a = j.append(seq -> new ChargeJournal.Spend(seq, T0, "c", 1));
        ChargeJournal.Entry b = j.append(seq -> new ChargeJournal.Spend(seq, T0, "c", 2));
        assertThat(j.append(seq -> new ChargeJournal.Spend(seq, T0, "c", 3))).isNull();
        assertThat(List.of(a.seq(), b.seq())).containsExactly(1L, 2L);
        assertThat(j.oldest()).isSameAs(a);
        assertThatThrownBy(() -> j.applied(b)).isInstanceOf(IllegalStateException.class);
        j.applied(a);
        assertThat(j.append(seq -> new ChargeJournal.Spend(seq, T0, "c", 3)).seq()).isEqualTo(3);
        assertThat(j.journaled()).isEqualTo(3);
    }
}
