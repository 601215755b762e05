package ducke.cluster;

import ducke.config.AuditFactory;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenUsage;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import ducke.db.JdbiAuditSink;
import ducke.db.Migrations;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit's outbox on real members and a real database (H2): charge rows and final records wait
 * in the grid, so a node that dies before its writer ran loses none of them, and they are written
 * whenever the database takes them, whether or not the writing node has a quorum.
 */
class AuditOutboxClusterTest {

    /** gpt-5: 10 USD per million in, 30 out. */
    private static final TokenUsage USAGE = TokenUsage.totals(10_000, 20_000);

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> started = new ArrayList<>();
    /** When false, the audit store's connections fail at once, as when the database is down. */
    private volatile boolean databaseUp = true;
    private AuditDao dao;
    /** Reads the store whether or not the nodes can reach it. */
    private AuditDao reader;
    private JdbiAuditSink sink;

    @AfterEach
    void stop() {
        started.forEach(ClusterNode::terminate);
    }

    private CostGrid grid(int members) throws Exception {
        AuditFactory audit = new AuditFactory();
        String url = "jdbc:h2:mem:outbox-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        audit.setUrl(url);
        audit.setMigrations(new File("migrations").getAbsolutePath());
        Migrations.apply(audit);
        dao = new AuditDao(Jdbi.create(() -> {
            if (!databaseUp) {
                throw new SQLException("Connection refused (database down)", "08001");
            }
            return DriverManager.getConnection(url, "sa", "");
        }));
        reader = new AuditDao(Jdbi.create(url, "sa", ""));
        sink = new JdbiAuditSink(dao, clock, 50, 30_000);
        List<ClusterNode> nodes = Members.start(members);
        started.addAll(nodes);
        return new CostGrid(nodes, CostLimits.defaults(), clock, sink);
    }

    /** Sessions on {@code guard}: each charged twice and ended; returns their ids. */
    private List<String> chargedAndEnded(CostGuard guard, int sessions) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            String id = guard.start("198.51.100." + i, "gpt-5", "", clock.millis()).ledger().sessionId();
            guard.report(id, null, USAGE, clock.millis());
            guard.report(id, "gpt-5-mini", USAGE, clock.millis());
            guard.end(id, EndReason.API_ENDED, clock.millis());
            ids.add(id);
        }
        return ids;
    }

    private List<ChargeRecord> chargeRows(List<String> ids) {
        List<ChargeRecord> rows = new ArrayList<>();
        ids.forEach(id -> rows.addAll(reader.charges(id, 1000, null).charges()));
        return rows;
    }

    private Map<String, SessionRecord> sessionRows() {
        return reader.sessions(AuditQuery.all(), 1000, null).records().stream()
                .collect(Collectors.toMap(SessionRecord::sessionId, Function.identity()));
    }

    private static void awaitAlone(ClusterNode survivor) throws Exception {
        Poll.until("the survivor sees it is alone, without a quorum", Duration.ofSeconds(60), Duration.ofMillis(20),
                () -> survivor.memberCount() == 1 && !survivor.quorum());
    }

    @Test
    void theChargeRowsOfANodeThatDiedBeforeItsWriterRanAreWrittenByTheSurvivorsOnce() throws Exception {
        CostGrid grid = grid(3);
        // charged on the member that dies; its rows land all over the grid, also in its own partitions
        List<String> ids = chargedAndEnded(grid.guards.get(2), 30);
        grid.nodes.get(2).terminate();
        Poll.until("the survivors saw the loss", Duration.ofSeconds(60), Duration.ofMillis(20),
                () -> grid.nodes.get(0).memberCount() == 2 && grid.nodes.get(1).memberCount() == 2);

        Poll.until("every charge row written", Duration.ofSeconds(60), Duration.ofMillis(20), () -> {
            grid.reapers.get(0).pass();
            grid.reapers.get(1).pass();
            return chargeRows(ids).size() == 2 * ids.size() && sessionRows().size() == ids.size();
        });
        grid.reapers.get(0).pass();
        grid.reapers.get(1).pass();

        List<ChargeRecord> rows = chargeRows(ids);
        assertThat(rows).hasSize(2 * ids.size());
        assertThat(sink.chargesWritten()).as("each row written once").isEqualTo(2L * ids.size());
        assertThat(rows.stream().filter(r -> r.model().equals("gpt-5")).count()).isEqualTo(ids.size());
        assertThat(rows.stream().filter(r -> r.model().equals("gpt-5-mini")).count()).isEqualTo(ids.size());
        Map<String, SessionRecord> sessions = sessionRows();
        for (String id : ids) {
            long charged = rows.stream().filter(r -> r.sessionId().equals(id)).mapToLong(ChargeRecord::costNanoUsd).sum();
            assertThat(charged).as("the rows of %s add up to its record", id).isEqualTo(sessions.get(id).costNanoUsd());
        }
        assertThat(reader.sessions(AuditQuery.all(), 1000, null).models(ids.get(0))).containsExactly("gpt-5", "gpt-5-mini");
    }

    @Test
    void aMemberWithoutAQuorumWritesTheFinalRecordsItHoldsOnceTheDatabaseIsBack() throws Exception {
        CostGrid grid = grid(2);
        List<String> ids = new ArrayList<>(chargedAndEnded(grid.guards.get(0), 8));
        ids.addAll(chargedAndEnded(grid.guards.get(1), 8));
        databaseUp = false;
        grid.passEverywhere();
        assertThat(sessionRows()).isEmpty();
        grid.nodes.get(1).terminate();
        ClusterNode survivor = grid.nodes.get(0);
        awaitAlone(survivor);

        databaseUp = true;
        clock.advance(Duration.ofMinutes(1)); // past the sink's back-off
        Poll.until("every final record and charge row written", Duration.ofSeconds(60), Duration.ofMillis(20), () -> {
            assertThat(grid.reapers.get(0).pass().skipped()).as("no quorum: the ledgers are left alone").isTrue();
            return sessionRows().size() == ids.size() && chargeRows(ids).size() == 2 * ids.size();
        });
        assertThat(sessionRows().keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(sessionRows().values()).allMatch(r -> r.endReason() == EndReason.API_ENDED && r.chargedResponses() == 2);
        assertThat(sink.up()).isTrue();
        assertThat(grid.reapers.get(0).localPending()).isZero();
    }

    @Test
    void theLastMemberStoppingWithoutAQuorumWritesWhatItHoldsBeforeItLeaves() throws Exception {
        CostGrid grid = grid(2);
        List<String> ids = new ArrayList<>(chargedAndEnded(grid.guards.get(0), 8));
        ids.addAll(chargedAndEnded(grid.guards.get(1), 8));
        databaseUp = false;
        grid.passEverywhere();
        grid.nodes.get(1).terminate();
        ClusterNode survivor = grid.nodes.get(0);
        awaitAlone(survivor);
        databaseUp = true;

        grid.reapers.get(0).stop();

        assertThat(sessionRows().keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(chargeRows(ids)).hasSize(2 * ids.size());
    }
}
