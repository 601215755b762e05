package ducke.relay;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.cluster.ClusterNode;
import ducke.core.cost.ModelAllowList;
import ducke.core.cost.SessionLedger;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import ducke.errors.RootCause;
import ducke.http.ErrorResponses;
import ducke.http.RateLimitFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code POST /v1/realtime/calls}: a browser's WebRTC call, metered like a relayed session. The
 * offer passes the relay's gates (the per-client rate limit has run in {@link RateLimitFilter}):
 * upstream configured, origin, a well-formed offer, model, node accepting, the client secret
 * ({@code RELAY_CLIENT_AUTH}), then the cost gates (breaker, hourly caps, concurrent sessions),
 * before anything reaches the provider. It is then forwarded with the server's key and a session
 * configuration the guard sets (model, output clamp); the provider's SDP answer goes back with
 * {@code Location: /v1/realtime/calls/{session id}}, and the node attaches the call's sideband
 * ({@link RelaySession#callCreated}). A refused or failed offer leaves no ledger, slot or call.
 * Cross-origin pages listed in {@code ALLOWED_ORIGINS} get CORS answers (preflight included).
 */
final class CallsServlet extends HttpServlet {

    private static final Logger LOG = LoggerFactory.getLogger(CallsServlet.class);

    static final String PATH = "/v1/realtime/calls";
    /** Request headers a page may send with its offer (the official SDK sends the last one). */
    private static final Set<String> ALLOWED_HEADERS = Set.of("authorization", "content-type", "openai-beta",
            "x-openai-agents-sdk");

    private final transient RelayContext ctx;
    private final transient CallContext calls;
    private final transient ClusterNode cluster;
    private final transient ErrorResponses errors;
    private final transient OriginCheck origins;
    private final transient ModelAllowList models;
    private final transient RealtimeAdmission admission;
    private final transient ObjectMapper mapper;

    CallsServlet(RelayContext ctx, CallContext calls, ClusterNode cluster, ErrorResponses errors, OriginCheck origins,
                 ModelAllowList models, ClientAuth clientAuth) {
        this.ctx = ctx;
        this.calls = calls;
        this.cluster = cluster;
        this.errors = errors;
        this.origins = origins;
        this.models = models;
        this.admission = new RealtimeAdmission(ctx.guard(), cluster, ctx.clock(), clientAuth, ctx.minInputReserveTokens());
        this.mapper = ctx.mapper();
    }

    /** A CORS preflight: answered for allowed origins, 403 otherwise. */
    @Override
    protected void doOptions(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String origin = request.getHeader("Origin");
        if (origin == null || !origins.allowed(origin, request)) {
            errors.write(response, RealtimeAdmission.originNotAllowed());
            return;
        }
        String asked = request.getHeader("Access-Control-Request-Headers");
        String headers = asked == null ? "" : Arrays.stream(asked.split(",")).map(h -> h.strip().toLowerCase(Locale.ROOT))
                .filter(ALLOWED_HEADERS::contains).collect(Collectors.joining(", "));
        cors(response, origin);
        response.setHeader("Access-Control-Allow-Methods", "POST");
        if (!headers.isEmpty()) {
            response.setHeader("Access-Control-Allow-Headers", headers);
        }
        response.setHeader("Access-Control-Max-Age", "600");
        response.setStatus(204);
    }

    private static void cors(HttpServletResponse response, String origin) {
        response.setHeader("Access-Control-Allow-Origin", origin.strip());
        response.setHeader("Access-Control-Expose-Headers", "Location, Retry-After");
        response.addHeader("Vary", "Origin");
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String origin = request.getHeader("Origin");
        if (origin != null && origins.allowed(origin, request)) {
            cors(response, origin);
        }
        String outcome = offer(request, response);
        ctx.metrics().callOffer(outcome);
    }

    /** Answers the offer; returns its outcome for the metrics. */
    private String offer(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (ctx.apiKey().isBlank()) {
            errors.write(response, RealtimeAdmission.upstreamNotConfigured());
            return "upstream_unavailable";
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !origins.allowed(origin, request)) {
            errors.write(response, RealtimeAdmission.originNotAllowed());
            return "origin_forbidden";
        }
        CallOffer offer;
        try {
            offer = CallOffer.parse(request.getContentType(), body(request), mapper);
        } catch (CallOffer.Invalid e) {
            errors.write(response, ApiException.invalid(e.status(), e.getMessage()));
            return "bad_offer";
        }
        String asked = request.getParameter("model") != null ? request.getParameter("model") : offer.requestedModel();
        var chosen = models.choose(asked);
        if (chosen.isEmpty()) {
            errors.write(response, RealtimeAdmission.modelNotAllowed(models));
            return "model_forbidden";
        }
        String forbiddenTool = offer.forbiddenTool(ctx.allowedInput().toolTypes());
        if (forbiddenTool != null) {
            errors.write(response, ApiException.invalid(400, forbiddenTool));
            return "bad_offer";
        }
        if (!ctx.registry().accepting()) {
            errors.write(response, new ApiException(503, ErrorWords.UPSTREAM_UNAVAILABLE,
                    "This server is shutting down; call another", Map.of(), Map.of("Retry-After", "1")));
            return "shutting_down";
        }
        RealtimeAdmission.Result admitted = admission.admit(request,
                (String) request.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE), chosen.get());
        if (!admitted.admitted()) {
            errors.write(response, admitted.refusal());
            return admitted.outcome();
        }
        Handshake handshake = admitted.handshake();
        SessionLedger reserved = handshake.ledger();
        String model = reserved.model();
        String client = handshake.client();
        RelaySession session = RelaySession.call(ctx, handshake, calls);
        ProviderCalls.Answer answer;
        try {
            answer = calls.provider().create(offer.forProvider(mapper, model, session.callClamp()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            handshake.abandon();
            errors.write(response, upstreamFailed());
            return "upstream_failed";
        } catch (Exception e) {
            handshake.abandon();
            ctx.metrics().connectFailure();
            LOG.warn("The provider's calls endpoint {} cannot be reached: {}", calls.provider().uri(), RootCause.of(e));
            errors.write(response, upstreamFailed());
            return "upstream_failed";
        }
        if (!answer.created()) {
            handshake.abandon();
            return refusedByProvider(response, answer);
        }
        if (!session.callCreated(answer.callId())) {
            handshake.abandon();
            calls.provider().hangup(answer.callId());
            errors.write(response, new ApiException(503, ErrorWords.CLUSTER_DEGRADED,
                    "The call could not be opened; retry", Map.of(), Map.of("Retry-After", "1")));
            return "sideband_failed";
        }
        LOG.info("Call {} created for {} (provider call {})", reserved.sessionId(), client, answer.callId());
        response.setStatus(answer.status());
        response.setHeader("Location", PATH + "/" + reserved.sessionId());
        response.setContentType("application/sdp");
        response.getOutputStream().write(answer.body().getBytes(StandardCharsets.UTF_8));
        return "created";
    }

    private static ApiException upstreamFailed() {
        return new ApiException(502, ErrorWords.UPSTREAM_UNAVAILABLE, "The provider could not take the call; retry",
                Map.of(), Map.of("Retry-After", "5"));
    }

    /**
     * The provider refused the offer: its status (a 4xx says what was wrong with the offer, and
     * its message is passed on; a 5xx or a 2xx without a call is the provider's failure: 502).
     */
    private String refusedByProvider(HttpServletResponse response, ProviderCalls.Answer answer) throws IOException {
        LOG.warn("The provider refused a call offer with {}", answer.status());
        if (answer.status() / 100 == 4 && answer.status() != 401 && answer.status() != 403 && answer.status() != 429) {
            String message = providerMessage(answer.body());
            errors.write(response, ApiException.invalid(answer.status(),
                    "The provider refused the offer" + (message == null ? "" : ": " + message)));
        } else {
            // the server's key refused or its quota spent: the operator's problem, not the caller's
            errors.write(response, upstreamFailed());
        }
        return "upstream_refused";
    }

    private String providerMessage(String body) {
        try {
            String m = mapper.readTree(body).path("error").path("message").asText("");
            return m.isEmpty() ? null : m.length() > 200 ? m.substring(0, 200) + "…" : m;
        } catch (Exception e) {
            return null;
        }
    }

    private static byte[] body(HttpServletRequest request) throws IOException, CallOffer.Invalid {
        try (InputStream in = request.getInputStream()) {
            byte[] b = in.readNBytes(CallOffer.MAX_BYTES + 1);
            if (b.length > CallOffer.MAX_BYTES) {
                throw new CallOffer.Invalid(413, "The offer is larger than " + CallOffer.MAX_BYTES / 1024 + " KiB");
            }
            return b;
        }
    }
}
