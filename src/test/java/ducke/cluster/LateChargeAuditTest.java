package ducke.cluster;

import com.hazelcast.core.EntryView;
import ducke.core.cost.AuditSink;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenUsage;
import ducke.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage charged after a session ended, on real members: the ledger leaves its retention countdown,
 * the reaper hands the grown record to the audit sink once per charge, and a charge that lands
 * while the record is being written is never lost.
 */
class LateChargeAuditTest {

    /** gpt-5, 100k in: exactly one dollar. */
    private static final TokenUsage ONE_DOLLAR = TokenUsage.totals(100_000, 0);

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private CostGrid grid;

    @AfterEach
    void stop() {
        grid.nodes.forEach(ClusterNode::stop);
    }

    private EntryView<String, SessionLedger> entry(String id) {
        return grid.nodes.get(0).hazelcast().<String, SessionLedger>getMap(HazelcastFactory.SESSIONS_MAP).getEntryView(id);
    }

    private List<SessionRecord> accepted(String id) {
        return grid.sink.accepted().stream().filter(r -> r.sessionId().equals(id)).toList();
    }

    @Test
    void aChargeAfterTheAuditHandsTheGrownRecordOverOnce() throws Exception {
        grid = new CostGrid(Members.start(2), CostLimits.defaults(), clock);
        CostGuard first = grid.guards.get(0);
        CostGuard second = grid.guards.get(1);
        String id = first.start("203.0.113.5", "gpt-5", "", clock.millis()).ledger().sessionId();
        first.report(id, null, ONE_DOLLAR, clock.millis());
        first.end(id, EndReason.CLIENT_CLOSED, clock.millis());
        grid.passEverywhere();
        assertThat(accepted(id)).hasSize(1);
        assertThat(entry(id).getTtl()).as("retained for an hour once audited").isEqualTo(3_600_000L);

        CostGuard.Usage late = second.report(id, "gpt-5", null, ONE_DOLLAR, clock.millis());
        assertThat(late.afterEnd()).isTrue();
        assertThat(entry(id).getValue().audited()).isFalse();
        assertThat(entry(id).getTtl()).as("kept until the grown record is audited").isGreaterThan(3_600_000L * 24 * 365);

        grid.passEverywhere();
        grid.passEverywhere();
        List<SessionRecord> records = accepted(id);
        assertThat(records).hasSize(2);
        assertThat(records.get(1).costNanoUsd()).isEqualTo(Money.nanoUsd("2.00"));
        assertThat(records.get(1).chargedResponses()).isEqualTo(2);
        assertThat(records.get(1).endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(records.get(1).endedAtMillis()).isEqualTo(records.get(0).endedAtMillis());
        assertThat(entry(id).getValue().audited()).isTrue();
        assertThat(entry(id).getTtl()).isEqualTo(3_600_000L);
    }

    @Test
    void aChargeWhileTheRecordIsWrittenIsHandedOverNextPass() throws Exception {
        AtomicReference<CostGuard> guard = new AtomicReference<>();
        AtomicReference<String> session = new AtomicReference<>();
        List<SessionRecord> written = new ArrayList<>();
        AuditSink racing = records -> {
            written.addAll(records);
            if (written.size() == 1) {
                // usage arrives while the first record is being written
                guard.get().report(session.get(), null, ONE_DOLLAR, clock.millis());
            }
        };
        grid = new CostGrid(Members.start(1), CostLimits.defaults(), clock, racing);
        guard.set(grid.guards.get(0));
        String id = guard.get().start("203.0.113.6", "gpt-5", "", clock.millis()).ledger().sessionId();
        session.set(id);
        guard.get().report(id, null, ONE_DOLLAR, clock.millis());
        guard.get().end(id, EndReason.API_ENDED, clock.millis());

        assertThat(grid.reapers.get(0).pass().audited()).isEqualTo(1);
        assertThat(guard.get().get(id).orElseThrow().audited()).as("the record written is already out of date").isFalse();
        assertThat(grid.reapers.get(0).pass().audited()).isEqualTo(1);
        assertThat(grid.reapers.get(0).pass().audited()).isZero();

        assertThat(written).extracting(SessionRecord::costNanoUsd).containsExactly(Money.nanoUsd("1.00"), Money.nanoUsd("2.00"));
        assertThat(written).extracting(SessionRecord::chargedResponses).containsExactly(1, 2);
    }
}
