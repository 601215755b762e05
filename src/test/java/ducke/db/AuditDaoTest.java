package ducke.db;

import ducke.config.AuditFactory;
import ducke.core.cost.EndReason;
import ducke.core.cost.ChargeRecord;
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
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The audit store contract, run unchanged against H2 (in memory) and the real PostgreSQL on this
 * machine, both migrated with the project's own {@code migrations/} folder through {@link Migrations}.
 */
class AuditDaoTest {

    /** Midnight UTC, so hour and day buckets are easy to reason about. */
    static final long T0 = Instant.parse("2025-03-10T00:00:00Z").toEpochMilli();
    static final long SECOND = 1_000L;
    static final long HOUR = 3_600_000L;
    static final long DAY = 86_400_000L;
    static final long RECORDED_AT = T0 + 10 * DAY;

    static final String PG_ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    static final String PG_USER = "postgres";

    @Nested
    @DisplayName("H2 in memory")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OnH2 extends Contract {
        @Override
        Db createDatabase() {
            String url = "jdbc:h2:mem:audit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
            return new Db(url, "sa", "", () -> {
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
        Db createDatabase() throws SQLException {
            String schema = "audit_test_" + UUID.randomUUID().toString().replace("-", "");
            try (Connection c = DriverManager.getConnection(PG_ADMIN_URL, PG_USER, ""); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            } catch (SQLException e) {
                fail("PostgreSQL is expected at " + PG_ADMIN_URL + " (user " + PG_USER + ", trust auth); start it with "
                        + "pg_ctlcluster --skip-systemctl-redirect <version> main start", e);
            }
            return new Db(PG_ADMIN_URL + "?currentSchema=" + schema, PG_USER, "", () -> {
                try (Connection c = DriverManager.getConnection(PG_ADMIN_URL, PG_USER, ""); Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            });
        }
    }

    /** A database made for one run of the suite, and how to get rid of it. */
    record Db(String url, String user, String password, Dropper drop) {
    }

    interface Dropper {
        void drop() throws SQLException;
    }

    abstract static class Contract {

        Db db;
        Jdbi jdbi;
        AuditDao dao;

        abstract Db createDatabase() throws SQLException;

        @BeforeAll
        void migrate() throws SQLException {
            db = createDatabase();
            AuditFactory factory = new AuditFactory();
            factory.setUrl(db.url());
            factory.setUser(db.user());
            factory.setPassword(db.password());
            factory.setMigrations(new File("migrations").getAbsolutePath());
            assertThat(Migrations.apply(factory)).as("migrations applied to a fresh database").isEqualTo(6);
            assertThat(Migrations.apply(factory)).as("migrations are applied once").isZero();
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
                h.execute("DELETE FROM audit_admin_actions");
                h.execute("DELETE FROM audit_breaker_changes");
                h.execute("DELETE FROM audit_charges");
                h.execute("DELETE FROM client_budgets");
            });
        }

        // ------------------------------------------------------------------ client budgets

        @Test
        void clientBudgetsAreRebuiltFromTheirOverridesTheMonthsChargesAndTheDaysSessions() {
            // T0 is a Monday, 10 March 2025 (UTC): the day and the month of T0 + 12 h
            ducke.core.cost.BudgetWindows w = ducke.core.cost.BudgetWindows.of(T0 + 12 * 3_600_000L, java.time.ZoneOffset.UTC);
            long lastMonth = w.monthStartMillis() - 1;
            long yesterday = w.dayStartMillis() - 1;
            long today = w.dayStartMillis() + 1_000;
            dao.insertCharges(List.of(
                    new ChargeRecord("s-1", "r-1", "user-1", "m", TokenCounts.ZERO, 1_000_000_000L, false, lastMonth, "v1"),
                    new ChargeRecord("s-1", "r-2", "user-1", "m", TokenCounts.ZERO, 250_000_000L, false, yesterday, "v1"),
                    new ChargeRecord("s-2", "r-3", "user-1", "m", TokenCounts.ZERO, 100_000_001L, true, today, "v1"),
                    new ChargeRecord("s-3", "r-4", "user-2", "m", TokenCounts.ZERO, 7L, false, today, "v1")), today);
            dao.insert(List.of(new SessionRecord("s-2", "user-1", "n", "m", today - 90_000, today, EndReason.API_ENDED,
                            TokenCounts.ZERO, 1, 100_000_001L, "v1"),
                    new SessionRecord("s-4", "user-1", "n", "m", today + 5_000, today + 65_000, EndReason.API_ENDED,
                            TokenCounts.ZERO, 0, 0, "v1"),
                    new SessionRecord("s-1", "user-1", "n", "m", yesterday - 60_000, yesterday, EndReason.API_ENDED,
                            TokenCounts.ZERO, 1, 0, "v1")), today);
            dao.saveBudgetOverride("user-3", new ducke.core.cost.BudgetOverride(500_000_000L, ducke.core.cost.BudgetLimits.NONE,
                    ducke.core.cost.BudgetOverride.INHERIT, today));
            dao.saveBudgetOverride("user-3", new ducke.core.cost.BudgetOverride(600_000_000L, ducke.core.cost.BudgetLimits.NONE,
                    ducke.core.cost.BudgetOverride.INHERIT, today + 1));

            java.util.Map<String, ducke.core.cost.ClientBudget> b = dao.budgetHistory(w);

            assertThat(b).containsOnlyKeys("user-1", "user-2", "user-3");
            assertThat(b.get("user-1").daySpendNanoUsd()).isEqualTo(100_000_001L);
            assertThat(b.get("user-1").monthSpendNanoUsd()).isEqualTo(350_000_001L);
            assertThat(b.get("user-1").dayUsedMillis()).as("the sessions that ended today: s-2 across midnight counts "
                    + "only its second after it, s-4 its minute").isEqualTo(1_000L + 60_000L);
            assertThat(b.get("user-1").override()).isNull();
            assertThat(b.get("user-2").daySpendNanoUsd()).isEqualTo(7L);
            assertThat(b.get("user-3").override()).as("the last one saved").isEqualTo(new ducke.core.cost.BudgetOverride(600_000_000L,
                    ducke.core.cost.BudgetLimits.NONE, ducke.core.cost.BudgetOverride.INHERIT, today + 1));
            assertThat(b.get("user-3").monthSpendNanoUsd()).isZero();
        }

        // ------------------------------------------------------------------ insert and read back

        @Test
        void insertsAndReadsBackEveryFieldExactly() {
            SessionRecord seven = new SessionRecord("sess-a", "client-1", "node-a", "gpt-realtime", T0 + 1_000, T0 + 61_500,
                    EndReason.BUDGET_EXCEEDED, TokenCounts.of(11, 22, 33, 44, 55), 7, 7_000_000_000L, "2025-01");
            SessionRecord oneNano = new SessionRecord("sess-b", "client-2", "node-b", "gpt-realtime-mini", T0 + 2_000,
                    T0 + 2_000, EndReason.CLIENT_CLOSED, TokenCounts.ZERO, 0, 1L, "v2");
            SessionRecord huge = new SessionRecord("sess-c", "client-3", "node-c", "m", T0, T0 + 3 * DAY,
                    EndReason.NODE_LOST, TokenCounts.of(1L << 40, (1L << 41) + 1, (1L << 42) + 2, (1L << 43) + 3, Long.MAX_VALUE),
                    Integer.MAX_VALUE, Long.MAX_VALUE, "2025-02-01+rev.7");

            assertThat(dao.insert(List.of(seven, oneNano, huge), RECORDED_AT)).isEqualTo(3);

            AuditDao.Page page = dao.sessions(AuditQuery.all(), 10, null);
            assertThat(page.records()).containsExactly(huge, seven, oneNano);
            assertThat(page.nextCursor()).isNull();

            // the stored columns, not just the mapping back: exact decimals, derived duration, label, time of recording
            assertThat(column("cost_usd", "sess-a", BigDecimal.class)).isEqualTo(new BigDecimal("7.000000000"));
            assertThat(column("cost_usd", "sess-b", BigDecimal.class)).isEqualTo(new BigDecimal("0.000000001"));
            assertThat(column("cost_usd", "sess-c", BigDecimal.class)).isEqualTo(new BigDecimal("9223372036.854775807"));
            assertThat(column("duration_ms", "sess-a", Long.class)).isEqualTo(60_500L);
            assertThat(column("duration_ms", "sess-b", Long.class)).isZero();
            assertThat(column("duration_ms", "sess-c", Long.class)).isEqualTo(3 * DAY);
            assertThat(column("end_reason", "sess-a", String.class)).isEqualTo("budget_exceeded");
            assertThat(column("recorded_at_ms", "sess-a", Long.class)).isEqualTo(RECORDED_AT);
            assertThat(column("audio_output_tokens", "sess-c", Long.class)).isEqualTo(Long.MAX_VALUE);
            assertThat(column("charged_responses", "sess-c", Integer.class)).isEqualTo(Integer.MAX_VALUE);
        }

        @Test
        void pausesWaitForTheirRowAndStayWhenARecordReplacesIt() {
            PauseRows.Note note = new PauseRows.Note("paused", 2, 61_500);
            assertThat(dao.writePauses(List.of(note))).as("no row yet: offered again").containsExactly(note);

            dao.checkpoint(List.of(checkpoint("paused", 1, 100, T0 + 5 * SECOND)), RECORDED_AT);
            assertThat(dao.writePauses(List.of(note))).isEmpty();
            assertThat(column("pauses", "paused", Integer.class)).isEqualTo(2);
            assertThat(column("paused_ms", "paused", Long.class)).isEqualTo(61_500L);

            // the final record replaces the open row; the session writers never touch the pause columns
            assertThat(dao.insert(List.of(versioned("paused", 3, 300, TokenCounts.of(1, 2, 3, 4, 5))), RECORDED_AT + 1)).isEqualTo(1);
            assertThat(column("pauses", "paused", Integer.class)).isEqualTo(2);
            AuditDao.Page page = dao.sessions(AuditQuery.all(), 10, null);
            assertThat(page.pauses("paused")).isEqualTo(new AuditDao.Pauses(2, 61_500));

            dao.insert(List.of(rec("never", "c", "m", T0, EndReason.CLIENT_CLOSED, 1)), RECORDED_AT);
            assertThat(column("pauses", "never", Integer.class)).as("a session that never paused").isZero();
            assertThat(dao.sessions(AuditQuery.all(), 10, null).pauses("never")).isEqualTo(AuditDao.Pauses.NONE);
        }

        @Test
        void everyTokenKindLandsInItsOwnColumn() {
            SessionRecord r = rec("tok", "c", "m", T0, EndReason.API_ENDED, 5, TokenCounts.of(1, 20, 300, 4_000, 50_000));
            dao.insert(List.of(r), RECORDED_AT);
            assertThat(column("text_input_tokens", "tok", Long.class)).isEqualTo(1L);
            assertThat(column("audio_input_tokens", "tok", Long.class)).isEqualTo(20L);
            assertThat(column("cached_input_tokens", "tok", Long.class)).isEqualTo(300L);
            assertThat(column("text_output_tokens", "tok", Long.class)).isEqualTo(4_000L);
            assertThat(column("audio_output_tokens", "tok", Long.class)).isEqualTo(50_000L);
            SessionRecord back = only(dao.sessions(AuditQuery.all(), 5, null).records());
            for (TokenKind k : TokenKind.values()) {
                assertThat(back.tokens().get(k)).as(k.name()).isEqualTo(r.tokens().get(k));
            }
        }

        @Test
        void everyEndReasonRoundTripsAsItsLabel() {
            List<SessionRecord> all = new ArrayList<>();
            EndReason[] reasons = EndReason.values();
            for (int i = 0; i < reasons.length; i++) {
                all.add(rec("r" + i, "c", "m", T0 + i * SECOND, reasons[i], i));
            }
            assertThat(dao.insert(all, RECORDED_AT)).isEqualTo(reasons.length);
            for (int i = 0; i < reasons.length; i++) {
                assertThat(column("end_reason", "r" + i, String.class)).isEqualTo(reasons[i].label());
                List<SessionRecord> found = dao.sessions(new AuditQuery(null, null, null, null, reasons[i].label(), null), 10, null)
                        .records();
                assertThat(found).containsExactly(all.get(i));
            }
        }

        @Test
        void unicodeAndQuotesInTextColumnsRoundTrip() {
            SessionRecord r = new SessionRecord("id-ü-'\"-\\", "clïent 客户 'o''brien' \"q\" 😀", "nøde;--", "mödel/%_",
                    T0, T0 + 1, EndReason.CLIENT_CLOSED, TokenCounts.ZERO, 1, 123_456_789L, "v'1");
            dao.insert(List.of(r), RECORDED_AT);
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(r);
            assertThat(ids(new AuditQuery(null, null, r.clientId(), r.model(), null, null))).containsExactly(r.sessionId());
            // LIKE wildcards are not wildcards in an equality filter
            assertThat(ids(new AuditQuery(null, null, null, "m%", null, null))).isEmpty();
        }

        @Test
        void insertingNothingWritesNothing() {
            assertThat(dao.insert(List.of(), RECORDED_AT)).isZero();
            assertThat(countAll()).isZero();
        }

        // ------------------------------------------------------------------ idempotence

        @Test
        void theSameSessionTwiceInOneBatchIsStoredOnce() {
            SessionRecord a = rec("dup", "c1", "m1", T0, EndReason.CLIENT_CLOSED, 1_000);
            SessionRecord other = rec("other", "c1", "m1", T0 + 1, EndReason.CLIENT_CLOSED, 2_000);
            assertThat(dao.insert(List.of(a, other, a), RECORDED_AT)).isEqualTo(2);
            assertThat(countOf("dup")).isEqualTo(1);
            assertThat(countAll()).isEqualTo(2);
        }

        /**
         * Fails on H2 2.4.240: inside one transaction H2 re-executes the prepared INSERT ... WHERE NOT
         * EXISTS with an unchanged id and answers the NOT EXISTS from its cached result, so the second
         * copy hits the primary key (23505) and the whole batch is rolled back. PostgreSQL passes.
         */
        @Test
        void theSameSessionTwiceInARowInOneBatchIsStoredOnce() {
            SessionRecord a = rec("dup", "c1", "m1", T0, EndReason.CLIENT_CLOSED, 1_000);
            SessionRecord other = rec("other", "c1", "m1", T0 + 1, EndReason.CLIENT_CLOSED, 2_000);
            assertThat(dao.insert(List.of(other, a, a), RECORDED_AT)).isEqualTo(2);
            assertThat(countOf("dup")).isEqualTo(1);
            assertThat(countAll()).isEqualTo(2);
        }

        /** Fails on H2 for the same reason as {@link #theSameSessionTwiceInARowInOneBatchIsStoredOnce}. */
        @Test
        void aConflictingCopyInTheSameBatchDoesNotReplaceTheFirst() {
            SessionRecord first = rec("dup", "c1", "m1", T0, EndReason.CLIENT_CLOSED, 1_000);
            SessionRecord second = rec("dup", "c2", "m2", T0 + 5, EndReason.NODE_LOST, 9_999);
            assertThat(dao.insert(List.of(first, second), RECORDED_AT)).isEqualTo(1);
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(first);
        }

        /** Usage charged after the end: the reaper hands over the record again, with more charges. */
        @Test
        void aLaterVersionOfARecordReplacesTheStoredOneOnce() {
            SessionRecord atEnd = versioned("late", 2, 5_000_000_000L, TokenCounts.of(100, 0, 0, 200, 0));
            SessionRecord charged = versioned("late", 3, 5_200_000_000L, TokenCounts.of(150, 0, 0, 260, 0));
            assertThat(dao.insert(List.of(atEnd), RECORDED_AT)).isEqualTo(1);
            assertThat(dao.insert(List.of(charged), RECORDED_AT + 1)).isEqualTo(1);
            assertThat(dao.insert(List.of(charged), RECORDED_AT + 2)).as("the same version again").isZero();
            assertThat(countOf("late")).isEqualTo(1);
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(charged);
        }

        @Test
        void anEarlierVersionNeverReplacesALaterOne() {
            SessionRecord v2 = versioned("order", 2, 1_000, TokenCounts.of(1, 0, 0, 1, 0));
            SessionRecord v4 = versioned("order", 4, 3_000, TokenCounts.of(3, 0, 0, 3, 0));
            assertThat(dao.insert(List.of(v4), RECORDED_AT)).isEqualTo(1);
            assertThat(dao.insert(List.of(v2), RECORDED_AT + 1)).isZero();
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(v4);
        }

        @Test
        void theLatestVersionInOneBatchWinsWhateverItsPlace() {
            SessionRecord v1 = versioned("batch", 1, 1_000, TokenCounts.of(1, 0, 0, 1, 0));
            SessionRecord v3 = versioned("batch", 3, 3_000, TokenCounts.of(3, 0, 0, 3, 0));
            SessionRecord v2 = versioned("batch", 2, 2_000, TokenCounts.of(2, 0, 0, 2, 0));
            assertThat(dao.insert(List.of(v1, v3, v2), RECORDED_AT)).isEqualTo(1);
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(v3);
            SessionRecord other = rec("other", "c1", "m1", T0 + 1, EndReason.CLIENT_CLOSED, 2);
            SessionRecord v5 = versioned("batch", 5, 5_000, TokenCounts.of(5, 0, 0, 5, 0));
            assertThat(dao.insert(List.of(v3, other, v5), RECORDED_AT + 1)).as("one insert, one replacement").isEqualTo(2);
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(v5, other);
        }

        @Test
        void theSameSessionInTwoBatchesIsStoredOnceAndTheSecondInsertCountsNothing() {
            SessionRecord a = rec("a", "c1", "m1", T0, EndReason.CLIENT_CLOSED, 1);
            SessionRecord b = rec("b", "c1", "m1", T0 + 1, EndReason.CLIENT_CLOSED, 2);
            SessionRecord c = rec("c", "c1", "m1", T0 + 2, EndReason.CLIENT_CLOSED, 3);
            assertThat(dao.insert(List.of(a, b), RECORDED_AT)).isEqualTo(2);
            assertThat(dao.insert(List.of(a, b), RECORDED_AT + 1)).isZero();
            assertThat(dao.insert(List.of(a), RECORDED_AT + 2)).isZero();
            assertThat(dao.insert(List.of(b, c), RECORDED_AT + 3)).isEqualTo(1);
            assertThat(countOf("a")).isEqualTo(1);
            assertThat(countOf("b")).isEqualTo(1);
            assertThat(countOf("c")).isEqualTo(1);
            assertThat(countAll()).isEqualTo(3);
            assertThat(column("recorded_at_ms", "a", Long.class)).as("the first write stays").isEqualTo(RECORDED_AT);
            assertThat(column("recorded_at_ms", "c", Long.class)).isEqualTo(RECORDED_AT + 3);
        }

        // ------------------------------------------------------------------ open rows (checkpoints of live sessions)

        SessionRecord checkpoint(String id, int responses, long costNano, long atMillis) {
            return new SessionRecord(id, "c1", "node-1", "m1", T0, atMillis, EndReason.NODE_LOST,
                    TokenCounts.of(responses, 0, 0, responses, 0), responses, costNano, "v1");
        }

        SessionRecord finished(String id, int responses, long costNano) {
            return new SessionRecord(id, "c1", "node-1", "m1", T0, T0 + 60 * SECOND, EndReason.API_ENDED,
                    TokenCounts.of(responses, 0, 0, responses, 0), responses, costNano, "v1");
        }

        @Test
        void aCheckpointIsAnOpenRowThatQueriesDoNotCount() {
            assertThat(dao.checkpoint(List.of(checkpoint("live", 1, 100, T0 + 5 * SECOND)), RECORDED_AT)).isEqualTo(1);
            assertThat(column("is_open", "live", Boolean.class)).isTrue();
            assertThat(dao.openSessions(10)).containsExactly("live");
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).isEmpty();
            assertThat(dao.summary(AuditQuery.all(), AuditDao.GroupBy.MODEL)).isEmpty();
        }

        @Test
        void aLaterCheckpointReplacesTheOpenRowAndAnOlderOneDoesNot() {
            dao.checkpoint(List.of(checkpoint("live", 1, 100, T0 + 5 * SECOND)), RECORDED_AT);
            assertThat(dao.checkpoint(List.of(checkpoint("live", 3, 300, T0 + 10 * SECOND)), RECORDED_AT + 1)).isEqualTo(1);
            assertThat(dao.checkpoint(List.of(checkpoint("live", 2, 200, T0 + 15 * SECOND)), RECORDED_AT + 2)).isZero();
            assertThat(column("cost_usd", "live", BigDecimal.class)).isEqualTo(new BigDecimal("0.000000300"));
            assertThat(column("charged_responses", "live", Integer.class)).isEqualTo(3);
            assertThat(column("ended_at_ms", "live", Long.class)).isEqualTo(T0 + 10 * SECOND);
            assertThat(countAll()).isEqualTo(1);
        }

        @Test
        void theFinalRecordReplacesTheOpenRowExactlyOnce() {
            dao.checkpoint(List.of(checkpoint("s", 2, 200, T0 + 5 * SECOND)), RECORDED_AT);
            SessionRecord last = finished("s", 4, 400);
            assertThat(dao.insert(List.of(last), RECORDED_AT + 1)).isEqualTo(1);
            assertThat(dao.insert(List.of(last), RECORDED_AT + 2)).isZero();
            assertThat(dao.checkpoint(List.of(checkpoint("s", 5, 500, T0 + 90 * SECOND)), RECORDED_AT + 3))
                    .as("a checkpoint never replaces a final record").isZero();
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(last);
            assertThat(column("is_open", "s", Boolean.class)).isFalse();
            assertThat(column("recorded_at_ms", "s", Long.class)).isEqualTo(RECORDED_AT + 1);
            assertThat(dao.openSessions(10)).isEmpty();
            assertThat(countAll()).isEqualTo(1);
        }

        @Test
        void aFinalRecordWithMoreChargesCorrectsAnEarlierOneAndNeverTheReverse() {
            dao.insert(List.of(finished("s", 2, 200)), RECORDED_AT);
            assertThat(dao.insert(List.of(finished("s", 3, 350)), RECORDED_AT + 1)).isEqualTo(1);
            assertThat(dao.insert(List.of(finished("s", 2, 200)), RECORDED_AT + 2)).isZero();
            assertThat(dao.sessions(AuditQuery.all(), 10, null).records()).containsExactly(finished("s", 3, 350));
        }

        @Test
        void closingOpenRowsKeepsTheirLastCheckpointAsNodeLost() {
            SessionRecord lost = checkpoint("lost", 2, 250, T0 + 5 * SECOND);
            dao.checkpoint(List.of(lost, checkpoint("live", 1, 100, T0 + 5 * SECOND)), RECORDED_AT);
            dao.insert(List.of(finished("done", 1, 1)), RECORDED_AT);
            assertThat(dao.closeOpen(List.of("lost", "done", "unknown"))).isEqualTo(1);
            assertThat(dao.closeOpen(List.of("lost"))).isZero();
            assertThat(dao.sessions(new AuditQuery(null, null, null, null, "node_lost", null), 10, null).records())
                    .containsExactly(lost);
            assertThat(dao.openSessions(10)).containsExactly("live");
            assertThat(dao.closeOpen(List.of())).isZero();
        }

        // ------------------------------------------------------------------ filters

        /** f1..f6, see the table in each filter test. */
        List<SessionRecord> filterFixture() {
            List<SessionRecord> rows = List.of(
                    rec("f1", "c1", "m-large", T0, EndReason.CLIENT_CLOSED, 1L),
                    rec("f2", "c1", "m-mini", T0 + HOUR - 1, EndReason.BUDGET_EXCEEDED, 2L),
                    rec("f3", "c2", "m-large", T0 + HOUR, EndReason.SESSION_TIMEOUT, 500_000_000L),
                    rec("f4", "c2", "m-mini", T0 + 2 * HOUR, EndReason.CLIENT_CLOSED, 7_000_000_000L),
                    rec("f5", "c3", "m-large", T0 + 2 * HOUR + 1, EndReason.ADMIN_ENDED, 7_000_000_001L),
                    rec("f6", "c1", "m-large", T0 + 3 * HOUR, EndReason.CLIENT_CLOSED, 0L));
            assertThat(dao.insert(rows, RECORDED_AT)).isEqualTo(rows.size());
            return rows;
        }

        @Test
        void noFilterReturnsEverythingNewestFirst() {
            filterFixture();
            assertThat(ids(AuditQuery.all())).containsExactly("f6", "f5", "f4", "f3", "f2", "f1");
        }

        @Test
        void fromIsInclusiveOnTheEndTime() {
            filterFixture();
            assertThat(ids(q().from(T0 + HOUR).build())).containsExactly("f6", "f5", "f4", "f3");
            assertThat(ids(q().from(T0 + HOUR + 1).build())).containsExactly("f6", "f5", "f4");
            assertThat(ids(q().from(T0).build())).hasSize(6);
            assertThat(ids(q().from(T0 + 3 * HOUR + 1).build())).isEmpty();
        }

        @Test
        void toIsExclusiveOnTheEndTime() {
            filterFixture();
            assertThat(ids(q().to(T0 + HOUR).build())).containsExactly("f2", "f1");
            assertThat(ids(q().to(T0 + HOUR + 1).build())).containsExactly("f3", "f2", "f1");
            assertThat(ids(q().to(T0).build())).isEmpty();
        }

        @Test
        void fromAndToTogetherMakeAHalfOpenWindow() {
            filterFixture();
            assertThat(ids(q().from(T0 + HOUR).to(T0 + 2 * HOUR + 1).build())).containsExactly("f4", "f3");
            assertThat(ids(q().from(T0 + HOUR).to(T0 + HOUR).build())).as("empty window").isEmpty();
            assertThat(ids(q().from(T0 + HOUR).to(T0 + HOUR - 10).build())).as("inverted window").isEmpty();
        }

        @Test
        void clientFilter() {
            filterFixture();
            assertThat(ids(q().client("c1").build())).containsExactly("f6", "f2", "f1");
            assertThat(ids(q().client("c3").build())).containsExactly("f5");
            assertThat(ids(q().client("C1").build())).as("exact match").isEmpty();
            assertThat(ids(q().client("c").build())).isEmpty();
        }

        @Test
        void modelFilter() {
            filterFixture();
            assertThat(ids(q().model("m-mini").build())).containsExactly("f4", "f2");
            assertThat(ids(q().model("m-large").build())).containsExactly("f6", "f5", "f3", "f1");
            assertThat(ids(q().model("m-").build())).isEmpty();
        }

        @Test
        void endReasonFilter() {
            filterFixture();
            assertThat(ids(q().reason("client_closed").build())).containsExactly("f6", "f4", "f1");
            assertThat(ids(q().reason("admin_ended").build())).containsExactly("f5");
            assertThat(ids(q().reason("node_lost").build())).isEmpty();
        }

        @Test
        void minCostIsInclusiveToTheNanoDollar() {
            filterFixture();
            assertThat(ids(q().minCost("0").build())).hasSize(6);
            assertThat(ids(q().minCost("0.000000001").build())).containsExactly("f5", "f4", "f3", "f2", "f1");
            assertThat(ids(q().minCost("0.000000002").build())).containsExactly("f5", "f4", "f3", "f2");
            assertThat(ids(q().minCost("0.5").build())).containsExactly("f5", "f4", "f3");
            assertThat(ids(q().minCost("7").build())).containsExactly("f5", "f4");
            assertThat(ids(q().minCost("7.000000000").build())).containsExactly("f5", "f4");
            assertThat(ids(q().minCost("7.000000001").build())).containsExactly("f5");
            assertThat(ids(q().minCost("7.0000000011").build())).isEmpty();
            assertThat(ids(q().minCost("1000").build())).isEmpty();
        }

        @Test
        void filtersCombineWithAnd() {
            filterFixture();
            assertThat(ids(q().client("c1").model("m-large").build())).containsExactly("f6", "f1");
            assertThat(ids(q().client("c1").model("m-large").reason("client_closed").build())).containsExactly("f6", "f1");
            assertThat(ids(q().client("c1").model("m-large").reason("client_closed").from(T0 + 1).build()))
                    .containsExactly("f6");
            assertThat(ids(q().client("c1").minCost("0.000000001").build())).containsExactly("f2", "f1");
            assertThat(ids(q().from(T0 + HOUR).to(T0 + 3 * HOUR).model("m-large").build())).containsExactly("f5", "f3");
            assertThat(ids(q().from(T0).to(T0 + 3 * HOUR).client("c2").model("m-mini").reason("client_closed")
                    .minCost("7").build())).containsExactly("f4");
            assertThat(ids(q().client("c3").model("m-mini").build())).isEmpty();
            assertThat(ids(q().client("c2").reason("client_closed").minCost("7.000000001").build())).isEmpty();
        }

        // ------------------------------------------------------------------ pagination

        @Test
        void pagesReturnEveryRowOnceNewestFirstIncludingTiesOnTheEndTime() {
            List<SessionRecord> rows = new ArrayList<>();
            for (int i = 0; i < 23; i++) {
                // groups of three share an end time, so the id breaks ties across page boundaries
                rows.add(rec(String.format("p%02d", i), "c" + (i % 2), "m", T0 + (i / 3) * SECOND, EndReason.CLIENT_CLOSED, i));
            }
            dao.insert(rows, RECORDED_AT);
            List<SessionRecord> expected = sortedNewestFirst(rows);

            for (int limit : new int[]{1, 4, 22, 23, 100}) {
                List<AuditDao.Page> pages = allPages(AuditQuery.all(), limit);
                assertThat(pages).as("pages of %d", limit).hasSize(Math.max(1, (23 + limit - 1) / limit));
                for (int p = 0; p < pages.size(); p++) {
                    boolean last = p == pages.size() - 1;
                    assertThat(pages.get(p).records()).as("page %d of %d", p, limit)
                            .hasSize(Math.min(limit, 23 - p * limit));
                    assertThat(pages.get(p).nextCursor()).as("cursor of page %d of %d", p, limit)
                            .matches(c -> (c == null) == last);
                }
                assertThat(flatten(pages)).as("limit %d", limit).containsExactlyElementsOf(expected);
            }
        }

        @Test
        void anExactMultipleOfThePageSizeEndsWithoutAnEmptyPage() {
            List<SessionRecord> rows = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                rows.add(rec(String.format("q%02d", i), "c", "m", T0 + i * SECOND, EndReason.CLIENT_CLOSED, i));
            }
            dao.insert(rows, RECORDED_AT);
            List<AuditDao.Page> pages = allPages(AuditQuery.all(), 5);
            assertThat(pages).hasSize(4);
            assertThat(pages.get(3).nextCursor()).isNull();
            assertThat(flatten(pages)).containsExactlyElementsOf(sortedNewestFirst(rows));
        }

        @Test
        void pagesOfAFilteredQueryCarryTheFilter() {
            List<SessionRecord> rows = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                rows.add(rec(String.format("k%02d", i), i % 3 == 0 ? "wanted" : "other", "m", T0 + (i / 2) * SECOND,
                        EndReason.CLIENT_CLOSED, i));
            }
            dao.insert(rows, RECORDED_AT);
            AuditQuery wanted = q().client("wanted").from(T0 + SECOND).build();
            List<SessionRecord> expected = sortedNewestFirst(rows.stream()
                    .filter(r -> r.clientId().equals("wanted") && r.endedAtMillis() >= T0 + SECOND).toList());
            assertThat(expected).hasSize(9);
            assertThat(flatten(allPages(wanted, 2))).containsExactlyElementsOf(expected);
        }

