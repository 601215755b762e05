package ducke.resources;

import ducke.api.SessionView;
import ducke.core.auth.Role;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenKind;
import ducke.core.identity.IpAddresses;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import ducke.errors.ApiException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Audit queries for operators: finished sessions (JSON or CSV) and summaries. */
@Path("/v1/audit")
@RolesAllowed(Role.OPERATOR_NAME)
public final class AuditResource {

    static final int MAX_LIMIT = 1000;

    private final AuditDao dao;
    private final Clock clock;

    public AuditResource(AuditDao dao, Clock clock) {
        this.dao = dao;
        this.clock = clock;
    }

    @GET
    @Path("/sessions")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> sessions(@QueryParam("from") String from, @QueryParam("to") String to,
                                        @QueryParam("client") String client, @QueryParam("model") String model,
                                        @QueryParam("end_reason") String endReason, @QueryParam("min_cost") String minCost,
                                        @QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        AuditDao.Page page = page(from, to, client, model, endReason, minCost, limit, cursor);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sessions", page.records().stream().map(SessionView::of).toList());
        body.put("next_cursor", page.nextCursor());
        return body;
    }

    @GET
    @Path("/sessions")
    @Produces("text/csv")
    public String sessionsCsv(@QueryParam("from") String from, @QueryParam("to") String to,
                              @QueryParam("client") String client, @QueryParam("model") String model,
                              @QueryParam("end_reason") String endReason, @QueryParam("min_cost") String minCost,
                              @QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        AuditDao.Page page = page(from, to, client, model, endReason, minCost, limit, cursor);
        StringBuilder csv = new StringBuilder(
                "session_id,client_id,node,model,started_at,ended_at,duration_seconds,end_reason,"
                        + "text_input_tokens,audio_input_tokens,cached_input_tokens,text_output_tokens,audio_output_tokens,"
                        + "charged_responses,cost_usd,price_version\n");
        for (SessionRecord r : page.records()) {
            csv.append(Csv.row(r.sessionId(), r.clientId(), r.nodeName(), r.model(), Instant.ofEpochMilli(r.startedAtMillis()),
                    Instant.ofEpochMilli(r.endedAtMillis()), BigDecimal.valueOf(r.durationMillis(), 3).toPlainString(),
                    r.endReason().label(), r.tokens().get(TokenKind.TEXT_INPUT), r.tokens().get(TokenKind.AUDIO_INPUT),
                    r.tokens().get(TokenKind.CACHED_INPUT), r.tokens().get(TokenKind.TEXT_OUTPUT),
                    r.tokens().get(TokenKind.AUDIO_OUTPUT), r.chargedResponses(), Money.usd(r.costNanoUsd()).toPlainString(),
                    r.priceVersion()));
        }
        return csv.toString();
    }

    @GET
    @Path("/summary")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> summary(@QueryParam("group_by") String groupBy, @QueryParam("from") String from,
                                       @QueryParam("to") String to, @QueryParam("client") String client,
                                       @QueryParam("model") String model, @QueryParam("end_reason") String endReason,
                                       @QueryParam("min_cost") String minCost) {
        AuditDao.GroupBy group = groupBy(groupBy);
        List<AuditDao.SummaryRow> rows = dao.summary(query(from, to, client, model, endReason, minCost), group);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("group_by", group.name().toLowerCase(Locale.ROOT));
        body.put("groups", rows.stream().map(r -> AuditSummaries.row(r, group)).toList());
        return body;
    }

    /** The latest admin actions, newest first. */
    @GET
    @Path("/admin-actions")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> adminActions(@QueryParam("limit") String limit) {
        return Map.of("admin_actions", dao.adminActions(limit == null ? 100 : parseLimit(limit)).stream()
                .map(AuditSummaries::withInstant).toList());
    }

    /** The latest circuit-breaker changes, newest first. */
    @GET
    @Path("/breaker-changes")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> breakerChanges(@QueryParam("limit") String limit) {
        return Map.of("breaker_changes", dao.breakerChanges(limit == null ? 100 : parseLimit(limit)).stream()
                .map(AuditSummaries::withInstant).toList());
    }

    private AuditDao.Page page(String from, String to, String client, String model, String endReason, String minCost,
                               String limit, String cursor) {
        int n = limit == null ? 100 : parseLimit(limit);
        try {
            return dao.sessions(query(from, to, client, model, endReason, minCost), n, blankToNull(cursor));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(400, "cursor is not valid: use next_cursor of a previous page");
        }
    }

    static AuditQuery query(String from, String to, String client, String model, String endReason, String minCost) {
        Long fromMillis = instant("from", from);
        Long toMillis = instant("to", to);
        if (fromMillis != null && toMillis != null && fromMillis >= toMillis) {
            throw ApiException.invalid(400, "from must be before to");
        }
        return new AuditQuery(fromMillis, toMillis, clientKey(client), text("model", model), reason(endReason), cost(minCost));
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

    private static int parseLimit(String text) {
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

    private static String clientKey(String client) {
        return client == null || client.isBlank() ? null : IpAddresses.canonical(client).orElse(text("client", client));
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
            throw ApiException.invalid(400, "end_reason must be one of client_closed, budget_exceeded, session_timeout, "
                    + "circuit_breaker, admin_ended, upstream_error, node_shutdown, node_lost, api_ended");
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

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
