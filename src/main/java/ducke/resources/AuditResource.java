package ducke.resources;

import ducke.api.ChargeView;
import ducke.api.SessionView;
import ducke.core.auth.Role;
import ducke.core.cost.Money;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenKind;
import ducke.db.AuditDao;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Audit queries for operators: finished sessions (JSON or CSV) and summaries. */
@Path("/v1/audit")
@RolesAllowed(Role.OPERATOR_NAME)
public final class AuditResource {

    static final Set<String> SESSION_PARAMS = Set.of("from", "to", "client", "model", "end_reason", "min_cost", "limit", "cursor");
    static final Set<String> SUMMARY_PARAMS = Set.of("group_by", "from", "to", "client", "model", "end_reason", "min_cost");
    static final Set<String> JOURNAL_PARAMS = Set.of("limit");
    static final Set<String> CHARGE_PARAMS = Set.of("session", "limit", "cursor");

    private final AuditDao dao;
    private final Clock clock;
    private final ClientIds clientIds;

    /**
     * JSON is the answer unless the client asks for CSV: with no {@code Accept} (or {@code *}{@code /*}) both
     * methods would match equally and Jersey's pick would depend on reflection order.
     */
    static final String JSON = "application/json;qs=1";
    static final String CSV = "text/csv;qs=0.5";

    public AuditResource(AuditDao dao, Clock clock, ClientIds clientIds) {
        this.dao = dao;
        this.clock = clock;
        this.clientIds = clientIds;
    }

