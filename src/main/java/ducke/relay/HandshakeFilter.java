package ducke.relay;

import ducke.api.ErrorBody;
import ducke.cluster.ClusterNode;
import ducke.core.cost.CostGuard;
import ducke.core.cost.ModelAllowList;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import ducke.http.ErrorResponses;
import ducke.http.RateLimitFilter;
import ducke.metrics.RelayMetrics;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The gates of {@code /session}, answered as plain HTTP before any upgrade: not an upgrade → 426,
 * Origin not allowed → 403, model not allowed → 400, node shutting down → 503, then the cost gates
 * (breaker or hourly cap → 503, concurrent sessions → 429). The per-client handshake rate limit
 * (429) has already run in {@link RateLimitFilter}. A session that passes is opened here and
 * handed to the WebSocket creator with its slot reserved; its ledger is stored only once the upgrade
 * has completed ({@link Handshake}). Every other end gives the slot back: an upgrade refused below
 * this filter (any status but 101), a 101 that could not be written or a connection that was not
 * handed to the WebSocket ({@link UpgradeWatch}), a WebSocket closed before it opened. A refused or
 * aborted handshake leaves no ledger, audit row, slot or upstream connection.
 */
public final class HandshakeFilter implements Filter {

    static final String HANDSHAKE_ATTRIBUTE = "ducke.relay.handshake";

    private final RelayRegistry registry;
    private final ErrorResponses errors;
    private final RelayMetrics metrics;
    private final OriginCheck origins;
    private final ModelAllowList models;
    private final boolean upstreamConfigured;
    private final RealtimeAdmission admission;

    public HandshakeFilter(CostGuard guard, ClusterNode cluster, RelayRegistry registry, Clock clock, ErrorResponses errors,
                           RelayMetrics metrics, List<String> allowedOrigins, ModelAllowList models,
                           boolean upstreamConfigured, ClientAuth clientAuth, long minInputReserveTokens) {
        this.upstreamConfigured = upstreamConfigured;
        this.admission = new RealtimeAdmission(guard, cluster, clock, clientAuth, minInputReserveTokens);
        this.registry = registry;
        this.errors = errors;
        this.metrics = metrics;
        this.origins = new OriginCheck(allowedOrigins);
        this.models = models;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String refusal = refusal(request, response);
        if (refusal != null) {
            metrics.handshake(refusal);
            return;
        }
        String model = models.choose(request.getParameter("model")).orElseThrow(); // refusal() checked it
        RealtimeAdmission.Result admitted = admission.admit(request,
                (String) request.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE), model);
        if (!admitted.admitted()) {
            metrics.handshake(admitted.outcome());
            errors.write(response, admitted.refusal());
            return;
        }
        Handshake handshake = admitted.handshake();
        request.setAttribute(HANDSHAKE_ATTRIBUTE, handshake);
        boolean watched = UpgradeWatch.install(request, upgraded -> {
            if (upgraded) {
                metrics.handshake("accepted");
            } else if (handshake.abandon()) {
                metrics.handshake("aborted");
            }
        });
        try {
            chain.doFilter(req, res);
        } finally {
            if (response.getStatus() != 101) {
                if (handshake.abandon()) {
                    metrics.handshake("upgrade_failed");
                }
            } else if (!watched) {
                metrics.handshake("accepted");
            }
        }
    }

    /** Writes the refusal and names its outcome, or returns null when the request may proceed. */
    private String refusal(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!isUpgrade(request)) {
            errors.write(response, new ErrorBody(426, ErrorWords.INVALID_REQUEST,
                    request.getRequestURI() + " is a WebSocket endpoint: send an upgrade request", Map.of()),
                    Map.of("Upgrade", "websocket"));
            return "not_websocket";
        }
        if (!"13".equals(strip(request.getHeader("Sec-WebSocket-Version")))) {
            errors.write(response, new ErrorBody(426, ErrorWords.INVALID_REQUEST,
                    "Unsupported Sec-WebSocket-Version; this server speaks version 13", Map.of()),
                    Map.of("Sec-WebSocket-Version", "13", "Upgrade", "websocket"));
            return "bad_version";
        }
        if (!validKey(request.getHeader("Sec-WebSocket-Key"))) {
            errors.write(response, ApiException.invalid(400, "Sec-WebSocket-Key must be 16 bytes in base64"));
            return "bad_key";
        }
        if (!upstreamConfigured) {
            errors.write(response, RealtimeAdmission.upstreamNotConfigured());
            return "upstream_unavailable";
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !origins.allowed(origin, request)) {
            errors.write(response, RealtimeAdmission.originNotAllowed());
            return "origin_forbidden";
        }
        if (models.choose(request.getParameter("model")).isEmpty()) {
            errors.write(response, RealtimeAdmission.modelNotAllowed(models));
            return "model_forbidden";
        }
        if (!registry.accepting()) {
            errors.write(response, new ApiException(503, ErrorWords.UPSTREAM_UNAVAILABLE,
                    "This server is shutting down; reconnect to another", Map.of(), Map.of("Retry-After", "1")));
            return "shutting_down";
        }
        return null;
    }

    private static String strip(String s) {
        return s == null ? null : s.strip();
    }

    /** RFC 6455: the key is 16 random bytes, base64-encoded (24 characters). */
    static boolean validKey(String key) {
        if (key == null || key.strip().length() != 24) {
            return false;
        }
        try {
            return java.util.Base64.getDecoder().decode(key.strip()).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * A WebSocket opening handshake as the server below accepts it: GET over HTTP/1.1, {@code Upgrade:
     * websocket} alone and {@code Connection} naming {@code upgrade}. Anything else is answered 426
     * here, instead of passing this filter and meeting a 405 "method not supported" below.
     */
    private static boolean isUpgrade(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        String connection = request.getHeader("Connection");
        return "GET".equals(request.getMethod()) && "HTTP/1.1".equals(request.getProtocol())
                && upgrade != null && upgrade.strip().equalsIgnoreCase("websocket")
                && connection != null && java.util.Arrays.stream(connection.split(","))
                .anyMatch(token -> token.strip().equalsIgnoreCase("upgrade"));
    }

}
