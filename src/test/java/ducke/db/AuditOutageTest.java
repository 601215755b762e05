package ducke.db;

import ducke.config.AuditFactory;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenCounts;
import ducke.testing.Poll;
import org.h2.tools.Server;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The durable sink against a real database server that goes away and comes back: an H2 TCP server
 * over a file database. Time for the back-off is a {@link ManualClock}; only the server's coming
 * back up is waited for, with a deadline.
 */
class AuditOutageTest {

    static final long T0 = Instant.parse("2025-03-10T12:00:00Z").toEpochMilli();

    @TempDir
    Path baseDir;

    int port;
    Server server;
    String url;
    ManualClock clock;
    /** Connections the DAO has asked for: proves when the sink did not touch the database. */
    final AtomicInteger connectionAttempts = new AtomicInteger();
    /**
     * When false the DAO's connections fail at once without reaching the server. Used only where many
     * failures are needed: the H2 client retries a refused connection for about 1.2 s each time.
     */
    volatile boolean reachable = true;
    AuditDao dao;

    @BeforeEach
    void startDatabase() throws SQLException {
        port = freePort();
        server = startServer();
        url = "jdbc:h2:tcp://127.0.0.1:" + port + "/audit";
        AuditFactory factory = new AuditFactory();
        factory.setUrl(url);
        factory.setMigrations(new File("migrations").getAbsolutePath());
        assertThat(Migrations.apply(factory)).as("every migration applied to a fresh database")
                .isEqualTo(new File("migrations").list((dir, name) -> name.endsWith(".sql")).length);
        Jdbi jdbi = Jdbi.create(() -> {
            connectionAttempts.incrementAndGet();
            if (!reachable) {
                throw new SQLException("Connection refused (simulated)", "08001");
            }
            return DriverManager.getConnection(url, "sa", "");
        });
        dao = new AuditDao(jdbi);
        clock = new ManualClock(T0);
    }

