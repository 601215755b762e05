package ducke.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import static org.assertj.core.api.Assertions.fail;

/**
 * Audit stores for application tests that outlive their nodes (full restarts): an H2 file of its
 * own, or a schema of its own in the machine's PostgreSQL. Each answers the settings
 * ({@code audit.url}, …) of {@link TestApps#support}.
 */
public final class AuditStores {

    public static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    public static final String PG_USER = "postgres";

    private AuditStores() {
    }

    /** A new H2 file under {@code target/test-data}. */
    public static String[] h2File() {
        Path file = Path.of("target/test-data", UUID.randomUUID().toString(), "audit").toAbsolutePath();
        return new String[]{"audit.url", "jdbc:h2:file:" + file};
    }

    /** A new PostgreSQL schema named {@code prefix} and a random suffix; dropped by {@link #close}. */
    public static final class PostgresSchema implements AutoCloseable {
        private final String schema;

        public PostgresSchema(String prefix) throws SQLException {
            schema = prefix + "_" + UUID.randomUUID().toString().replace("-", "");
            try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, ""); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            } catch (SQLException e) {
                fail("PostgreSQL is expected at " + PG_URL + " (user " + PG_USER + ", trust auth)", e);
            }
        }

        public String name() {
            return schema;
        }

        public String[] settings() {
            return new String[]{"audit.url", PG_URL + "?currentSchema=" + schema, "audit.user", PG_USER};
        }

        @Override
        public void close() throws SQLException {
            try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, ""); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
