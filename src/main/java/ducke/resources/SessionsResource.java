package ducke.resources;

import ducke.api.SessionView;
import ducke.api.StartSessionRequest;
import ducke.api.StartSessionResponse;
import ducke.api.UsageRequest;
import ducke.api.UsageResponse;
import ducke.core.auth.Role;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionLedger;
import ducke.core.ratelimit.Endpoints;
import ducke.errors.ApiException;
import ducke.errors.CostExceptions;
import ducke.errors.RateLimitExceptions;
import ducke.http.RateLimitFilter;
import ducke.http.RateLimitGate;
import jakarta.annotation.security.RolesAllowed;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.time.Clock;
import java.time.Instant;
import java.util.regex.Pattern;

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
    private final String defaultModel;

    public SessionsResource(CostGuard guard, RateLimitGate rateLimits, Clock clock, String defaultModel) {
        this.guard = guard;
        this.rateLimits = rateLimits;
        this.clock = clock;
        this.defaultModel = defaultModel;
    }

    /** Opens a session through the same gates as a realtime handshake. */
    @POST
    public Response start(StartSessionRequest body, @Context HttpServletRequest request) {
        String client = body == null || body.clientId() == null || body.clientId().isBlank()
                ? (String) request.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE) : ClientIds.canonical(body.clientId());
        String model = model(body == null ? null : body.model(), defaultModel);
        RateLimitGate.Checked limited = rateLimits.check(Endpoints.WEBSOCKET, client);
        if (!limited.permitted()) {
            throw RateLimitExceptions.of(limited.outcome(), limited.nowMillis());
        }
        long now = limited.nowMillis();
        CostGuard.Start start = guard.start(client, model, "", now);
        if (!start.started()) {
            throw CostExceptions.refused(start, guard.limits(), now);
        }
        SessionLedger l = start.ledger();
        return Response.status(201).entity(new StartSessionResponse(l.sessionId(), l.clientId(), l.model(),
                Money.usd(l.maxCostNanoUsd()), guard.limits().maxSessionDurationMillis() / 1000,
                Instant.ofEpochMilli(l.startedAtMillis()).toString(), Instant.ofEpochMilli(l.expiresAtMillis()).toString(),
                l.priceVersion())).build();
    }

    @POST
    @Path("/{id}/usage")
    public UsageResponse usage(@PathParam("id") String id, UsageRequest body) {
        requireWellFormed(id);
        var usage = UsageParser.parse(body);
        String model = body.model() == null ? null : model(body.model(), null);
        long now = clock.millis();
        CostGuard.Usage u = guard.report(id, model, usage, now);
        if (u.ledger() == null) {
            throw CostExceptions.notFound(id);
        }
        if (!u.applied()) {
            throw CostExceptions.ended(id, u.ledger().endReason().label());
        }
        SessionLedger l = u.ledger();
        return new UsageResponse(id, model == null ? l.model() : model, usage.inputTokens(), usage.outputTokens(),
                Money.usd(u.callCostNanoUsd()), Money.usd(l.costNanoUsd()), u.budgetOk(),
                Money.usd(l.remainingBudgetNanoUsd()), l.remainingDurationSeconds(now), u.spend().breakerOpenAt(now),
                Money.usd(u.spend().hourlyNanoUsd()), Money.usd(guard.limits().maxHourlyCostNanoUsd()), u.warnings(),
                u.warningNow(), !l.active(), l.active() ? null : l.endReason().label(), l.priceVersion());
    }

    @GET
    @Path("/{id}")
    public SessionView get(@PathParam("id") String id) {
        requireWellFormed(id);
        return SessionView.of(guard.get(id).orElseThrow(() -> CostExceptions.notFound(id)));
    }

    /** Ends the session and returns its final record. */
    @DELETE
    @Path("/{id}")
    public SessionView end(@PathParam("id") String id) {
        requireWellFormed(id);
        var ended = guard.end(id, EndReason.API_ENDED, clock.millis()).orElseThrow(() -> CostExceptions.notFound(id));
        if (!ended.endedNow()) {
            throw CostExceptions.ended(id, ended.ledger().endReason().label());
        }
        return SessionView.of(ended.ledger().record());
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
