package ducke.resources;

import ducke.core.cost.EndReason;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import ducke.errors.ApiException;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** The audit queries' parameters, parsed and checked: each bad one is a 400 naming it. */
final class AuditFilters {

    static final int MAX_LIMIT = 1000;

    private AuditFilters() {
    }

    static AuditQuery query(String from, String to, String client, String model, String endReason, String minCost,
                            ClientIds clientIds) {
        Long fromMillis = instant("from", from);
        Long toMillis = instant("to", to);
        if (fromMillis != null && toMillis != null && fromMillis >= toMillis) {
            throw ApiException.invalid(400, "from must be before to");
        }
        return new AuditQuery(fromMillis, toMillis, clientKey(client, clientIds), text("model", model), reason(endReason), cost(minCost));
    }

    static AuditDao.GroupBy groupBy(String text) {
        if (text == null || text.isBlank()) {
            throw ApiException.invalid(400, "group_by is required: hour, day, model, client or end_reason");
        }
        try {
            return AuditDao.GroupBy.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(400, "group_by must be hour, day, model, client or end_reason");
        }
    }

    /** The {@code session} a query is about: required, at most as long as a session id can be. */
    static String session(String text) {
        if (text == null || text.isBlank()) {
            throw ApiException.invalid(400, "session is required: the id of a session");
        }
        if (text.strip().length() > 64) {
            throw ApiException.invalid(400, "session is too long to be a session id");
        }
        return text.strip();
    }

    static int limit(String text) {
        try {
            int n = Integer.parseInt(text.strip());
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiException.invalid(400, "limit must be a whole number from 1 to " + MAX_LIMIT);
    }

    /** ISO-8601 instants ({@code 2026-11-27T10:00:00Z}) or dates ({@code 2026-11-27}, midnight UTC). */
    static Long instant(String name, String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String s = text.strip();
        try {
            return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli()
                    : Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(400, name + " must be an ISO-8601 instant like 2026-11-27T10:00:00Z or a date");
        }
    }

    /** An address filters by the client key it makes (its network); anything else is matched as given. */
    private static String clientKey(String client, ClientIds clientIds) {
        return client == null || client.isBlank() ? null : clientIds.keyOrSelf(text("client", client));
    }

    private static String text(String name, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        if (value.length() > 128) {
            throw ApiException.invalid(400, name + " is too long");
        }
        return value.strip();
    }

    private static String reason(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return EndReason.fromLabel(text.strip()).label();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(400, "end_reason must be one of " + String.join(", ",
                    java.util.Arrays.stream(EndReason.values()).map(EndReason::label).toList()));
        }
    }

    private static BigDecimal cost(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            BigDecimal v = new BigDecimal(text.strip());
            if (v.signum() >= 0 && v.scale() <= 9 && v.precision() - v.scale() <= 11) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiException.invalid(400, "min_cost must be a non-negative USD amount");
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
