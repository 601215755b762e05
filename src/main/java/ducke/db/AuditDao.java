package ducke.db;

import ducke.core.cost.ChargeRecord;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The audit tables through JDBI. Every value is bound; the only SQL assembled at run time is
 * chosen from fixed fragments. The same statements run on H2 and PostgreSQL.
 */
public final class AuditDao {

    /** What an audit summary groups by, and the SQL expression of each (fixed, never from input). */
    public enum GroupBy {
        HOUR("(ended_at_ms / 3600000) * 3600000"),
        DAY("(ended_at_ms / 86400000) * 86400000"),
        MODEL("model"),
        CLIENT("client_id"),
        END_REASON("end_reason");

        private final String sql;

        GroupBy(String sql) {
            this.sql = sql;
        }

        public boolean byTime() {
            return this == HOUR || this == DAY;
        }
    }

    /** One group of a summary: money exact, durations summed so the average can be exact too. */
    public record SummaryRow(String key, long sessions, BigDecimal costUsd, TokenCounts tokens, long durationMillisSum) {
        public BigDecimal averageDurationSeconds() {
            return sessions == 0 ? BigDecimal.ZERO
                    : BigDecimal.valueOf(durationMillisSum).divide(BigDecimal.valueOf(sessions * 1000L), 3, java.math.RoundingMode.HALF_UP);
        }
    }

    /**
     * A page of sessions, newest end first, and the cursor of the next page (null at the end);
     * {@code models}: per session, the models that priced its charges, sorted.
     */
    public record Page(List<SessionRecord> records, Map<String, List<String>> models, String nextCursor,
                       Map<String, Pauses> pauses) {
        public List<String> models(String sessionId) {
            return models.getOrDefault(sessionId, List.of());
        }

        /** The session's pauses at its cost limit (none for most). */
        public Pauses pauses(String sessionId) {
            return pauses.getOrDefault(sessionId, Pauses.NONE);
        }
    }

    /** How often a session was paused at its cost limit, and for how long in all. */
    public record Pauses(int count, long pausedMillis) {
        public static final Pauses NONE = new Pauses(0, 0);
    }

    /**
     * Writes the pauses of ended sessions into their rows; returns the notes whose row is not
     * written yet (to be offered again).
     */
    List<PauseRows.Note> writePauses(List<PauseRows.Note> notes) {
        return jdbi.inTransaction(h -> PauseRows.write(h, notes));
    }

    /** A page of one session's charges, oldest first, and the cursor of the next page (null at the end). */
    public record ChargePage(List<ChargeRecord> charges, String nextCursor) {
    }

    private static final String COLUMNS = "session_id, client_id, node, model, started_at_ms, ended_at_ms, end_reason, "
            + "text_input_tokens, audio_input_tokens, cached_input_tokens, text_output_tokens, audio_output_tokens, "
            + "charged_responses, cost_usd, price_version";

    private final Jdbi jdbi;
    private volatile Boolean postgres;

    public AuditDao(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    private boolean postgres(Handle h) {
        Boolean pg = postgres;
        if (pg == null) {
            try {
                pg = h.getConnection().getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT)
                        .contains("postgres");
            } catch (SQLException e) {
                throw new IllegalStateException("cannot tell which database the audit store is", e);
            }
            postgres = pg;
        }
        return pg;
    }

    /**
     * Stores final records in one transaction: a record replaces the session's open row (its
     * checkpoint), or an older final record with fewer charged responses; a record stored already
     * changes nothing. Returns how many rows were added or replaced.
     */
    public int insert(List<SessionRecord> records, long recordedAtMillis) {
        if (records.isEmpty()) {
            return 0;
        }
        return jdbi.inTransaction(h -> {
            int changed = SessionRows.finish(h, postgres(h), records, recordedAtMillis);
            ChargeRows.refreshModels(h, records.stream().map(SessionRecord::sessionId).toList());
            return changed;
        });
    }

    /**
     * Stores charges in one transaction, each once whatever the number of attempts (the first
     * write of a session's charge key stays), and updates their sessions' {@code models}.
     * Returns how many rows were added.
     */
    public int insertCharges(List<ChargeRecord> charges, long recordedAtMillis) {
        if (charges.isEmpty()) {
            return 0;
        }
        return jdbi.inTransaction(h -> {
            int added = ChargeRows.insert(h, postgres(h), charges, recordedAtMillis);
            ChargeRows.refreshModels(h, charges.stream().map(ChargeRecord::sessionId).toList());
            return added;
        });
    }

