package ducke.resources;

import ducke.core.cost.Money;
import ducke.core.cost.TokenKind;
import ducke.db.AuditDao;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** One summary group as JSON: exact money, tokens by kind, average duration. */
final class AuditSummaries {

    private AuditSummaries() {
    }

    /** A journal row with its {@code at_ms} shown as an ISO instant {@code at}, money exact. */
    static Map<String, Object> withInstant(Map<String, Object> row) {
        Map<String, Object> m = new LinkedHashMap<>();
        row.forEach((k, v) -> {
            if (k.equalsIgnoreCase("at_ms")) {
                m.put("at", Instant.ofEpochMilli(((Number) v).longValue()).toString());
            } else if (v instanceof java.math.BigDecimal d) {
                m.put(k.toLowerCase(java.util.Locale.ROOT), Money.usd(Money.nanoUsd(d)));
            } else {
                m.put(k.toLowerCase(java.util.Locale.ROOT), v);
            }
        });
        return m;
    }

    static Map<String, Object> row(AuditDao.SummaryRow r, AuditDao.GroupBy group) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", group.byTime() ? Instant.ofEpochMilli(Long.parseLong(r.key())).toString() : r.key());
        m.put("sessions", r.sessions());
        m.put("total_cost_usd", Money.usd(Money.nanoUsd(r.costUsd())));
        Map<String, Long> tokens = new LinkedHashMap<>();
        for (TokenKind k : TokenKind.values()) {
            tokens.put(k.label(), r.tokens().get(k));
        }
        m.put("tokens", tokens);
        m.put("average_duration_seconds", r.averageDurationSeconds());
        return m;
    }
}