        @Test
        void pagesStayCorrectWhileRowsAreInsertedBetweenFetches() {
            List<SessionRecord> original = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                original.add(rec(String.format("p%02d", i), "c", "m", T0 + i * SECOND, EndReason.CLIENT_CLOSED, i));
            }
            dao.insert(original, RECORDED_AT);

            AuditDao.Page first = dao.sessions(AuditQuery.all(), 5, null);
            assertThat(idsOf(first.records())).containsExactly("p19", "p18", "p17", "p16", "p15");
            List<SessionRecord> seen = new ArrayList<>(first.records());

            // after the first page: newer rows, a row tied with the cursor on either side of its id, older rows
            SessionRecord newer = rec("new-newer", "c", "m", T0 + 100 * SECOND, EndReason.CLIENT_CLOSED, 1);
            SessionRecord tieBefore = rec("p15z", "c", "m", T0 + 15 * SECOND, EndReason.CLIENT_CLOSED, 1);
            SessionRecord tieAfter = rec("p14z", "c", "m", T0 + 15 * SECOND, EndReason.CLIENT_CLOSED, 1);
            SessionRecord between = rec("p02b", "c", "m", T0 + 2 * SECOND + 500, EndReason.CLIENT_CLOSED, 1);
            SessionRecord oldest = rec("a-oldest", "c", "m", T0 - 60 * SECOND, EndReason.CLIENT_CLOSED, 1);
            assertThat(dao.insert(List.of(newer, tieBefore, tieAfter, between, oldest), RECORDED_AT)).isEqualTo(5);

