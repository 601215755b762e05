package ducke.resources;

import ducke.core.cost.Money;
import ducke.core.cost.TokenKind;
import ducke.db.AuditDao;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

    /** The summary as CSV, with the same columns as its JSON groups (tokens flattened by kind). */
    static String csv(List<AuditDao.SummaryRow> rows, AuditDao.GroupBy group) {
        StringBuilder csv = new StringBuilder(group.name().toLowerCase(Locale.ROOT)).append(",sessions,total_cost_usd");
        for (TokenKind k : TokenKind.values()) {
            csv.append(',').append(k.label()).append("_tokens");
        }
        csv.append(",average_duration_seconds\n");
        for (AuditDao.SummaryRow r : rows) {
            List<Object> fields = new ArrayList<>(List.of(key(r, group), r.sessions(),
                    Money.usd(Money.nanoUsd(r.costUsd())).toPlainString()));
            for (TokenKind k : TokenKind.values()) {
                fields.add(r.tokens().get(k));
            }
            fields.add(r.averageDurationSeconds().toPlainString());
            csv.append(Csv.row(fields.toArray()));
        }
        return csv.toString();
    }

    private static String key(AuditDao.SummaryRow r, AuditDao.GroupBy group) {
        return group.byTime() ? Instant.ofEpochMilli(Long.parseLong(r.key())).toString() : r.key();
    }

    static Map<String, Object> row(AuditDao.SummaryRow r, AuditDao.GroupBy group) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key(r, group));
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