    /** One session's charges, oldest first (ties by key), keyset-paged. */
    public ChargePage charges(String sessionId, int limit, String cursor) {
        ChargeCursor after = cursor == null ? null : ChargeCursor.decode(cursor);
        String sql = "SELECT " + ChargeRows.COLUMNS + " FROM audit_charges WHERE session_id = :id"
                + (after == null ? "" : " AND (at_ms > :cAt OR (at_ms = :cAt AND charge_key > :cKey))")
                + " ORDER BY at_ms, charge_key LIMIT :limit";
        List<ChargeRecord> rows = jdbi.withHandle(h -> {
            Query query = h.createQuery(sql).bind("id", sessionId).bind("limit", limit + 1);
            if (after != null) {
                query.bind("cAt", after.atMillis()).bind("cKey", after.chargeKey());
            }
            return query.map((rs, ctx) -> ChargeRows.record(rs)).list();
        });
        if (rows.size() <= limit) {
            return new ChargePage(rows, null);
        }
        ChargeRecord last = rows.get(limit - 1);
        return new ChargePage(List.copyOf(rows.subList(0, limit)), new ChargeCursor(last.atMillis(), last.chargeKey()).encode());
    }

    /** Whether the store has a row of this session or of one of its charges. */
    public boolean knows(String sessionId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT 1 FROM audit_sessions WHERE session_id = :id UNION ALL "
                + "SELECT 1 FROM audit_charges WHERE session_id = :id").bind("id", sessionId).mapTo(Integer.class)
                .findFirst().isPresent());
    }

    /**
     * Stores checkpoints of live sessions as open rows, in one transaction; an open row is
     * replaced, a finished one never. Returns how many rows were added or replaced.
     */
    public int checkpoint(List<SessionRecord> live, long recordedAtMillis) {
        if (live.isEmpty()) {
            return 0;
        }
        return jdbi.inTransaction(h -> SessionRows.checkpoint(h, postgres(h), live, recordedAtMillis));
    }

    /** Up to {@code limit} sessions with an open row, oldest checkpoint first. */
    public List<String> openSessions(int limit) {
        return jdbi.withHandle(h -> SessionRows.open(h, limit));
    }

    /** Closes the open rows of these sessions as their last checkpoint left them; returns how many. */
    public int closeOpen(Collection<String> sessionIds) {
        return jdbi.inTransaction(h -> {
            int closed = SessionRows.close(h, sessionIds);
            ChargeRows.refreshModels(h, sessionIds);
            return closed;
        });
    }

    /** Sessions matching {@code q}, newest end first, keyset-paged so pages stay stable while rows are added. */
    public Page sessions(AuditQuery q, int limit, String cursor) {
        Cursor after = cursor == null ? null : Cursor.decode(cursor);
        StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS).append(", models, pauses, paused_ms FROM audit_sessions WHERE is_open = FALSE");
        where(sql, q, "");
        if (after != null) {
            sql.append(" AND (ended_at_ms < :cEnded OR (ended_at_ms = :cEnded AND session_id < :cId))");
        }
        sql.append(" ORDER BY ended_at_ms DESC, session_id DESC LIMIT :limit");
        Map<String, List<String>> models = new java.util.HashMap<>();
        Map<String, Pauses> pauses = new java.util.HashMap<>();
        List<SessionRecord> rows = jdbi.withHandle(h -> {
            Query query = bind(h.createQuery(sql.toString()), q).bind("limit", limit + 1);
            if (after != null) {
                query.bind("cEnded", after.endedAtMillis()).bind("cId", after.sessionId());
            }
            return query.map((rs, ctx) -> {
                models.put(rs.getString("session_id"), ChargeRows.models(rs.getString("models")));
                if (rs.getInt("pauses") > 0) {
                    pauses.put(rs.getString("session_id"), new Pauses(rs.getInt("pauses"), rs.getLong("paused_ms")));
                }
                return record(rs);
            }).list();
        });
        if (rows.size() <= limit) {
            return new Page(rows, Map.copyOf(models), null, Map.copyOf(pauses));
        }
        List<SessionRecord> page = rows.subList(0, limit);
        SessionRecord last = page.get(limit - 1);
        return new Page(List.copyOf(page), Map.copyOf(models), new Cursor(last.endedAtMillis(), last.sessionId()).encode(),
                Map.copyOf(pauses));
    }

    /**
     * Finished sessions matching {@code q} (filters apply to the session), summed by {@code groupBy}.
     * By model, the charges are summed by the model that priced them (a session counts once under
     * each model it used); a session without charge rows (recorded before they were kept) counts
     * under its own model with its totals.
     */
    public List<SummaryRow> summary(AuditQuery q, GroupBy groupBy) {
        StringBuilder sql = groupBy == GroupBy.MODEL ? ModelSummary.sql(q) : new StringBuilder("SELECT ")
                .append(groupBy.sql).append(" AS grp, COUNT(*) AS sessions, ")
                .append("SUM(cost_usd) AS cost, SUM(text_input_tokens) AS ti, SUM(audio_input_tokens) AS ai, ")
                .append("SUM(cached_input_tokens) AS ci, SUM(text_output_tokens) AS tout, SUM(audio_output_tokens) AS aout, ")
                .append("SUM(duration_ms) AS dur FROM audit_sessions WHERE is_open = FALSE");
        if (groupBy != GroupBy.MODEL) {
            where(sql, q, "");
            sql.append(" GROUP BY ").append(groupBy.sql).append(" ORDER BY grp");
        }
        return jdbi.withHandle(h -> bind(h.createQuery(sql.toString()), q).map((rs, ctx) -> new SummaryRow(
                rs.getString("grp"), rs.getLong("sessions"), rs.getBigDecimal("cost").setScale(9),
                TokenCounts.of(rs.getLong("ti"), rs.getLong("ai"), rs.getLong("ci"), rs.getLong("tout"), rs.getLong("aout")),
                rs.getLong("dur"))).list());
    }

    public void adminAction(String task, String parameters, String node, long atMillis, String result) {
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO audit_admin_actions (task, parameters, node, at_ms, result) "
                        + "VALUES (:task, :params, :node, :at, :result)")
                .bind("task", cut(task, 64)).bind("params", cut(parameters, 1000)).bind("node", cut(node, 128))
                .bind("at", atMillis).bind("result", cut(result, 1000)).execute());
    }

    public void breakerChange(long atMillis, String state, BigDecimal spendUsd, String cause, String node) {
        breakerChange(atMillis, state, spendUsd, cause, node, 0, 0);
    }

    /**
     * A breaker change with the breaker's own times: when it opened and when its cooldown ends (both
     * 0 for a closing), so that a cluster started anew reopens it until the same moment.
     */
    public void breakerChange(long atMillis, String state, BigDecimal spendUsd, String cause, String node,
                              long openedAtMillis, long closesAtMillis) {
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO audit_breaker_changes (at_ms, state, spend_usd, cause, node, "
                        + "opened_at_ms, closes_at_ms) VALUES (:at, :state, :spend, :cause, :node, :opened, :closes)")
                .bind("at", atMillis).bind("state", state).bind("spend", spendUsd).bind("cause", cut(cause, 256))
                .bind("node", cut(node, 128)).bind("opened", openedAtMillis).bind("closes", closesAtMillis)
                .execute());
    }

    public List<Map<String, Object>> adminActions(int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT task, parameters, node, at_ms, result FROM audit_admin_actions "
                + "ORDER BY id DESC LIMIT :limit").bind("limit", limit).mapToMap().list());
    }

    public List<Map<String, Object>> breakerChanges(int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT at_ms, state, spend_usd, cause, node FROM audit_breaker_changes "
                + "ORDER BY id DESC LIMIT :limit").bind("limit", limit).mapToMap().list());
    }

    /** What a rebuild of the cluster's spend reads: see {@link SpendHistoryRows}. */
    /** Replaces a client's budget override; a backend's change is durable before the grid takes it. */
    public void saveBudgetOverride(String clientId, ducke.core.cost.BudgetOverride override) {
        jdbi.useTransaction(h -> BudgetRows.save(h, clientId, override));
    }

    /** The clients' budgets as a new cluster rebuilds them ({@link BudgetRows#rebuild}). */
    public Map<String, ducke.core.cost.ClientBudget> budgetHistory(ducke.core.cost.BudgetWindows windows) {
        return jdbi.withHandle(h -> BudgetRows.rebuild(h, windows));
    }

    public ducke.core.cost.SpendRebuild.History spendHistory(long fromMillis, long breakerFromMillis, long nowMillis) {
        return jdbi.withHandle(h -> SpendHistoryRows.read(h, fromMillis, breakerFromMillis, nowMillis));
    }

    /** Which of {@code refs} have a charge row; asked in batches of sessions. */
    public java.util.Set<ducke.core.cost.StateRebuild.ChargeRef> recordedCharges(
            Collection<ducke.core.cost.StateRebuild.ChargeRef> refs) {
        java.util.Set<ducke.core.cost.StateRebuild.ChargeRef> found = new java.util.HashSet<>();
        List<String> sessions = refs.stream().map(ducke.core.cost.StateRebuild.ChargeRef::sessionId).distinct().toList();
        for (int i = 0; i < sessions.size(); i += 500) {
            List<String> batch = sessions.subList(i, Math.min(sessions.size(), i + 500));
            jdbi.useHandle(h -> h.createQuery("SELECT session_id, charge_key FROM audit_charges WHERE session_id IN (<ids>)")
                    .bindList("ids", batch)
                    .map((rs, ctx) -> new ducke.core.cost.StateRebuild.ChargeRef(rs.getString("session_id"), rs.getString("charge_key")))
                    .forEach(r -> {
                        if (refs.contains(r)) {
                            found.add(r);
                        }
                    }));
        }
        return found;
    }

    /** Whether the database answers. */
    public void ping() {
        jdbi.useHandle(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
    }

    /** The filters on the session row, its columns prefixed with {@code table} (e.g. {@code "s."}). */
    static void where(StringBuilder sql, AuditQuery q, String table) {
        if (q.fromMillis() != null) {
            sql.append(" AND ").append(table).append("ended_at_ms >= :from");
        }
        if (q.toMillis() != null) {
            sql.append(" AND ").append(table).append("ended_at_ms < :to");
        }
        if (q.client() != null) {
            sql.append(" AND ").append(table).append("client_id = :client");
        }
        if (q.model() != null) {
            sql.append(" AND ").append(table).append("model = :model");
        }
        if (q.endReason() != null) {
            sql.append(" AND ").append(table).append("end_reason = :reason");
        }
        if (q.minCostUsd() != null) {
            sql.append(" AND ").append(table).append("cost_usd >= :minCost");
        }
    }

    private static Query bind(Query query, AuditQuery q) {
        if (q.fromMillis() != null) {
            query.bind("from", q.fromMillis());
        }
        if (q.toMillis() != null) {
            query.bind("to", q.toMillis());
        }
        if (q.client() != null) {
            query.bind("client", q.client());
        }
        if (q.model() != null) {
            query.bind("model", q.model());
        }
        if (q.endReason() != null) {
            query.bind("reason", q.endReason());
        }
        if (q.minCostUsd() != null) {
            query.bind("minCost", q.minCostUsd());
        }
        return query;
    }

    private static SessionRecord record(ResultSet rs) throws SQLException {
        return new SessionRecord(rs.getString("session_id"), rs.getString("client_id"), rs.getString("node"),
                rs.getString("model"), rs.getLong("started_at_ms"), rs.getLong("ended_at_ms"),
                EndReason.fromLabel(rs.getString("end_reason")),
                TokenCounts.of(rs.getLong("text_input_tokens"), rs.getLong("audio_input_tokens"),
                        rs.getLong("cached_input_tokens"), rs.getLong("text_output_tokens"), rs.getLong("audio_output_tokens")),
                rs.getInt("charged_responses"), Money.nanoUsd(rs.getBigDecimal("cost_usd")), rs.getString("price_version"));
    }

    /** Cut to the column's width, so a long text is stored shortened rather than refused. */
    private static String cut(String s, int width) {
        return s == null ? "" : s.length() > width ? s.substring(0, width) : s;
    }
}