    @AfterEach
    void stopDatabase() {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void recordsOfferedDuringAnOutageArriveExactlyOnceAfterTheServerComesBack() throws Exception {
        JdbiAuditSink sink = new JdbiAuditSink(dao, clock, 3, 5_000);
        List<SessionRecord> a = records("a", 4);
        sink.write(a);
        assertThat(sink.up()).isTrue();
        assertThat(sink.written()).isEqualTo(4);
        assertThat(rowCount()).isEqualTo(4);

        server.stop();

        // an already written record, a duplicate within the batch, and new ones
        List<SessionRecord> b = new ArrayList<>(records("b", 3));
        b.add(1, a.get(0));
        b.add(b.get(0));

        int before = connectionAttempts.get();
        assertThatThrownBy(() -> sink.write(b)).as("the database is down").isInstanceOf(RuntimeException.class);
        assertThat(connectionAttempts.get()).as("the first failure did try the database").isGreaterThan(before);
        assertThat(sink.up()).isFalse();
        assertThat(sink.lastError()).isNotBlank();
        assertThat(sink.written()).isEqualTo(4);

        // backing off: refused without a connection being asked for
        before = connectionAttempts.get();
        assertThatThrownBy(() -> sink.write(b)).isInstanceOf(JdbiAuditSink.BackingOff.class);
        clock.advance(499);
        assertThatThrownBy(() -> sink.write(b)).isInstanceOf(JdbiAuditSink.BackingOff.class);
        assertThatThrownBy(() -> sink.write(a)).isInstanceOf(JdbiAuditSink.BackingOff.class);
        assertThat(connectionAttempts.get()).as("no database access while backing off").isEqualTo(before);
        assertThat(sink.up()).isFalse();

        // the back-off has passed: one more attempt, still down, and the next wait doubles
        clock.advance(1);
        assertThatThrownBy(() -> sink.write(b)).isInstanceOf(RuntimeException.class)
                .isNotInstanceOf(JdbiAuditSink.BackingOff.class);
        assertThat(connectionAttempts.get()).isGreaterThan(before);
        assertThat(sink.up()).isFalse();

        server = restartServer();

        // the server is back, but the sink still waits out its back-off without touching it
        List<SessionRecord> c = records("c", 2);
        List<SessionRecord> retry = new ArrayList<>(b);
        retry.addAll(c);
        before = connectionAttempts.get();
        clock.advance(999);
        assertThatThrownBy(() -> sink.write(retry)).isInstanceOf(JdbiAuditSink.BackingOff.class);
        assertThat(connectionAttempts.get()).isEqualTo(before);
        assertThat(rowCount()).isEqualTo(4);

        clock.advance(1);
        sink.write(retry);
        assertThat(sink.up()).isTrue();
        assertThat(sink.written()).as("a 4 + b 3 + c 2").isEqualTo(9);

        // offered again (the grid hands a record over until a write returns normally)
        sink.write(retry);
        sink.write(a);
        sink.write(List.of(c.get(1), b.get(0), a.get(3)));
        assertThat(sink.written()).isEqualTo(9);
        assertThat(sink.up()).isTrue();

        List<SessionRecord> all = new ArrayList<>(a);
        all.addAll(records("b", 3));
        all.addAll(c);
        for (SessionRecord r : all) {
            assertThat(rowsOf(r.sessionId())).as(r.sessionId()).isEqualTo(1);
        }
        assertThat(rowCount()).isEqualTo(all.size());
        assertThat(dao.sessions(AuditQuery.all(), 100, null).records())
                .containsExactlyInAnyOrderElementsOf(all);
    }

    @Test
    void theBackOffDoublesUpToTheMaximumAndStartsOverAfterASuccess() throws Exception {
        JdbiAuditSink sink = new JdbiAuditSink(dao, clock, 10, 2_000);
        List<SessionRecord> batch = records("x", 2);
        reachable = false;

        assertThat(failsAgainstTheDatabase(sink, batch)).isTrue();
        for (long wait : new long[]{500, 1_000, 2_000, 2_000}) {
            clock.advance(wait - 1);
            assertThat(failsAgainstTheDatabase(sink, batch)).as("still backing off %d ms after the failure", wait - 1)
                    .isFalse();
            clock.advance(1);
            assertThat(failsAgainstTheDatabase(sink, batch)).as("tries again %d ms after the failure", wait).isTrue();
        }

        reachable = true;
        clock.advance(1_999);
        assertThat(failsAgainstTheDatabase(sink, batch)).isFalse();
        clock.advance(1);
        sink.write(batch);
        assertThat(sink.up()).isTrue();
        assertThat(rowCount()).isEqualTo(2);

        // a fresh outage starts again at the shortest wait
        reachable = false;
        List<SessionRecord> next = records("y", 1);
        assertThat(failsAgainstTheDatabase(sink, next)).isTrue();
        clock.advance(499);
        assertThat(failsAgainstTheDatabase(sink, next)).isFalse();
        reachable = true;
        clock.advance(1);
        sink.write(next);
        assertThat(rowCount()).isEqualTo(3);
    }

    /**
     * "attempts back off exponentially (up to maxRetryMillis)": with a maximum below 500 ms the
     * first wait must not exceed it. JdbiAuditSink starts at a fixed 500 ms regardless.
     */
    @Test
    void noWaitIsLongerThanTheMaximumRetryInterval() throws Exception {
        JdbiAuditSink sink = new JdbiAuditSink(dao, clock, 10, 100);
        List<SessionRecord> batch = records("z", 2);
        server.stop();
        assertThat(failsAgainstTheDatabase(sink, batch)).isTrue();

        server = restartServer();
        clock.advance(100);
        sink.write(batch);
        assertThat(sink.up()).isTrue();
        assertThat(rowCount()).isEqualTo(2);
    }

    // ---------------------------------------------------------------------- helpers

    /** @return true when the write reached for the database and failed, false when refused while backing off */
    boolean failsAgainstTheDatabase(JdbiAuditSink sink, List<SessionRecord> batch) {
        int before = connectionAttempts.get();
        try {
            sink.write(batch);
        } catch (JdbiAuditSink.BackingOff e) {
            assertThat(connectionAttempts.get()).as("backing off touches nothing").isEqualTo(before);
            assertThat(sink.up()).isFalse();
            return false;
        } catch (Exception e) {
            assertThat(connectionAttempts.get()).isGreaterThan(before);
            assertThat(sink.up()).isFalse();
            return true;
        }
        return fail("the write succeeded with the database down");
    }

    static List<SessionRecord> records(String prefix, int n) {
        List<SessionRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new SessionRecord(prefix + "-" + i, "client-" + prefix, "node-1", "gpt-realtime", T0 - 60_000 + i,
                    T0 + i, EndReason.CLIENT_CLOSED, TokenCounts.of(i, 2, 3, 4, 5), 1, 1_000_000_001L + i, "v1"));
        }
        return out;
    }

    Server startServer() throws SQLException {
        return Server.createTcpServer("-tcpPort", Integer.toString(port), "-ifNotExists", "-baseDir", baseDir.toString())
                .start();
    }

    /** Starts the server again on the same port and folder, waiting (with a deadline) until it answers. */
    Server restartServer() throws Exception {
        Server[] started = new Server[1];
        SQLException[] last = new SQLException[1];
        Poll.until("H2 TCP server back on port " + port, Duration.ofSeconds(10), Duration.ofMillis(50),
                () -> "last: " + last[0], () -> {
                    try {
                        Server s = startServer();
                        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
                            c.createStatement().execute("SELECT 1");
                            started[0] = s;
                            return true;
                        } catch (SQLException e) {
                            s.stop();
                            throw e;
                        }
                    } catch (SQLException e) {
                        last[0] = e;
                        return false;
                    }
                });
        return started[0];
    }

    long rowCount() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM audit_sessions")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    long rowsOf(String sessionId) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM audit_sessions WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
