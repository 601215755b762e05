package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.testing.MemoryStores;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The first member of a new cluster rebuilds before anyone admits; the others wait; the journal counts once. */
class StateRebuildTest {

    private static final long MINUTE = 60_000L;
    private static final long NOW = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final TokenUsage USAGE = TokenUsage.totals(10_000, 20_000);
    private static final long USAGE_NANO = Money.nanoUsd("0.70");

    private final MemoryStores.MemorySessions sessions = new MemoryStores.MemorySessions();
    private final MemoryStores.MemorySpend spend = new MemoryStores.MemorySpend();
    private final CostGuardTest.RecordingBroadcast broadcast = new CostGuardTest.RecordingBroadcast();
    private final FakeStore store = new FakeStore();
    private final FakeAudit audit = new FakeAudit();

    /** The grid's marker, as the test sets it. */
    private final class FakeStore implements StateRebuild.Store {
        Claim claim = Claim.MINE;
        long doneAsOf;
        String summary;

        @Override
        public Claim claim(long nowMillis) {
            return claim;
        }

        @Override
        public long rebuiltAsOfMillis() {
            return doneAsOf;
        }

        @Override
        public void install(SpendRebuild.Result result, long nowMillis, CostLimits limits) {
            spend.seed(result.ledger(), result.clients());
        }

        @Override
        public void done(long asOfMillis, String line) {
            doneAsOf = asOfMillis;
            summary = line;
        }
    }

    private static final class FakeAudit implements StateRebuild.AuditHistory {
        final List<SpendRebuild.ChargeRow> charges = new ArrayList<>();
        final List<SpendRebuild.BreakerEvent> events = new ArrayList<>();
        final Set<StateRebuild.ChargeRef> rows = new HashSet<>();

        @Override
        public SpendRebuild.History read(long fromMillis, long breakerFromMillis, long nowMillis) {
            return new SpendRebuild.History(charges, List.of(), events);
        }

        @Override
        public Set<StateRebuild.ChargeRef> recorded(Collection<StateRebuild.ChargeRef> refs) {
            Set<StateRebuild.ChargeRef> found = new HashSet<>(refs);
            found.retainAll(rows);
            return found;
        }

        void charge(String session, String key, String client, long atMillis, long nanoUsd) {
            charges.add(new SpendRebuild.ChargeRow(session, client, atMillis, nanoUsd));
            rows.add(new StateRebuild.ChargeRef(session, key));
        }
    }

    private CostGuard guard(List<ChargeJournal.Entry> restored) {
        CostGuard g = new CostGuard(PriceTable.defaults(), LIMITS, sessions, spend, new SpendView(), broadcast,
                CostObserver.NONE, "node-a", () -> "sess_new", ClusterHealth.alone(),
                new ChargeJournal(100, restored, ChargeJournal.Store.NONE), "node-a/2");
        return g;
    }

    private static long elapsed() {
        return 0;
    }

    @Test
    void noSessionIsAdmittedWhileAnotherMemberRebuilds() {
        CostGuard guard = guard(List.of());
        StateRebuild rebuild = new StateRebuild(audit, store, guard, broadcast);
        guard.admitWhen(rebuild::ready);
        store.claim = StateRebuild.Store.Claim.WAITING;

        assertThat(rebuild.attempt(NOW, StateRebuildTest::elapsed).ready()).isFalse();
        assertThat(guard.start("c1", "gpt-5", "", NOW).refusal()).isEqualTo(CostGuard.Refusal.CLUSTER_DEGRADED);

        store.claim = StateRebuild.Store.Claim.DONE;
        assertThat(rebuild.attempt(NOW, StateRebuildTest::elapsed).rebuilt()).isFalse();
        assertThat(guard.start("c1", "gpt-5", "", NOW).started()).isTrue();
    }

    @Test
    void theMemberThatClaimsItRebuildsThenAdmitsAndAnnouncesAnOpenBreaker() {
        CostGuard guard = guard(List.of());
        StateRebuild rebuild = new StateRebuild(audit, store, guard, broadcast);
        guard.admitWhen(rebuild::ready);
        audit.charge("s1", "resp_1", "c1", NOW - 10 * MINUTE, Money.nanoUsd("40.00"));
        audit.events.add(new SpendRebuild.BreakerEvent(NOW - MINUTE, true, NOW - MINUTE, NOW + 59 * MINUTE, "admin", 0));

        StateRebuild.Attempt a = rebuild.attempt(NOW, StateRebuildTest::elapsed);

        assertThat(a.rebuilt()).isTrue();
        assertThat(a.rows()).isEqualTo(2);
        assertThat(store.summary).contains("hourly spend 40.00 USD", "1 client(s)", "breaker open (cause admin)");
        assertThat(store.doneAsOf).isEqualTo(NOW);
        assertThat(spend.ledger().snapshot(NOW, LIMITS).breakerClosesAtMillis()).isEqualTo(NOW + 59 * MINUTE);
        assertThat(broadcast.published).hasSize(1);
        assertThat(guard.start("c2", "gpt-5", "", NOW).refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
    }

    @Test
    void journalEntriesOfAnEarlierProcessWhoseRowsTheRebuildReadAreNotCountedAgain() {
        String earlier = "node-a/1";
        ChargeJournal.Entry applied = new ChargeJournal.Usage(new ChargeId(earlier, 1), NOW - 5 * MINUTE, "s1", "c1", "gpt-5",
                "gpt-5", USAGE, "resp_1");
        ChargeJournal.Entry orphaned = new ChargeJournal.Usage(new ChargeId(earlier, 2), NOW - 4 * MINUTE, "s1", "c1", "gpt-5",
                "gpt-5", USAGE);
        ChargeJournal.Entry spendPart = new ChargeJournal.Spend(new ChargeId(earlier, 3), NOW - 3 * MINUTE, "c1", USAGE_NANO);
        ChargeJournal.Entry never = new ChargeJournal.Usage(new ChargeId(earlier, 4), NOW - 2 * MINUTE, "s1", "c1", "gpt-5",
                "gpt-5", USAGE, "resp_4");
        // the earlier process applied the first two (their rows are in the store) and the session part of the third
        audit.charge("s1", "resp_1", "c1", NOW - 5 * MINUTE, USAGE_NANO);
        audit.charge("s1", JournalReplay.orphanKey(orphaned.id()), "c1", NOW - 4 * MINUTE, USAGE_NANO);
        audit.charge("s1", "resp_3", "c1", NOW - 3 * MINUTE, USAGE_NANO);
        CostGuard guard = guard(List.of(applied, orphaned, spendPart, never));
        StateRebuild rebuild = new StateRebuild(audit, store, guard, broadcast);
        guard.admitWhen(rebuild::ready);

        assertThat(guard.replayJournal()).as("nothing is replayed before the rebuild").isZero();
        rebuild.attempt(NOW, StateRebuildTest::elapsed);
        guard.replayJournal();

        assertThat(guard.journal().size()).isZero();
        assertThat(spend.ledger().snapshot(NOW, LIMITS).hourlyNanoUsd()).as("three rows read, one entry never applied")
                .isEqualTo(4 * USAGE_NANO);
        assertThat(spend.clientSnapshot("c1", NOW, LIMITS).hourlyNanoUsd()).isEqualTo(4 * USAGE_NANO);
    }
}
