package ducke.db;

/**
 * The summary by model: charge rows summed by the model that priced them, joined to their finished
 * sessions for the filters and durations; sessions without charge rows by their own model.
 */
final class ModelSummary {

    private static final String ZERO_COST = "CAST(0 AS NUMERIC(20, 9))";
    private static final String ZERO = "CAST(0 AS BIGINT)";

    private ModelSummary() {
    }

    static StringBuilder sql(AuditQuery q) {
        StringBuilder sql = new StringBuilder("SELECT grp, COUNT(DISTINCT sid) AS sessions, SUM(cost) AS cost, ")
                .append("SUM(ti) AS ti, SUM(ai) AS ai, SUM(ci) AS ci, SUM(tout) AS tout, SUM(aout) AS aout, ")
                .append("SUM(dur) AS dur FROM (");
        // every charge: its money and tokens under its model
        sql.append("SELECT c.model AS grp, c.session_id AS sid, c.cost_usd AS cost, c.text_input_tokens AS ti, ")
                .append("c.audio_input_tokens AS ai, c.cached_input_tokens AS ci, c.text_output_tokens AS tout, ")
                .append("c.audio_output_tokens AS aout, ").append(ZERO).append(" AS dur FROM audit_charges c ")
                .append("JOIN audit_sessions s ON s.session_id = c.session_id WHERE s.is_open = FALSE");
        AuditDao.where(sql, q, "s.");
        // every session once per model it used: its duration
        sql.append(" UNION ALL SELECT m.model, s.session_id, ").append(ZERO_COST).append(", ")
                .append(String.join(", ", ZERO, ZERO, ZERO, ZERO, ZERO)).append(", s.duration_ms FROM ")
                .append("(SELECT DISTINCT session_id, model FROM audit_charges) m ")
                .append("JOIN audit_sessions s ON s.session_id = m.session_id WHERE s.is_open = FALSE");
        AuditDao.where(sql, q, "s.");
        // sessions without charge rows: as their own row says
        sql.append(" UNION ALL SELECT s.model, s.session_id, s.cost_usd, s.text_input_tokens, s.audio_input_tokens, ")
                .append("s.cached_input_tokens, s.text_output_tokens, s.audio_output_tokens, s.duration_ms ")
                .append("FROM audit_sessions s WHERE s.is_open = FALSE");
        AuditDao.where(sql, q, "s.");
        sql.append(" AND NOT EXISTS (SELECT 1 FROM audit_charges c WHERE c.session_id = s.session_id)");
        return sql.append(") x GROUP BY grp ORDER BY grp");
    }
}
