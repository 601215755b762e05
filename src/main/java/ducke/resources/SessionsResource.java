package ducke.resources;

import ducke.api.JournaledUsageResponse;
import ducke.api.LiveSessionView;
import ducke.api.SessionCapRequest;
import ducke.api.SessionView;
import ducke.api.StartSessionRequest;
import ducke.api.StartSessionResponse;
import ducke.api.UsageRequest;
import ducke.api.UsageResponse;
import ducke.core.auth.Role;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.ModelAllowList;
import ducke.core.cost.Money;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionPauses;
import ducke.core.cost.TokenUsage;
import ducke.core.ratelimit.Endpoints;
import ducke.errors.ApiException;
import ducke.errors.CostExceptions;
import ducke.errors.ErrorWords;
import ducke.errors.RateLimitExceptions;
import ducke.http.RateLimitFilter;
import ducke.http.RateLimitGate;
import ducke.relay.RelayRegistry;
import jakarta.annotation.security.RolesAllowed;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.function.Supplier;

/** The session API for trusted backends that talk to the model themselves and report usage. */
@Path("/v1/sessions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@RolesAllowed(Role.SERVICE_NAME)
public final class SessionsResource {

    static final Pattern MODEL = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final CostGuard guard;
    private final RateLimitGate rateLimits;
    private final Clock clock;
    private final Supplier<ModelAllowList> models;
    private final ClientIds clientIds;
    private final KeyedAnswers keyedAnswers;
    private final SessionCapChange caps;

    /**
     * @param models       the models a session may ask for (priced or allowed for the relay), read per request:
     *                     the cluster's settings may price more
     * @param keyedAnswers the first answers to keyed usage reports
     */
    public SessionsResource(CostGuard guard, RateLimitGate rateLimits, Clock clock, Supplier<ModelAllowList> models,
                            ClientIds clientIds,
                            KeyedAnswers keyedAnswers, RelayRegistry relayed, SessionPauses pauses) {
        this.keyedAnswers = keyedAnswers;
        this.caps = new SessionCapChange(guard, relayed, pauses);
        this.guard = guard;
        this.rateLimits = rateLimits;
        this.clock = clock;
        this.models = models;
        this.clientIds = clientIds;
    }

    /**
     * Opens a session through the same gates as a realtime handshake. Every answer carries the
     * headers of the session-start limit it was counted against (not those of the route).
     */
    @POST
    public Response start(StartSessionRequest body, @Context HttpServletRequest request) {
        String client = startingClient(body, request);
        String model = allowedModel(body == null ? null : body.model());
        RateLimitGate.Checked limited = rateLimits.check(Endpoints.WEBSOCKET, client);
        if (!limited.permitted()) {
            throw RateLimitExceptions.of(limited.outcome(), limited.nowMillis());
        }
        long now = limited.nowMillis();
        CostGuard.Start start = guard.start(client, model, "", now);
        if (!start.started()) {
            ApiException refused = CostExceptions.refused(start, guard.limits(), now);
            limited.headers().forEach(refused.headers()::putIfAbsent);
            throw refused;
        }
        SessionLedger l = start.ledger();
        Response.ResponseBuilder r = Response.status(201).entity(new StartSessionResponse(l.sessionId(), l.clientId(),
                l.model(), Money.usd(l.maxCostNanoUsd()), (l.expiresAtMillis() - l.startedAtMillis()) / 1000,
                Instant.ofEpochMilli(l.startedAtMillis()).toString(), Instant.ofEpochMilli(l.expiresAtMillis()).toString(),
                l.priceVersion()));
        limited.headers().forEach(r::header);
        return r.build();
    }

    /** The client a new session is for: {@code client_id}, or the caller; 422 for unknown fields. */
    private String startingClient(StartSessionRequest body, HttpServletRequest request) {
        if (body != null) {
            KnownFields.require(body.unknownFields(), "a session takes only client_id and model");
        }
        return body == null || body.clientId() == null || body.clientId().isBlank()
                ? (String) request.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE) : clientIds.canonical(body.clientId());
    }

    /** The requested model when it is allowed, the default when none is asked for; 422 otherwise. */
    private String allowedModel(String requested) {
        String named = model(requested, null);
        ModelAllowList allowed = models.get();
        return allowed.choose(named).orElseThrow(() -> new ApiException(422, ErrorWords.INVALID_REQUEST, "Model '" + named
                + "' is not allowed; allowed: " + String.join(", ", allowed.allowed()), Map.of("allowed_models", allowed.allowed()), Map.of()));
    }

    /**
     * Charges a usage report, priced by the model it names (the session's model when it names none).
     * A session that has ended (within retention) and a report while the breaker is open are
     * charged all the same: the answer says so ({@code session_ended}, {@code circuit_breaker_active}).
     * A node without the cluster's quorum answers 202: the report is journaled and charged, exactly
     * once, when the partition heals. A report with an idempotency key ({@link ReportKeys}) that the
     * session was charged already charges nothing and gets the first answer again ({@link KeyedAnswers});
     * the key with a different report is a 422.
     */
    @POST
    @Path("/{id}/usage")
    public Response usage(@PathParam("id") String id, @HeaderParam(ReportKeys.HEADER) List<String> idempotencyKey,
                          UsageRequest body) {
        requireWellFormed(id);
        String key = ReportKeys.of(idempotencyKey, body == null ? null : body.reportId());
        TokenUsage usage = UsageParser.parse(body);
        String model = body.model() == null ? null : model(body.model(), null);
        long now = clock.millis();
        CostGuard.Usage u = guard.report(id, model, usage, key == null ? null : ReportKeys.CHARGE_PREFIX + key, now);
        if (u.conflicting()) {
            throw ReportKeys.reused(key);
        }
        if (u.journaled()) {
            return Response.status(202).entity(new JournaledUsageResponse(id, true,
                    key != null ? key : guard.writer() + "#" + u.journalSeq(), model, usage.inputTokens(),
                    usage.outputTokens(), "This node cannot reach a quorum of the cluster: "
                    + "the report is kept here and charged once the partition heals")).build();
        }
        if (u.ledger() == null) {
            throw CostExceptions.notFound(id);
        }
        if (key == null) {
            return Response.ok(UsageAnswers.of(id, model, usage, u, guard.limits(), now)).build();
        }
        String answer = u.repeated()
                ? keyedAnswers.repeat(u.ledger(), key, () -> UsageAnswers.of(id, model, usage, u, guard.limits(), now), now)
                : keyedAnswers.first(u.ledger(), key, UsageAnswers.of(id, model, usage, u, guard.limits(), now), now);
        return Response.ok(answer, MediaType.APPLICATION_JSON_TYPE).build();
    }

    @GET
    @Path("/{id}")
    public LiveSessionView get(@PathParam("id") String id) {
        requireWellFormed(id);
        return caps.view(guard.get(id).orElseThrow(() -> CostExceptions.notFound(id)));
    }

    /**
     * Sets a live session's cap ({@code max_cost_usd}, more than its cost so far), raised or
     * lowered, atomically in the grid; a realtime session paused at its old cap resumes when its
     * next response fits the new one ({@link SessionCapChange}). 404 unknown, 409 ended, 422 a bad cap.
     */
    @PATCH
    @Path("/{id}")
    public LiveSessionView patch(@PathParam("id") String id, SessionCapRequest body) {
        requireWellFormed(id);
        return caps.apply(id, body);
    }

    /** Ends the session and returns its final record, exactly as {@code GET} shows it from then on. */
    @DELETE
    @Path("/{id}")
    public SessionView end(@PathParam("id") String id) {
        requireWellFormed(id);
        var ended = guard.end(id, EndReason.API_ENDED, clock.millis()).orElseThrow(() -> CostExceptions.notFound(id));
        if (!ended.endedNow()) {
            throw CostExceptions.ended(id, ended.ledger().endReason().label());
        }
        return SessionView.of(ended.ledger());
    }

    private static void requireWellFormed(String id) {
        if (!SessionIds.wellFormed(id)) {
            throw CostExceptions.notFound(id.length() > 48 ? id.substring(0, 48) + "…" : id);
        }
    }

    private static String model(String requested, String fallback) {
        if (requested == null || requested.isBlank()) {
            return fallback;
        }
        if (!MODEL.matcher(requested.strip()).matches()) {
            throw ApiException.invalid(422, "model must be 1-64 characters of A-Z a-z 0-9 . _ : -");
        }
        return requested.strip();
    }
}
