package ducke.db;

import ducke.core.cost.Money;
import ducke.core.cost.SpendRebuild;
import org.jdbi.v3.core.Handle;

import java.util.List;

/**
 * The rows a rebuild of the cluster's spend reads ({@link SpendRebuild}): the window's charge rows,
 * the session rows (finished, and open rows of sessions that were live) that ended or were
 * checkpointed in it with the sum of their charge rows, and the breaker changes that can still matter.
 * Three queries in one read-only handle; the same SQL on H2 and PostgreSQL.
 */
final class SpendHistoryRows {

    private SpendHistoryRows() {
    }

    /** Rows stamped later than {@code nowMillis} (a node whose clock ran ahead) are read too: they count as of now. */
    static SpendRebuild.History read(Handle h, long fromMillis, long breakerFromMillis, long nowMillis) {
        List<SpendRebuild.ChargeRow> charges = h.createQuery("SELECT session_id, client_id, at_ms, cost_usd FROM audit_charges "
                        + "WHERE at_ms >= :from")
                .bind("from", fromMillis)
                .map((rs, ctx) -> new SpendRebuild.ChargeRow(rs.getString("session_id"), rs.getString("client_id"),
                        rs.getLong("at_ms"), Money.nanoUsd(rs.getBigDecimal("cost_usd"))))
                .list();
        List<SpendRebuild.SessionRow> sessions = h.createQuery("SELECT s.session_id, s.client_id, s.ended_at_ms, s.cost_usd, "
                        + "s.is_open, (SELECT COALESCE(SUM(c.cost_usd), 0) FROM audit_charges c WHERE c.session_id = s.session_id) "
                        + "AS charged FROM audit_sessions s WHERE s.ended_at_ms >= :from AND s.cost_usd > 0")
                .bind("from", fromMillis)
                .map((rs, ctx) -> new SpendRebuild.SessionRow(rs.getString("session_id"), rs.getString("client_id"),
                        rs.getLong("ended_at_ms"), Money.nanoUsd(rs.getBigDecimal("cost_usd")),
                        Money.nanoUsd(rs.getBigDecimal("charged")), rs.getBoolean("is_open")))
                .list();
        List<SpendRebuild.BreakerEvent> breaker = h.createQuery("SELECT at_ms, state, opened_at_ms, closes_at_ms, cause, spend_usd "
                        + "FROM audit_breaker_changes WHERE at_ms >= :from ORDER BY at_ms, id")
                .bind("from", breakerFromMillis)
                .map((rs, ctx) -> new SpendRebuild.BreakerEvent(rs.getLong("at_ms"), "open".equals(rs.getString("state")),
                        rs.getLong("opened_at_ms"), rs.getLong("closes_at_ms"), rs.getString("cause"),
                        Money.nanoUsd(rs.getBigDecimal("spend_usd"))))
                .list();
        return new SpendRebuild.History(charges, sessions, breaker);
    }
}
