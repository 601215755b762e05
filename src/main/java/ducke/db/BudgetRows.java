package ducke.db;

import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.BudgetWindows;
import ducke.core.cost.ClientBudget;
import ducke.core.cost.Holds;
import ducke.core.cost.Money;
import org.jdbi.v3.core.Handle;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * The clients' budget overrides ({@code client_budgets}) and what a new cluster rebuilds their
 * budgets from: the overrides, the month's and the day's spend summed from the charge rows, and the
 * day's session time from the session rows (a session counts in the day it ended, as live). The
 * same SQL on H2 and PostgreSQL.
 */
final class BudgetRows {

    private BudgetRows() {
    }

    /** Replaces {@code clientId}'s override (one row per client). */
    static void save(Handle h, String clientId, BudgetOverride o) {
        h.createUpdate("DELETE FROM client_budgets WHERE client_id = :client").bind("client", clientId).execute();
        h.createUpdate("INSERT INTO client_budgets (client_id, day_usd, month_usd, day_ms, updated_at_ms) "
                        + "VALUES (:client, :day, :month, :dayMs, :at)")
                .bind("client", clientId)
                .bind("day", usd(o.dayNanoUsd()))
                .bind("month", usd(o.monthNanoUsd()))
                .bind("dayMs", o.dayMillis() == BudgetOverride.INHERIT ? null : o.dayMillis())
                .bind("at", o.updatedAtMillis())
                .execute();
    }

    /** Every client with an override or spend in the month of {@code w}, as its budget would stand in the grid. */
    static Map<String, ClientBudget> rebuild(Handle h, BudgetWindows w) {
        Map<String, BudgetOverride> overrides = new HashMap<>();
        h.createQuery("SELECT client_id, day_usd, month_usd, day_ms, updated_at_ms FROM client_budgets")
                .map((rs, ctx) -> overrides.put(rs.getString("client_id"), new BudgetOverride(nanoUsd(rs, "day_usd"),
                        nanoUsd(rs, "month_usd"), rs.getObject("day_ms") == null ? BudgetOverride.INHERIT : rs.getLong("day_ms"),
                        rs.getLong("updated_at_ms"))))
                .list();
        Map<String, long[]> sums = new HashMap<>();
        h.createQuery("SELECT client_id, SUM(CASE WHEN at_ms >= :day THEN cost_usd ELSE 0 END) AS day_usd, "
                        + "SUM(cost_usd) AS month_usd FROM audit_charges WHERE at_ms >= :month GROUP BY client_id")
                .bind("day", w.dayStartMillis())
                .bind("month", w.monthStartMillis())
                .map((rs, ctx) -> {
                    long[] s = sums.computeIfAbsent(rs.getString("client_id"), k -> new long[3]);
                    s[0] = Money.nanoUsd(rs.getBigDecimal("day_usd"));
                    s[1] = Money.nanoUsd(rs.getBigDecimal("month_usd"));
                    return s;
                })
                .list();
        // a session across midnight counts in the new day only its part after midnight, as ClientBudgets counts it live
        h.createQuery("SELECT client_id, SUM(ended_at_ms - CASE WHEN started_at_ms > :day THEN started_at_ms ELSE :day END) AS used "
                        + "FROM audit_sessions WHERE ended_at_ms >= :day GROUP BY client_id")
                .bind("day", w.dayStartMillis())
                .map((rs, ctx) -> {
                    long[] s = sums.computeIfAbsent(rs.getString("client_id"), k -> new long[3]);
                    s[2] = rs.getLong("used");
                    return s;
                })
                .list();
        Map<String, ClientBudget> out = new HashMap<>();
        overrides.keySet().forEach(c -> sums.computeIfAbsent(c, k -> new long[3]));
        sums.forEach((client, s) -> out.put(client, new ClientBudget(overrides.get(client), w.dayStartMillis(), s[0], s[2],
                w.monthStartMillis(), s[1], Holds.NONE, Holds.NONE)));
        return out;
    }

    private static BigDecimal usd(long nanoUsd) {
        if (nanoUsd == BudgetOverride.INHERIT) {
            return null;
        }
        return nanoUsd == BudgetLimits.NONE ? BigDecimal.ONE.negate() : Money.usd(nanoUsd);
    }

    private static long nanoUsd(ResultSet rs, String column) throws SQLException {
        BigDecimal v = rs.getBigDecimal(column);
        if (v == null) {
            return BudgetOverride.INHERIT;
        }
        return v.signum() < 0 ? BudgetLimits.NONE : Money.nanoUsd(v);
    }
}
