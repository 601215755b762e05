package ducke.relay;

import ducke.api.ErrorBody;
import ducke.cluster.ClusterNode;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.errors.ApiException;
import ducke.errors.CostExceptions;
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
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gates of {@code /session}, answered as plain HTTP before any upgrade: not an upgrade → 426,
 * Origin not allowed → 403, model not allowed → 400, node shutting down → 503, then the cost gates
 * (breaker or hourly cap → 503, concurrent sessions → 429). The per-client handshake rate limit
 * (429) has already run in {@link RateLimitFilter}. A session that passes is opened here and
 * handed to the WebSocket creator; if the upgrade then fails, it is ended at once.
 */
public final class HandshakeFilter implements Filter {

    static final String LEDGER_ATTRIBUTE = "ducke.relay.ledger";
    static final String CLAIMED_ATTRIBUTE = "ducke.relay.claimed";

    private final CostGuard guard;
    private final ClusterNode cluster;
    private final RelayRegistry registry;
    private final Clock clock;
    private final ErrorResponses errors;
    private final RelayMetrics metrics;
    private final Set<String> allowedOrigins;
    private final Set<String> allowedModels;
    private final String defaultModel;

    public HandshakeFilter(CostGuard guard, ClusterNode cluster, RelayRegistry registry, Clock clock, ErrorResponses errors,
                           RelayMetrics metrics, List<String> allowedOrigins, List<String> allowedModels, String defaultModel) {
        this.guard = guard;
        this.cluster = cluster;
        this.registry = registry;
        this.clock = clock;
        this.errors = errors;
        this.metrics = metrics;
        this.allowedOrigins = Set.copyOf(allowedOrigins.stream().map(HandshakeFilter::origin).toList());
        this.allowedModels = Set.copyOf(allowedModels);
        this.defaultModel = defaultModel;
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
        String model = request.getParameter("model") == null || request.getParameter("model").isBlank()
                ? defaultModel : request.getParameter("model").strip();
        String client = (String) request.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE);
        long now = clock.millis();
        CostGuard.Start start = guard.start(client, model, cluster.memberId(), now);
        if (!start.started()) {
            metrics.handshake(start.refusal().name().toLowerCase(Locale.ROOT));
            errors.write(response, CostExceptions.refused(start, guard.limits(), now));
            return;
        }
        SessionLedger ledger = start.ledger();
        AtomicBoolean claimed = new AtomicBoolean();
        request.setAttribute(LEDGER_ATTRIBUTE, ledger);
        request.setAttribute(CLAIMED_ATTRIBUTE, claimed);
        try {
            chain.doFilter(req, res);
        } finally {
            if (!claimed.get()) {
                guard.end(ledger.sessionId(), EndReason.CLIENT_CLOSED, clock.millis());
                metrics.handshake("upgrade_failed");
            } else {
                metrics.handshake("accepted");
            }
        }
    }

    /** Writes the refusal and names its outcome, or returns null when the request may proceed. */
    private String refusal(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!isUpgrade(request)) {
            errors.write(response, new ErrorBody(426, ErrorWords.INVALID_REQUEST,
                    "/session is a WebSocket endpoint: send an upgrade request", Map.of()), Map.of("Upgrade", "websocket"));
            return "not_websocket";
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !originAllowed(origin, request)) {
            errors.write(response, new ApiException(403, ErrorWords.FORBIDDEN, "Origin not allowed"));
            return "origin_forbidden";
        }
        String model = request.getParameter("model");
        if (model != null && !model.isBlank() && !model.strip().equals(defaultModel) && !allowedModels.contains(model.strip())) {
            errors.write(response, ApiException.invalid(400, "Model not allowed; allowed: "
                    + String.join(", ", allowedModels.stream().sorted().toList())));
            return "model_forbidden";
        }
        if (!registry.accepting()) {
            errors.write(response, new ApiException(503, ErrorWords.UPSTREAM_UNAVAILABLE,
                    "This server is shutting down; reconnect to another", Map.of(), Map.of("Retry-After", "1")));
            return "shutting_down";
        }
        return null;
    }

    private static boolean isUpgrade(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return "GET".equals(request.getMethod()) && upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
    }

    /** Allowed when listed, or, with no list, when the page comes from this very host. */
    private boolean originAllowed(String origin, HttpServletRequest request) {
        String normalised = origin(origin);
        if (!allowedOrigins.isEmpty()) {
            return allowedOrigins.contains(normalised);
        }
        String host = request.getHeader("Host");
        return host != null && (normalised.equals("http://" + host.toLowerCase(Locale.ROOT))
                || normalised.equals("https://" + host.toLowerCase(Locale.ROOT)));
    }

    private static String origin(String text) {
        try {
            URI u = URI.create(text.strip());
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
            return scheme + "://" + host + (u.getPort() < 0 ? "" : ":" + u.getPort());
        } catch (IllegalArgumentException e) {
            return "invalid:" + text;
        }
    }
}