    @GET
    @Path("/sessions")
    @Produces(JSON)
    public Map<String, Object> sessions(@QueryParam("from") String from, @QueryParam("to") String to,
                                        @QueryParam("client") String client, @QueryParam("model") String model,
                                        @QueryParam("end_reason") String endReason, @QueryParam("min_cost") String minCost,
                                        @QueryParam("limit") String limit, @QueryParam("cursor") String cursor,
                                        @Context UriInfo uri) {
        KnownParams.require(uri, SESSION_PARAMS);
        AuditDao.Page page = page(from, to, client, model, endReason, minCost, limit, cursor);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sessions", page.records().stream().map(r -> SessionView.of(r, page.models(r.sessionId()),
                page.pauses(r.sessionId()).count(), page.pauses(r.sessionId()).pausedMillis())).toList());
        body.put("next_cursor", page.nextCursor());
        return body;
    }

    @GET
    @Path("/sessions")
    @Produces(CSV)
    public String sessionsCsv(@QueryParam("from") String from, @QueryParam("to") String to,
                              @QueryParam("client") String client, @QueryParam("model") String model,
                              @QueryParam("end_reason") String endReason, @QueryParam("min_cost") String minCost,
                              @QueryParam("limit") String limit, @QueryParam("cursor") String cursor,
                              @Context UriInfo uri) {
        KnownParams.require(uri, SESSION_PARAMS);
        AuditDao.Page page = page(from, to, client, model, endReason, minCost, limit, cursor);
        StringBuilder csv = new StringBuilder(
                "session_id,client_id,node,model,started_at,ended_at,duration_seconds,end_reason,"
                        + "text_input_tokens,audio_input_tokens,cached_input_tokens,text_output_tokens,audio_output_tokens,"
                        + "charged_responses,cost_usd,price_version,models,pauses,paused_seconds\n");
        for (SessionRecord r : page.records()) {
            csv.append(Csv.row(r.sessionId(), r.clientId(), r.nodeName(), r.model(), Instant.ofEpochMilli(r.startedAtMillis()),
                    Instant.ofEpochMilli(r.endedAtMillis()), BigDecimal.valueOf(r.durationMillis(), 3).toPlainString(),
                    r.endReason().label(), r.tokens().get(TokenKind.TEXT_INPUT), r.tokens().get(TokenKind.AUDIO_INPUT),
                    r.tokens().get(TokenKind.CACHED_INPUT), r.tokens().get(TokenKind.TEXT_OUTPUT),
                    r.tokens().get(TokenKind.AUDIO_OUTPUT), r.chargedResponses(), Money.usd(r.costNanoUsd()).toPlainString(),
                    r.priceVersion(), String.join(",", page.models(r.sessionId())), page.pauses(r.sessionId()).count(),
                    BigDecimal.valueOf(page.pauses(r.sessionId()).pausedMillis(), 3).toPlainString()));
        }
        return csv.toString();
    }

    @GET
    @Path("/summary")
    @Produces(JSON)
    public Map<String, Object> summary(@QueryParam("group_by") String groupBy, @QueryParam("from") String from,
                                       @QueryParam("to") String to, @QueryParam("client") String client,
                                       @QueryParam("model") String model, @QueryParam("end_reason") String endReason,
                                       @QueryParam("min_cost") String minCost, @Context UriInfo uri) {
        KnownParams.require(uri, SUMMARY_PARAMS);
        AuditDao.GroupBy group = AuditFilters.groupBy(groupBy);
        List<AuditDao.SummaryRow> rows = dao.summary(AuditFilters.query(from, to, client, model, endReason, minCost, clientIds), group);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("group_by", group.name().toLowerCase(Locale.ROOT));
        body.put("groups", rows.stream().map(r -> AuditSummaries.row(r, group)).toList());
        return body;
    }

    /** The same summary as CSV: one row per group, tokens by kind in columns. */
    @GET
    @Path("/summary")
    @Produces(CSV)
    public String summaryCsv(@QueryParam("group_by") String groupBy, @QueryParam("from") String from,
                             @QueryParam("to") String to, @QueryParam("client") String client,
                             @QueryParam("model") String model, @QueryParam("end_reason") String endReason,
                             @QueryParam("min_cost") String minCost, @Context UriInfo uri) {
        KnownParams.require(uri, SUMMARY_PARAMS);
        AuditDao.GroupBy group = AuditFilters.groupBy(groupBy);
        return AuditSummaries.csv(dao.summary(AuditFilters.query(from, to, client, model, endReason, minCost, clientIds), group), group);
    }

    /** One session's charges, oldest first, each priced by the model named. */
    @GET
    @Path("/charges")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> charges(@QueryParam("session") String session, @QueryParam("limit") String limit,
                                       @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        KnownParams.require(uri, CHARGE_PARAMS);
        String id = AuditFilters.session(session);
        int n = limit == null ? 100 : AuditFilters.limit(limit);
        AuditDao.ChargePage page;
        try {
            page = dao.charges(id, n, AuditFilters.blankToNull(cursor));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(400, "cursor is not valid: use next_cursor of a previous page");
        }
        if (page.charges().isEmpty() && cursor == null && !dao.knows(id)) {
            throw new ApiException(404, ErrorWords.SESSION_NOT_FOUND, "The audit store has no session '" + id + "'");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("session_id", id);
        body.put("charges", page.charges().stream().map(ChargeView::of).toList());
        body.put("next_cursor", page.nextCursor());
        return body;
    }

    /** The latest admin actions, newest first. */
    @GET
    @Path("/admin-actions")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> adminActions(@QueryParam("limit") String limit, @Context UriInfo uri) {
        KnownParams.require(uri, JOURNAL_PARAMS);
        return Map.of("admin_actions", dao.adminActions(limit == null ? 100 : AuditFilters.limit(limit)).stream()
                .map(AuditSummaries::withInstant).toList());
    }

    /** The latest circuit-breaker changes, newest first. */
    @GET
    @Path("/breaker-changes")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> breakerChanges(@QueryParam("limit") String limit, @Context UriInfo uri) {
        KnownParams.require(uri, JOURNAL_PARAMS);
        return Map.of("breaker_changes", dao.breakerChanges(limit == null ? 100 : AuditFilters.limit(limit)).stream()
                .map(AuditSummaries::withInstant).toList());
    }

    private AuditDao.Page page(String from, String to, String client, String model, String endReason, String minCost,
                               String limit, String cursor) {
        int n = limit == null ? 100 : AuditFilters.limit(limit);
        try {
            return dao.sessions(AuditFilters.query(from, to, client, model, endReason, minCost, clientIds), n, AuditFilters.blankToNull(cursor));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(400, "cursor is not valid: use next_cursor of a previous page");
        }
    }
}
