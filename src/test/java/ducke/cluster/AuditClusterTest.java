package ducke.cluster;

import ducke.config.AuditFactory;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.TokenUsage;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import ducke.db.JdbiAuditSink;
import ducke.db.Migrations;
import ducke.testing.MutableClock;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Records still waiting in the grid when their node dies are written by the survivors, exactly once. */
class AuditClusterTest {

    private final MutableClock clock = MutableClock.at("2026-11-27T23:00:00Z");
    private CostGrid grid;

    @AfterEach
    void stop() {
        grid.nodes.forEach(ClusterNode::stop);
    }

    @Test
    void unwrittenRecordsOfATerminatedNodeAreWrittenByTheSurvivorsExactlyOnce() throws Exception {
        AuditFactory audit = new AuditFactory();
        audit.setUrl("jdbc:h2:mem:cluster-audit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        audit.setMigrations(new File("migrations").getAbsolutePath());
        Migrations.apply(audit);
        var ds = audit.dataSource();
        AuditDao dao = new AuditDao(Jdbi.create(ds.getUrl(), ds.getUser(), ds.getPassword()));
        JdbiAuditSink sink = new JdbiAuditSink(dao, clock, 50, 1_000);
        grid = new CostGrid(Members.start(3), CostLimits.defaults(), clock, sink);

        // sessions spread over every partition; all of them end before any reaper has run
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            var guard = grid.guards.get(i % 3);
            String id = guard.start("198.51.100." + i, "gpt-5", "", clock.millis()).ledger().sessionId();
            guard.report(id, null, TokenUsage.totals(1_000, 1_000), clock.millis());
            guard.end(id, EndReason.API_ENDED, clock.millis());
            ids.add(id);
        }
        ClusterNode dying = grid.nodes.get(2);
        dying.terminate();
        long deadline = System.currentTimeMillis() + 60_000;
        while (grid.nodes.get(0).memberCount() != 2 || grid.nodes.get(1).memberCount() != 2) {
            assertThat(System.currentTimeMillis()).as("survivors saw the loss").isLessThan(deadline);
            Thread.onSpinWait();
        }
        int written = 0;
        while (written < ids.size()) {
            assertThat(System.currentTimeMillis()).as("every record written in time").isLessThan(deadline);
            grid.passEverywhere();
            written = dao.sessions(AuditQuery.all(), 1000, null).records().size();
        }
        grid.passEverywhere();
        grid.passEverywhere();

        var rows = dao.sessions(AuditQuery.all(), 1000, null).records();
        assertThat(rows).hasSize(ids.size());
        assertThat(new HashSet<>(rows.stream().map(r -> r.sessionId()).toList())).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(rows).allMatch(r -> r.costNanoUsd() == 40_000_000L && r.endReason() == EndReason.API_ENDED);
        assertThat(sink.written()).isEqualTo(ids.size());
    }
}
