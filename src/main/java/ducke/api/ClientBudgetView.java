package ducke.api;

import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.ClientBudgets;
import ducke.core.cost.Money;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer of {@code GET/PUT /v1/clients/{client_id}/budget}: per window its limit (null: none),
 * what it holds, what the client's live sessions reserved, what remains and when it starts over;
 * the override a backend set (fields it left to the default are absent; null is "no limit"), and
 * the window that refuses new sessions now (null: none). Money in USD, session time in minutes.
 */
public final class ClientBudgetView {

    private ClientBudgetView() {
    }

    public static Map<String, Object> of(ClientBudgets.View v, ZoneId zone) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client_id", v.clientId());
        out.put("time_zone", zone.getId());
        out.put("day", money(v.limits().dayNanoUsd(), v.daySpendNanoUsd(), v.heldNanoUsd(), v.windows().dayEndMillis()));
        out.put("month", money(v.limits().monthNanoUsd(), v.monthSpendNanoUsd(), v.heldNanoUsd(), v.windows().monthEndMillis()));
        out.put("day_minutes", minutes(v.limits().dayMillis(), v.dayUsedMillis(), v.heldMillis(), v.windows().dayEndMillis()));
        out.put("override", override(v.override()));
        out.put("exceeded", v.refusal() == null ? null : v.refusal().window().window());
        out.put("exceeded_until", v.refusal() == null ? null : Instant.ofEpochMilli(v.refusal().resetAtMillis()).toString());
        return out;
    }

    private static Map<String, Object> money(long limit, long spent, long held, long resetAtMillis) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("limit_usd", limit == BudgetLimits.NONE ? null : Money.usd(limit));
        m.put("spent_usd", Money.usd(spent));
        m.put("reserved_usd", Money.usd(held));
        m.put("remaining_usd", limit == BudgetLimits.NONE ? null : Money.usd(Math.max(0, limit - spent)));
        m.put("resets_at", Instant.ofEpochMilli(resetAtMillis).toString());
        return m;
    }

    private static Map<String, Object> minutes(long limit, long used, long held, long resetAtMillis) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("limit", limit == BudgetLimits.NONE ? null : minutes(limit));
        m.put("used", minutes(used));
        m.put("reserved", minutes(held));
        m.put("remaining", limit == BudgetLimits.NONE ? null : minutes(Math.max(0, limit - used)));
        m.put("resets_at", Instant.ofEpochMilli(resetAtMillis).toString());
        return m;
    }

    private static Map<String, Object> override(BudgetOverride o) {
        if (o == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        field(m, "day_usd", o.dayNanoUsd(), Money::usd);
        field(m, "month_usd", o.monthNanoUsd(), Money::usd);
        field(m, "day_minutes", o.dayMillis(), ClientBudgetView::minutes);
        m.put("updated_at", Instant.ofEpochMilli(o.updatedAtMillis()).toString());
        return m;
    }

    private static void field(Map<String, Object> m, String name, long value, java.util.function.LongFunction<BigDecimal> show) {
        if (value != BudgetOverride.INHERIT) {
            m.put(name, value == BudgetLimits.NONE ? null : show.apply(value));
        }
    }

    /** Milliseconds as minutes, to five places. */
    public static BigDecimal minutes(long millis) {
        BigDecimal m = BigDecimal.valueOf(millis).divide(BigDecimal.valueOf(60_000), 5, RoundingMode.HALF_UP).stripTrailingZeros();
        return m.scale() < 0 ? m.setScale(0) : m;
    }
}
