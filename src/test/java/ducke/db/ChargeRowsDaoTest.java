package ducke.db;

import ducke.config.AuditFactory;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.File;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static ducke.db.AuditDaoTest.DAY;
import static ducke.db.AuditDaoTest.SECOND;
import static ducke.db.AuditDaoTest.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Charge rows, run unchanged against H2 (in memory) and the real PostgreSQL on this machine: stored
 * once per (session, key) however often written, read back exactly, paged, and the source of the
 * session rows' {@code models} and of the summary by model.
 */
class ChargeRowsDaoTest {

    static final long RECORDED_AT = T0 + 10 * DAY;

    @Nested
    @DisplayName("H2 in memory")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OnH2 extends Contract {
        @Override
        AuditDaoTest.Db createDatabase() {
            String url = "jdbc:h2:mem:charges-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
            return new AuditDaoTest.Db(url, "sa", "", () -> {
                try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement s = c.createStatement()) {
                    s.execute("SHUTDOWN");
                }
            });
        }
    }

    @Nested
    @DisplayName("PostgreSQL")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OnPostgres extends Contract {
        @Override
        AuditDaoTest.Db createDatabase() throws SQLException {
            String schema = "charges_test_" + UUID.randomUUID().toString().replace("-", "");
            try (Connection c = DriverManager.getConnection(AuditDaoTest.PG_ADMIN_URL, AuditDaoTest.PG_USER, "");
                 Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            } catch (SQLException e) {
                fail("PostgreSQL is expected at " + AuditDaoTest.PG_ADMIN_URL + " (user " + AuditDaoTest.PG_USER
                        + ", trust auth)", e);
            }
            return new AuditDaoTest.Db(AuditDaoTest.PG_ADMIN_URL + "?currentSchema=" + schema, AuditDaoTest.PG_USER, "", () -> {
                try (Connection c = DriverManager.getConnection(AuditDaoTest.PG_ADMIN_URL, AuditDaoTest.PG_USER, "");
                     Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            });
        }
    }

    abstract static class Contract {

        AuditDaoTest.Db db;
        Jdbi jdbi;
        AuditDao dao;

        abstract AuditDaoTest.Db createDatabase() throws SQLException;

        @BeforeAll
        void migrate() throws SQLException {
            db = createDatabase();
            AuditFactory factory = new AuditFactory();
            factory.setUrl(db.url());
            factory.setUser(db.user());
            factory.setPassword(db.password());
            factory.setMigrations(new File("migrations").getAbsolutePath());
            Migrations.apply(factory);
            jdbi = Jdbi.create(db.url(), db.user(), db.password());
            dao = new AuditDao(jdbi);
        }

        @AfterAll
        void dropDatabase() throws SQLException {
            if (db != null) {
                db.drop().drop();
            }
        }

        @BeforeEach
        void emptyTables() {
            jdbi.useHandle(h -> {
                h.execute("DELETE FROM audit_sessions");
                h.execute("DELETE FROM audit_charges");
            });
        }

        static ChargeRecord charge(String session, String key, String model, long costNano, long at) {
            return new ChargeRecord(session, key, "client-1", model, TokenCounts.of(costNano, 0, 0, 2 * costNano, 0), costNano,
                    false, at, "v1");
        }

        static SessionRecord session(String id, String model, long costNano, int responses, long ended) {
            return new SessionRecord(id, "client-1", "node-1", model, ended - 60 * SECOND, ended, EndReason.API_ENDED,
                    TokenCounts.of(responses, 0, 0, responses, 0), responses, costNano, "v1");
        }

        long count(String sql) {
            return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
        }

        String models(String sessionId) {
            return jdbi.withHandle(h -> h.createQuery("SELECT models FROM audit_sessions WHERE session_id = :id")
                    .bind("id", sessionId).mapTo(String.class).one());
        }

        @Test
        void everyFieldRoundTripsExactly() {
            ChargeRecord c = new ChargeRecord("sess-a", "resp_001", "203.0.113.0/24", "gpt-5", TokenCounts.of(11, 22, 33, 44, 55),
                    1L, true, T0 + 1_234, "abc123");
            ChargeRecord big = new ChargeRecord("sess-a", "report:k/ü'\"", "client-1", "gpt-realtime",
                    TokenCounts.of(Long.MAX_VALUE, 0, 0, 0, 1L << 40), Long.MAX_VALUE, false, T0 + 5_000, "abc123");
            assertThat(dao.insertCharges(List.of(c, big), RECORDED_AT)).isEqualTo(2);

            assertThat(dao.charges("sess-a", 10, null).charges()).containsExactly(c, big);
            BigDecimal stored = jdbi.withHandle(h -> h.createQuery(
                    "SELECT cost_usd FROM audit_charges WHERE charge_key = 'resp_001'").mapTo(BigDecimal.class).one());
            assertThat(stored).isEqualTo(new BigDecimal("0.000000001"));
            ChargeRecord back = dao.charges("sess-a", 1, null).charges().get(0);
            for (TokenKind k : TokenKind.values()) {
                assertThat(back.tokens().get(k)).as(k.name()).isEqualTo(c.tokens().get(k));
            }
        }

        @Test
        void aChargeIsStoredOnceHoweverOftenItIsWrittenAndTheFirstWriteStays() {
            ChargeRecord first = charge("s", "resp_1", "gpt-5", 100, T0);
            ChargeRecord again = charge("s", "resp_1", "gpt-5-mini", 999, T0 + 1);
            ChargeRecord other = charge("s", "resp_2", "gpt-5", 200, T0 + 2);
            assertThat(dao.insertCharges(List.of(other, first, first, again), RECORDED_AT)).as("repeats in one batch").isEqualTo(2);
            assertThat(dao.insertCharges(List.of(first, other), RECORDED_AT + 1)).as("a batch offered again").isZero();
            assertThat(dao.insertCharges(List.of(again), RECORDED_AT + 2)).isZero();
            assertThat(count("SELECT COUNT(*) FROM audit_charges")).isEqualTo(2);
            assertThat(dao.charges("s", 10, null).charges()).containsExactly(first, other);
            // the same key in another session is another charge
            assertThat(dao.insertCharges(List.of(charge("t", "resp_1", "gpt-5", 1, T0)), RECORDED_AT)).isEqualTo(1);
        }

        @Test
        void chargesArePagedOldestFirstAndEveryRowComesOnce() {
            List<ChargeRecord> all = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                // two charges at every instant: ties are ordered by key
                all.add(charge("paged", "k" + i, "gpt-5", i + 1, T0 + (i / 2) * SECOND));
            }
            dao.insertCharges(all, RECORDED_AT);
            dao.insertCharges(List.of(charge("elsewhere", "k0", "gpt-5", 1, T0)), RECORDED_AT);
            List<ChargeRecord> read = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                AuditDao.ChargePage page = dao.charges("paged", 3, cursor);
                read.addAll(page.charges());
                cursor = page.nextCursor();
                pages++;
            } while (cursor != null);
            assertThat(read).containsExactlyElementsOf(all);
            assertThat(pages).isEqualTo(3);
            assertThatThrownBy(() -> dao.charges("paged", 3, "not-a-cursor")).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void aSessionRowsModelsFollowItsChargesWhicheverArrivesFirst() {
            dao.insertCharges(List.of(charge("early", "a", "gpt-5", 1, T0), charge("early", "b", "gpt-realtime", 1, T0)),
                    RECORDED_AT);
            dao.insert(List.of(session("early", "gpt-realtime", 2, 2, T0 + DAY)), RECORDED_AT);
            assertThat(models("early")).isEqualTo("gpt-5,gpt-realtime");

            dao.insert(List.of(session("late", "gpt-realtime", 3, 2, T0 + DAY)), RECORDED_AT);
            assertThat(models("late")).as("no charge rows yet").isEmpty();
            dao.insertCharges(List.of(charge("late", "a", "gpt-5-mini", 1, T0)), RECORDED_AT);
            dao.insertCharges(List.of(charge("late", "b", "gpt-5-mini", 2, T0)), RECORDED_AT);
            assertThat(models("late")).isEqualTo("gpt-5-mini");

            AuditDao.Page page = dao.sessions(AuditQuery.all(), 10, null);
            assertThat(page.models("early")).containsExactly("gpt-5", "gpt-realtime");
            assertThat(page.models("late")).containsExactly("gpt-5-mini");
        }

        @Test
        void openRowsClosedAsLostGetTheirModelsToo() {
            dao.checkpoint(List.of(session("lost", "gpt-realtime", 1, 1, T0)), RECORDED_AT);
            dao.insertCharges(List.of(charge("lost", "a", "gpt-5", 1, T0)), RECORDED_AT);
            dao.closeOpen(List.of("lost"));
            assertThat(dao.sessions(AuditQuery.all(), 10, null).models("lost")).containsExactly("gpt-5");
        }

        @Test
        void theSummaryByModelSumsChargesByTheModelThatPricedThem() {
            // started on the default model, every report priced as gpt-5: nothing under gpt-realtime
            dao.insert(List.of(session("dflt", "gpt-realtime", 7_000_000_000L, 2, T0 + 10 * SECOND)), RECORDED_AT);
            dao.insertCharges(List.of(charge("dflt", "r1", "gpt-5", 3_000_000_000L, T0),
                    charge("dflt", "r2", "gpt-5", 4_000_000_000L, T0 + 1)), RECORDED_AT);
            // one session, two models: counted once under each, its money split as charged
            dao.insert(List.of(session("mixed", "gpt-5", 1_500_000_000L, 2, T0 + 70 * SECOND)), RECORDED_AT);
            dao.insertCharges(List.of(charge("mixed", "r1", "gpt-5", 1_000_000_000L, T0),
                    charge("mixed", "r2", "gpt-5-mini", 500_000_000L, T0 + 1)), RECORDED_AT);
            // recorded before charge rows were kept: under its own model, with its totals
            dao.insert(List.of(session("old", "gpt-realtime", 250_000_000L, 1, T0 + 130 * SECOND)), RECORDED_AT);
            // a live session's charges count once it has finished
            dao.checkpoint(List.of(session("live", "gpt-5", 9, 1, T0 + 10 * SECOND)), RECORDED_AT);
            dao.insertCharges(List.of(charge("live", "r1", "gpt-5", 9, T0)), RECORDED_AT);

            Map<String, AuditDao.SummaryRow> byModel = dao.summary(AuditQuery.all(), AuditDao.GroupBy.MODEL).stream()
                    .collect(Collectors.toMap(AuditDao.SummaryRow::key, Function.identity()));
            assertThat(byModel).containsOnlyKeys("gpt-5", "gpt-5-mini", "gpt-realtime");
            assertThat(byModel.get("gpt-5").costUsd()).isEqualByComparingTo("8.000000000");
            assertThat(byModel.get("gpt-5").sessions()).isEqualTo(2);
            assertThat(byModel.get("gpt-5").tokens().get(TokenKind.TEXT_OUTPUT)).isEqualTo(2 * 8_000_000_000L);
            assertThat(byModel.get("gpt-5").averageDurationSeconds()).isEqualByComparingTo("60.000");
            assertThat(byModel.get("gpt-5-mini").costUsd()).isEqualByComparingTo("0.5");
            assertThat(byModel.get("gpt-5-mini").sessions()).isEqualTo(1);
            assertThat(byModel.get("gpt-realtime").costUsd()).as("only the old row").isEqualByComparingTo("0.25");
            assertThat(byModel.get("gpt-realtime").sessions()).isEqualTo(1);
            assertThat(byModel.get("gpt-realtime").tokens().get(TokenKind.TEXT_INPUT)).isEqualTo(1);

            // the filters apply to the session
            List<AuditDao.SummaryRow> dflt = dao.summary(new AuditQuery(T0, T0 + 20 * SECOND, null, null, null, null),
                    AuditDao.GroupBy.MODEL);
            assertThat(dflt).extracting(AuditDao.SummaryRow::key).containsExactly("gpt-5");
            assertThat(dflt.get(0).costUsd()).isEqualByComparingTo("7");
            // every grouping adds up to the same money
            BigDecimal byClient = dao.summary(AuditQuery.all(), AuditDao.GroupBy.CLIENT).get(0).costUsd();
            BigDecimal total = byModel.values().stream().map(AuditDao.SummaryRow::costUsd).reduce(BigDecimal.ZERO, BigDecimal::add);
            assertThat(total).isEqualByComparingTo(byClient);
        }

        @Test
        void theStoreKnowsASessionByItsRowOrItsCharges() {
            assertThat(dao.knows("nobody")).isFalse();
            dao.insertCharges(List.of(charge("charged", "a", "gpt-5", 1, T0)), RECORDED_AT);
            dao.insert(List.of(session("ended", "gpt-5", 0, 0, T0)), RECORDED_AT);
            assertThat(dao.knows("charged")).isTrue();
            assertThat(dao.knows("ended")).isTrue();
            assertThat(dao.charges("ended", 10, null).charges()).isEmpty();
        }
    }
}
