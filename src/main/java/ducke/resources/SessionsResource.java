package ducke.resources;

import ducke.api.JournaledUsageResponse;
import ducke.api.LiveSessionView;
import ducke.api.ReservationRequest;
import ducke.api.ReservationView;
import ducke.api.SessionCapRequest;
import ducke.api.SessionView;
import ducke.api.StartSessionRequest;
import ducke.api.StartSessionResponse;
import ducke.api.UsageRequest;
import ducke.api.UsageResponse;
import ducke.core.auth.Role;
import ducke.core.cost.ApiReservations;
import ducke.core.cost.OpenReservations;
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
import com.fasterxml.jackson.databind.JsonNode;
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
    private final ApiReservations reservations;
    private final long maxReservationSeconds;

    /** How long a reservation waits for its report unless the request says: five minutes. */
    static final long DEFAULT_RESERVATION_SECONDS = 300;
    /** The longest a reservation may wait for its report: an hour, and half the ended sessions' retention at most. */
    static final long MAX_RESERVATION_SECONDS = 3600;

    /**
     * @param models       the models a session may ask for (priced or allowed for the relay), read per request:
     *                     the cluster's settings may price more
     * @param keyedAnswers the first answers to keyed usage reports
     * @param reservations the session API's per-response reservations
     * @param endedSessionRetentionMillis how long an ended session's ledger stays: no reservation lasts longer
     */
    public SessionsResource(CostGuard guard, RateLimitGate rateLimits, Clock clock, Supplier<ModelAllowList> models,
                            ClientIds clientIds,
                            KeyedAnswers keyedAnswers, RelayRegistry relayed, SessionPauses pauses,
                            ApiReservations reservations, long endedSessionRetentionMillis) {
        this.keyedAnswers = keyedAnswers;
        this.reservations = reservations;
        // an expired reservation is charged to its session's ledger, which must still be there when it is swept
        this.maxReservationSeconds = Math.max(1, Math.min(MAX_RESERVATION_SECONDS, endedSessionRetentionMillis / 2000));
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
        String reservation = reservationId(body.reservationId(), "reservation_id");
        long now = clock.millis();
        CostGuard.Usage u;
        if (reservation != null) {
            if (key != null) {
                throw ApiException.invalid(422, "A report that settles a reservation is keyed by its reservation_id: "
                        + "send it without report_id and " + ReportKeys.HEADER);
            }
            u = reservations.settle(id, reservation, model, usage, now).orElseThrow(() -> CostExceptions.notFound(id));
            if (u.conflicting()) {
                throw new ApiException(409, ErrorWords.RESERVATION_SETTLED, "Reservation '" + reservation + "' was charged "
                        + "before (its amount when it expired, or another report naming it); this report charged nothing",
                        Map.of("reservation_id", reservation), Map.of());
            }
            key = RESERVATION_KEY + reservation;
        } else {
            u = guard.report(id, model, usage, key == null ? null : ReportKeys.CHARGE_PREFIX + key, now);
        }
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

    /** Where the answer to a report that settled reservation {@code res_…} is kept, apart from report keys. */
    private static final String RESERVATION_KEY = "reservation:";

    /**
     * Reserves the worst case of the response the backend is about to ask the model for ({@code
     * input_tokens} at the model's dearest input rate, {@code max_output_tokens} at its dearest output
     * rate) against the session's cap, the client's hour, day and month and the breaker's window,
     * all or nothing: 201 with the reservation, 429 {@code session_budget_exceeded} or
     * {@code client_budget_exceeded}, 503 {@code circuit_breaker_open}; 404 unknown, 409 ended. The
     * usage report naming {@code reservation_id} settles it; at {@code expires_at} without one it is
     * charged its amount, estimated ({@link ApiReservations}).
     */
    @POST
    @Path("/{id}/reservations")
    public Response reserve(@PathParam("id") String id, ReservationRequest body) {
        requireWellFormed(id);
        if (body == null) {
            throw ApiException.invalid(422, "A reservation is required: {\"input_tokens\": N, \"max_output_tokens\": N}");
        }
        KnownFields.require(body.unknownFields(), "a reservation takes input_tokens, max_output_tokens and expires_in_seconds");
        long input = UsageParser.count("input_tokens", body.inputTokens(), true);
        long output = UsageParser.count("max_output_tokens", body.maxOutputTokens(), true);
        if (output < 1) {
            throw ApiException.invalid(422, "max_output_tokens must be at least 1");
        }
        long seconds = expiresIn(body.expiresInSeconds());
        long now = clock.millis();
        ApiReservations.Outcome o = reservations.reserve(id, input, output, seconds * 1000, now)
                .orElseThrow(() -> CostExceptions.notFound(id));
        if (o.refused() != null) {
            throw refused(id, o.refused(), now);
        }
        ApiReservations.Reserved r = o.reserved();
        return Response.status(201).entity(new ReservationView(r.open().id(), id, r.ledger().model(), r.inputTokens(),
                r.maxOutputTokens(), Money.usd(r.open().nanoUsd()), Instant.ofEpochMilli(r.open().expiresAtMillis()).toString()))
                .build();
    }

    /** Gives an open reservation back uncharged: 200, or 404 {@code reservation_not_found} when the session does not list it. */
    @DELETE
    @Path("/{id}/reservations/{reservation}")
    public Map<String, Object> release(@PathParam("id") String id, @PathParam("reservation") String reservation) {
        requireWellFormed(id);
        if (!OpenReservations.wellFormed(reservation) || !reservations.release(id, reservation, clock.millis())) {
            String shown = reservation.length() > 40 ? reservation.substring(0, 40) + "…" : reservation;
            throw new ApiException(404, ErrorWords.RESERVATION_NOT_FOUND, "Session '" + id + "' holds no open reservation '"
                    + KnownFields.printable(shown) + "'", Map.of(), Map.of());
        }
        Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("reservation_id", reservation);
        answer.put("session_id", id);
        answer.put("released", true);
        return answer;
    }

    private long expiresIn(JsonNode v) {
        if (v == null || v.isNull()) {
            return Math.min(DEFAULT_RESERVATION_SECONDS, maxReservationSeconds);
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1 || v.asLong() > maxReservationSeconds) {
            throw ApiException.invalid(422, "expires_in_seconds must be a whole number of seconds from 1 to " + maxReservationSeconds);
        }
        return v.asLong();
    }

    private static String reservationId(JsonNode v, String name) {
        String id = KnownFields.text(v, name);
        if (id != null && !OpenReservations.wellFormed(id)) {
            throw ApiException.invalid(422, name + " must be res_ followed by 24 hex digits, as a reservation's answer gave it");
        }
        return id;
    }

    private ApiException refused(String id, ApiReservations.Refused r, long now) {
        if (r.refusal() == null) {
            return CostExceptions.ended(id, r.ledger().endReason().label());
        }
        return switch (r.refusal()) {
            case CIRCUIT_BREAKER -> CostExceptions.breakerOpen(guard.refreshSpend(now), now);
            case NOT_API -> ApiException.invalid(422, "Session '" + id + "' is a realtime session or call: the relay "
                    + "reserves its responses itself; reservations are for sessions of the session API");
            case SESSION_BUDGET -> {
                Map<String, Object> details = new java.util.LinkedHashMap<>();
                details.put("reserved_usd", Money.usd(r.askedNanoUsd()));
                details.put("max_cost_usd", Money.usd(r.ledger().maxCostNanoUsd()));
                details.put("session_cost", Money.usd(r.ledger().costNanoUsd()));
                details.put("held_usd", Money.usd(r.heldNanoUsd()));
                yield new ApiException(429, ErrorWords.SESSION_BUDGET_EXCEEDED, "The session's cap cannot hold this response's "
                        + "worst case with its cost so far and its open reservations; settle or release one, or raise the cap",
                        details, Map.of());
            }
            case CLIENT_BUDGET -> new ApiException(429, ErrorWords.CLIENT_BUDGET_EXCEEDED, "This client's hourly, daily or "
                    + "monthly budget cannot hold this response's worst case now", Map.of("reserved_usd", Money.usd(r.askedNanoUsd()),
                    "retry_after_seconds", CLIENT_RETRY_SECONDS), Map.of("Retry-After", Long.toString(CLIENT_RETRY_SECONDS)));
        };
    }

    /** The client's hour ages out a minute at a time: when a refused reservation may be asked again. */
    private static final long CLIENT_RETRY_SECONDS = 60;

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