            List<SessionRecord> laterInserts = new ArrayList<>();
            String cursor = first.nextCursor();
            int round = 0;
            while (cursor != null) {
                AuditDao.Page page = dao.sessions(AuditQuery.all(), 5, cursor);
                seen.addAll(page.records());
                cursor = page.nextCursor();
                // keep inserting between fetches: one newer than everything, one older than everything so far
                SessionRecord newest = rec("newest-" + round, "c", "m", T0 + (200 + round) * SECOND, EndReason.CLIENT_CLOSED, 1);
                SessionRecord older = rec("older-" + round, "c", "m", T0 - (100 + round) * SECOND, EndReason.CLIENT_CLOSED, 1);
                dao.insert(List.of(newest, older), RECORDED_AT);
                laterInserts.add(older);
                round++;
                assertThat(round).as("pagination ends").isLessThan(50);
            }

            assertThat(new HashSet<>(idsOf(seen))).as("no duplicates").hasSize(seen.size());
            assertThat(idsOf(seen)).doesNotContain("new-newer", "p15z").noneMatch(id -> id.startsWith("newest-"));
            List<SessionRecord> expected = new ArrayList<>(original);
            expected.addAll(List.of(tieAfter, between, oldest));
            // every "older" row inserted before the last fetch is older than its cursor, so it must show up
            expected.addAll(laterInserts.subList(0, laterInserts.size() - 1));
            assertThat(seen).containsExactlyElementsOf(sortedNewestFirst(expected));
        }

        @Test
        void aCursorIsOpaqueButStable() {
            for (int i = 0; i < 6; i++) {
                dao.insert(List.of(rec("s" + i, "c", "m", T0 + i, EndReason.CLIENT_CLOSED, 1)), RECORDED_AT);
            }
            AuditDao.Page first = dao.sessions(AuditQuery.all(), 2, null);
            assertThat(first.nextCursor()).matches("[A-Za-z0-9_-]+");
            AuditDao.Page again = dao.sessions(AuditQuery.all(), 2, first.nextCursor());
            AuditDao.Page andAgain = dao.sessions(AuditQuery.all(), 2, first.nextCursor());
            assertThat(again).isEqualTo(andAgain);
            assertThat(idsOf(again.records())).containsExactly("s3", "s2");
        }

        @Test
        void anInvalidCursorIsRefused() {
            dao.insert(List.of(rec("s1", "c", "m", T0, EndReason.CLIENT_CLOSED, 1)), RECORDED_AT);
            List<String> bad = List.of(
                    "!!!not base64!!!",
                    "",
                    "abc+/def==",
                    b64("no colon here"),
                    b64(":s1"),
                    b64("123:"),
                    b64("abc:s1"),
                    b64("12.5:s1"),
                    b64("99999999999999999999999:s1"),
                    b64("1:" + "x".repeat(65)));
            for (String cursor : bad) {
                assertThatThrownBy(() -> dao.sessions(AuditQuery.all(), 10, cursor)).as("cursor '%s'", cursor)
                        .isInstanceOf(IllegalArgumentException.class);
            }
            // and a well-formed cursor made by hand still works (they are only opaque, not signed)
            assertThat(dao.sessions(AuditQuery.all(), 10, b64((T0 + 1) + ":zzz")).records()).hasSize(1);
        }

        // ------------------------------------------------------------------ summaries

        List<SessionRecord> summaryFixture() {
            List<SessionRecord> rows = List.of(
                    full("s1", "c1", "m-a", T0 + 10 * HOUR + 15 * 60_000, 1_000, EndReason.CLIENT_CLOSED,
                            TokenCounts.of(1, 2, 3, 4, 5), 1L),
                    full("s2", "c2", "m-a", T0 + 11 * HOUR - 1, 2_000, EndReason.BUDGET_EXCEEDED,
                            TokenCounts.of(10, 20, 30, 40, 50), 7_000_000_000L),
                    full("s3", "c1", "m-b", T0 + 11 * HOUR, 2_001, EndReason.CLIENT_CLOSED,
                            TokenCounts.of(100, 200, 300, 400, 500), 333_333_333L),
                    full("s4", "c3", "m-b", T0 + DAY, 59_999, EndReason.NODE_LOST,
                            TokenCounts.of(1_000, 2_000, 3_000, 4_000, 5_000), 1_500_000_000L),
                    full("s5", "c1", "m-a", T0 + 2 * DAY - 1, 1, EndReason.CLIENT_CLOSED,
                            TokenCounts.of(3_000_000_000L, 0, 0, 0, 4_000_000_000L), 123_456_789_123_456_789L),
                    full("s6", "c2", "m-c", T0 + 2 * DAY, 0, EndReason.API_ENDED, TokenCounts.ZERO, 0L));
            assertThat(dao.insert(rows, RECORDED_AT)).isEqualTo(rows.size());
            return rows;
        }

        @Test
        void summaryByHour() {
            List<SessionRecord> rows = summaryFixture();
            List<AuditDao.SummaryRow> got = dao.summary(AuditQuery.all(), AuditDao.GroupBy.HOUR);
            assertThat(got).containsExactlyElementsOf(expectedSummary(rows, AuditDao.GroupBy.HOUR));
            assertThat(got).extracting(AuditDao.SummaryRow::key).containsExactly(
                    Long.toString(T0 + 10 * HOUR), Long.toString(T0 + 11 * HOUR), Long.toString(T0 + DAY),
                    Long.toString(T0 + DAY + 23 * HOUR), Long.toString(T0 + 2 * DAY));
            AuditDao.SummaryRow ten = got.get(0);
            assertThat(ten.sessions()).isEqualTo(2);
            assertThat(ten.costUsd()).isEqualTo(new BigDecimal("7.000000001"));
            assertThat(ten.tokens()).isEqualTo(TokenCounts.of(11, 22, 33, 44, 55));
            assertThat(ten.durationMillisSum()).isEqualTo(3_000);
            assertThat(ten.averageDurationSeconds()).isEqualTo(new BigDecimal("1.500"));
        }

        @Test
        void summaryByDay() {
            List<SessionRecord> rows = summaryFixture();
            List<AuditDao.SummaryRow> got = dao.summary(AuditQuery.all(), AuditDao.GroupBy.DAY);
            assertThat(got).containsExactlyElementsOf(expectedSummary(rows, AuditDao.GroupBy.DAY));
            assertThat(got).extracting(AuditDao.SummaryRow::key)
                    .containsExactly(Long.toString(T0), Long.toString(T0 + DAY), Long.toString(T0 + 2 * DAY));
            assertThat(got.get(0).costUsd()).isEqualTo(new BigDecimal("7.333333334"));
            assertThat(got.get(0).durationMillisSum()).isEqualTo(5_001);
            assertThat(got.get(0).averageDurationSeconds()).isEqualTo(new BigDecimal("1.667"));
            assertThat(got.get(1).costUsd()).isEqualTo(new BigDecimal("123456790.623456789"));
            assertThat(got.get(1).averageDurationSeconds()).isEqualTo(new BigDecimal("30.000"));
            assertThat(got.get(2).costUsd()).isEqualTo(new BigDecimal("0E-9"));
            assertThat(got.get(2).averageDurationSeconds()).isEqualTo(new BigDecimal("0.000"));
        }

        @Test
        void summaryByModel() {
            List<SessionRecord> rows = summaryFixture();
            List<AuditDao.SummaryRow> got = dao.summary(AuditQuery.all(), AuditDao.GroupBy.MODEL);
            assertThat(got).containsExactlyElementsOf(expectedSummary(rows, AuditDao.GroupBy.MODEL));
            assertThat(got).extracting(AuditDao.SummaryRow::key).containsExactly("m-a", "m-b", "m-c");
            AuditDao.SummaryRow a = got.get(0);
            assertThat(a.sessions()).isEqualTo(3);
            assertThat(a.costUsd()).isEqualTo(new BigDecimal("123456796.123456790"));
            assertThat(a.tokens()).isEqualTo(TokenCounts.of(3_000_000_011L, 22, 33, 44, 4_000_000_055L));
            assertThat(a.durationMillisSum()).isEqualTo(3_001);
            assertThat(a.averageDurationSeconds()).isEqualTo(new BigDecimal("1.000"));
        }

        @Test
        void summaryByClient() {
            List<SessionRecord> rows = summaryFixture();
            List<AuditDao.SummaryRow> got = dao.summary(AuditQuery.all(), AuditDao.GroupBy.CLIENT);
            assertThat(got).containsExactlyElementsOf(expectedSummary(rows, AuditDao.GroupBy.CLIENT));
            assertThat(got).extracting(AuditDao.SummaryRow::key).containsExactly("c1", "c2", "c3");
            assertThat(got.get(0).costUsd()).isEqualTo(new BigDecimal("123456789.456790123"));
            assertThat(got.get(0).durationMillisSum()).isEqualTo(3_002);
            assertThat(got.get(0).averageDurationSeconds()).isEqualTo(new BigDecimal("1.001"));
        }

        @Test
        void summaryByEndReason() {
            List<SessionRecord> rows = summaryFixture();
            List<AuditDao.SummaryRow> got = dao.summary(AuditQuery.all(), AuditDao.GroupBy.END_REASON);
            assertThat(got).containsExactlyElementsOf(expectedSummary(rows, AuditDao.GroupBy.END_REASON));
            assertThat(got).extracting(AuditDao.SummaryRow::key)
                    .containsExactly("api_ended", "budget_exceeded", "client_closed", "node_lost");
            assertThat(got.get(2).sessions()).isEqualTo(3);
            assertThat(got.get(2).costUsd()).isEqualTo(new BigDecimal("123456789.456790123"));
        }

        @Test
        void summaryHonoursFiltersAndManyTinyAmountsSumExactly() {
            List<SessionRecord> rows = new ArrayList<>(summaryFixture());
            List<SessionRecord> tiny = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                // 0.1 USD a thousand times: exactly 100, where doubles would drift
                tiny.add(full(String.format("t%04d", i), "tiny", "m-t", T0 + 3 * DAY + i, 7, EndReason.CLIENT_CLOSED,
                        TokenCounts.of(1, 1, 1, 1, 1), 100_000_000L));
            }
            dao.insert(tiny, RECORDED_AT);
            rows.addAll(tiny);

            List<AuditDao.SummaryRow> tinyOnly = dao.summary(q().client("tiny").build(), AuditDao.GroupBy.MODEL);
            assertThat(tinyOnly).containsExactly(new AuditDao.SummaryRow("m-t", 1_000, new BigDecimal("100.000000000"),
                    TokenCounts.of(1_000, 1_000, 1_000, 1_000, 1_000), 7_000));
            assertThat(tinyOnly.get(0).averageDurationSeconds()).isEqualTo(new BigDecimal("0.007"));

            AuditQuery window = q().from(T0 + DAY).to(T0 + 3 * DAY).minCost("0").build();
            assertThat(dao.summary(window, AuditDao.GroupBy.CLIENT)).containsExactlyElementsOf(expectedSummary(
                    rows.stream().filter(r -> r.endedAtMillis() >= T0 + DAY && r.endedAtMillis() < T0 + 3 * DAY).toList(),
                    AuditDao.GroupBy.CLIENT));
            assertThat(dao.summary(q().client("c1").reason("client_closed").minCost("0.000000002").build(),
                    AuditDao.GroupBy.MODEL)).containsExactly(
                    new AuditDao.SummaryRow("m-a", 1, new BigDecimal("123456789.123456789"),
                            TokenCounts.of(3_000_000_000L, 0, 0, 0, 4_000_000_000L), 1),
                    new AuditDao.SummaryRow("m-b", 1, new BigDecimal("0.333333333"), TokenCounts.of(100, 200, 300, 400, 500),
                            2_001));
            assertThat(dao.summary(q().client("nobody").build(), AuditDao.GroupBy.DAY)).isEmpty();
        }

        @Test
        void summaryOfAnEmptyStoreIsEmpty() {
            for (AuditDao.GroupBy g : AuditDao.GroupBy.values()) {
                assertThat(dao.summary(AuditQuery.all(), g)).as(g.name()).isEmpty();
            }
        }

        // ------------------------------------------------------------------ admin actions and breaker changes

        @Test
        void adminActionsAreStoredAndReadBackNewestFirst() {
            dao.adminAction("reset-circuit-breaker", "", "node-a", T0, "ok");
            dao.adminAction("end-session", "id=abc", "node-b", T0 + 1, "ended on node-c");
            dao.adminAction("reset-rate-limits", null, "node-a", T0 + 2, null);

            List<Map<String, Object>> all = dao.adminActions(10);
            assertThat(all).hasSize(3);
            assertThat(normalise(all.get(0))).isEqualTo(Map.of("task", "reset-rate-limits", "parameters", "", "node", "node-a",
                    "at_ms", T0 + 2, "result", ""));
            assertThat(normalise(all.get(1))).isEqualTo(Map.of("task", "end-session", "parameters", "id=abc", "node", "node-b",
                    "at_ms", T0 + 1, "result", "ended on node-c"));
            assertThat(normalise(all.get(2))).isEqualTo(Map.of("task", "reset-circuit-breaker", "parameters", "",
                    "node", "node-a", "at_ms", T0, "result", "ok"));
            assertThat(normalise(only(dao.adminActions(1))).get("task")).isEqualTo("reset-rate-limits");
        }

        @Test
        void longAdminParametersAndResultsAreCutToTheColumn() {
            String params = "client=" + "p".repeat(1_500);
            String result = "r".repeat(1_001);
            dao.adminAction("reset-rate-limits", params, "node-a", T0, result);
            Map<String, Object> row = normalise(only(dao.adminActions(5)));
            assertThat((String) row.get("parameters")).isEqualTo(params.substring(0, 1_000));
            assertThat((String) row.get("result")).isEqualTo(result.substring(0, 1_000));
        }

        @Test
        void aRebuildReadsTheWindowsChargesSessionsAndTheBreakersOwnTimes() {
            String s = "rebuild-" + UUID.randomUUID();
            dao.insertCharges(List.of(
                    new ChargeRecord(s, "resp_old", "client-r", "gpt-5", TokenCounts.ZERO, 1_000_000_000L, false, T0 - 2 * HOUR, "v1"),
                    new ChargeRecord(s, "resp_1", "client-r", "gpt-5", TokenCounts.ZERO, 2_500_000_000L, false, T0 - 10 * SECOND, "v1")),
                    RECORDED_AT);
            dao.insert(List.of(new SessionRecord(s, "client-r", "node-a", "gpt-5", T0 - 3 * HOUR, T0, EndReason.CLIENT_CLOSED,
                    TokenCounts.ZERO, 3, 4_000_000_000L, "v1")), RECORDED_AT);
            dao.breakerChange(T0 - 5 * HOUR, "open", BigDecimal.ONE, "long ago", "node-a", T0 - 5 * HOUR, T0 - 4 * HOUR);
            dao.breakerChange(T0 - 20 * SECOND, "open", new BigDecimal("100"), "spend", "node-b", T0 - 21 * SECOND, T0 + HOUR);

            ducke.core.cost.SpendRebuild.History h = dao.spendHistory(T0 - HOUR, T0 - 2 * HOUR, T0);

            assertThat(h.charges()).containsExactly(new ducke.core.cost.SpendRebuild.ChargeRow(s, "client-r", T0 - 10 * SECOND,
                    2_500_000_000L));
            assertThat(h.sessions()).containsExactly(new ducke.core.cost.SpendRebuild.SessionRow(s, "client-r", T0,
                    4_000_000_000L, 3_500_000_000L, false));
            assertThat(h.breakerEvents()).containsExactly(new ducke.core.cost.SpendRebuild.BreakerEvent(T0 - 20 * SECOND, true,
                    T0 - 21 * SECOND, T0 + HOUR, "spend", 100_000_000_000L));
            var known = new ducke.core.cost.StateRebuild.ChargeRef(s, "resp_1");
            assertThat(dao.recordedCharges(List.of(known, new ducke.core.cost.StateRebuild.ChargeRef(s, "resp_2"),
                    new ducke.core.cost.StateRebuild.ChargeRef("elsewhere", "resp_1")))).containsExactly(known);
        }

        @Test
        void breakerChangesAreStoredAndReadBackWithExactSpend() {
            dao.breakerChange(T0, "open", new BigDecimal("12.345678901"), "spend over the hourly limit", "node-a");
            dao.breakerChange(T0 + 5, "closed", new BigDecimal("0.000000001"), "reset by operator", "node-b");
            dao.breakerChange(T0 + 9, "open", new BigDecimal("7.00"), "tripped by operator", "node-c");

            List<Map<String, Object>> all = dao.breakerChanges(10);
            assertThat(all).hasSize(3);
            assertThat(normalise(all.get(0))).isEqualTo(Map.of("at_ms", T0 + 9, "state", "open",
                    "spend_usd", new BigDecimal("7.000000000"), "cause", "tripped by operator", "node", "node-c"));
            assertThat(normalise(all.get(1))).isEqualTo(Map.of("at_ms", T0 + 5, "state", "closed",
                    "spend_usd", new BigDecimal("0.000000001"), "cause", "reset by operator", "node", "node-b"));
            assertThat(normalise(all.get(2))).isEqualTo(Map.of("at_ms", T0, "state", "open",
                    "spend_usd", new BigDecimal("12.345678901"), "cause", "spend over the hourly limit", "node", "node-a"));
            assertThat(dao.breakerChanges(2)).hasSize(2);
        }

        /**
         * The cause column is VARCHAR(256) but AuditDao cuts causes at 1000 characters, so a cause of
         * 257..1000 characters makes the insert fail. Through AuditJournal that entry is retried forever
         * at the head of its queue and every later admin action / breaker change is never written.
         */
        @Test
        void aLongBreakerCauseIsStoredCutToTheColumn() {
            String cause = "spend over limit; " + "x".repeat(300);
            dao.breakerChange(T0, "open", new BigDecimal("1"), cause, "node-a");
            Map<String, Object> row = normalise(only(dao.breakerChanges(5)));
            assertThat((String) row.get("cause")).isNotEmpty().hasSizeLessThanOrEqualTo(256);
            assertThat(cause).startsWith((String) row.get("cause"));
        }

        // ------------------------------------------------------------------ injection

        @Test
        void sqlInjectionInFilterValuesMatchesNothingAndBreaksNothing() {
            filterFixture();
            SessionRecord quoted = rec("o-brien", "o'brien", "m-large", T0 + 4 * HOUR, EndReason.CLIENT_CLOSED, 5);
            dao.insert(List.of(quoted), RECORDED_AT);

            List<AuditQuery> attacks = List.of(
                    q().client("x' OR '1'='1").build(),
                    q().client("c1' OR 'a'='a").build(),
                    q().client("c1'; DROP TABLE audit_sessions; --").build(),
                    q().client("c1' --").build(),
                    q().model("' OR 1=1 --").build(),
                    q().model("m-large' UNION SELECT * FROM audit_sessions --").build(),
                    q().reason("client_closed' OR 'a'='a").build(),
                    q().reason("client_closed\"; DELETE FROM audit_sessions; --").build(),
                    q().client("c1\\' OR 1=1 --").model("m-mini").build());
            for (AuditQuery attack : attacks) {
                assertThat(ids(attack)).as("%s", attack).isEmpty();
                // the filters make the same WHERE clause whatever the grouping
                assertThat(dao.summary(attack, AuditDao.GroupBy.MODEL)).as("summary of %s", attack).isEmpty();
            }
            assertThat(countAll()).as("nothing dropped or deleted").isEqualTo(7);
            assertThat(ids(q().client("o'brien").build())).containsExactly("o-brien");
            assertThat(ids(AuditQuery.all())).hasSize(7);

            // hostile text stored through the writes is stored literally
            String hostile = "x'); DELETE FROM audit_sessions; --";
            dao.insert(List.of(rec(hostile, hostile, hostile, T0, EndReason.CLIENT_CLOSED, 1)), RECORDED_AT);
            dao.adminAction("end-session", "id=" + hostile, "node-a", T0, hostile);
            dao.breakerChange(T0, "open", BigDecimal.ONE, hostile, "node-a");
            assertThat(countAll()).isEqualTo(8);
            assertThat(ids(q().client(hostile).model(hostile).build())).containsExactly(hostile);
            assertThat(normalise(only(dao.adminActions(5))).get("result")).isEqualTo(hostile);
            assertThat(normalise(only(dao.breakerChanges(5))).get("cause")).isEqualTo(hostile);
        }

        // ------------------------------------------------------------------ helpers

        <T> T column(String column, String sessionId, Class<T> type) {
            return jdbi.withHandle(h -> h.createQuery("SELECT " + column + " FROM audit_sessions WHERE session_id = :id")
                    .bind("id", sessionId).mapTo(type).one());
        }

        long countOf(String sessionId) {
            return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM audit_sessions WHERE session_id = :id")
                    .bind("id", sessionId).mapTo(Long.class).one());
        }

        long countAll() {
            return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM audit_sessions").mapTo(Long.class).one());
        }

        List<AuditDao.Page> allPages(AuditQuery query, int limit) {
            List<AuditDao.Page> pages = new ArrayList<>();
            String cursor = null;
            do {
                AuditDao.Page page = dao.sessions(query, limit, cursor);
                pages.add(page);
                cursor = page.nextCursor();
                assertThat(pages.size()).as("pagination ends").isLessThan(10_000);
            } while (cursor != null);
            return pages;
        }

        /** The ids matching {@code query}, in the order returned, from one page. */
        List<String> ids(AuditQuery query) {
            AuditDao.Page page = dao.sessions(query, 1_000, null);
            assertThat(page.nextCursor()).isNull();
            return idsOf(page.records());
        }
    }

    // ---------------------------------------------------------------------- shared fixtures

    static SessionRecord rec(String id, String client, String model, long ended, EndReason reason, long costNano) {
        return rec(id, client, model, ended, reason, costNano, TokenCounts.of(3, 5, 7, 11, 13));
    }

    static SessionRecord rec(String id, String client, String model, long ended, EndReason reason, long costNano,
                             TokenCounts tokens) {
        return new SessionRecord(id, client, "node-1", model, ended - 30 * SECOND, ended, reason, tokens, 2, costNano, "v1");
    }

    /** The same session as its record grows: more charges, more cost and tokens, the same end. */
    static SessionRecord versioned(String id, int charges, long costNano, TokenCounts tokens) {
        return new SessionRecord(id, "c1", "node-1", "gpt-5", T0 + 2 * SECOND - 30 * SECOND, T0 + 2 * SECOND,
                EndReason.BUDGET_EXCEEDED, tokens, charges, costNano, "v1");
    }

    static SessionRecord full(String id, String client, String model, long ended, long durationMillis, EndReason reason,
                              TokenCounts tokens, long costNano) {
        return new SessionRecord(id, client, "node-1", model, ended - durationMillis, ended, reason, tokens, 1, costNano, "v1");
    }

    static List<SessionRecord> sortedNewestFirst(List<SessionRecord> rows) {
        return rows.stream().sorted(Comparator.comparingLong(SessionRecord::endedAtMillis)
                .thenComparing(SessionRecord::sessionId).reversed()).toList();
    }

    static List<SessionRecord> flatten(List<AuditDao.Page> pages) {
        return pages.stream().flatMap(p -> p.records().stream()).toList();
    }

    static List<String> idsOf(List<SessionRecord> rows) {
        return rows.stream().map(SessionRecord::sessionId).toList();
    }

    static <T> T only(List<T> list) {
        assertThat(list).hasSize(1);
        return list.get(0);
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Numbers as long or 9-place decimals, whatever the driver hands back. */
    static Map<String, Object> normalise(Map<String, Object> row) {
        Map<String, Object> out = new LinkedHashMap<>();
        row.forEach((k, v) -> out.put(k.toLowerCase(java.util.Locale.ROOT),
                v instanceof BigDecimal d ? d : v instanceof Number n ? (Object) n.longValue() : v));
        return out;
    }

    /** The summary computed in Java from the records themselves: the reference for the SQL. */
    static List<AuditDao.SummaryRow> expectedSummary(List<SessionRecord> rows, AuditDao.GroupBy by) {
        Function<SessionRecord, String> key = switch (by) {
            case HOUR -> r -> Long.toString(Math.floorDiv(r.endedAtMillis(), HOUR) * HOUR);
            case DAY -> r -> Long.toString(Math.floorDiv(r.endedAtMillis(), DAY) * DAY);
            case MODEL -> SessionRecord::model;
            case CLIENT -> SessionRecord::clientId;
            case END_REASON -> r -> r.endReason().label();
        };
        Comparator<String> order = by.byTime() ? Comparator.comparingLong(Long::parseLong) : Comparator.naturalOrder();
        Map<String, List<SessionRecord>> groups = rows.stream()
                .collect(Collectors.groupingBy(key, () -> new TreeMap<>(order), Collectors.toList()));
        List<AuditDao.SummaryRow> out = new ArrayList<>();
        groups.forEach((k, g) -> {
            long nanos = 0;
            long duration = 0;
            TokenCounts tokens = TokenCounts.ZERO;
            for (SessionRecord r : g) {
                nanos = Math.addExact(nanos, r.costNanoUsd());
                duration += r.durationMillis();
                tokens = tokens.plus(r.tokens());
            }
            out.add(new AuditDao.SummaryRow(k, g.size(), BigDecimal.valueOf(nanos, 9), tokens, duration));
        });
        return out;
    }

    static QueryBuilder q() {
        return new QueryBuilder();
    }

    static final class QueryBuilder {
        private Long from;
        private Long to;
        private String client;
        private String model;
        private String reason;
        private BigDecimal minCost;

        QueryBuilder from(long v) {
            from = v;
            return this;
        }

        QueryBuilder to(long v) {
            to = v;
            return this;
        }

        QueryBuilder client(String v) {
            client = v;
            return this;
        }

        QueryBuilder model(String v) {
            model = v;
            return this;
        }

        QueryBuilder reason(String v) {
            reason = v;
            return this;
        }

        QueryBuilder minCost(String v) {
            minCost = new BigDecimal(v);
            return this;
        }

        AuditQuery build() {
            return new AuditQuery(from, to, client, model, reason, minCost);
        }
    }

}
