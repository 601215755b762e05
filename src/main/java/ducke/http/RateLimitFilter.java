package ducke.http;

import ducke.core.identity.ClientIdentityResolver;
import ducke.core.ratelimit.Endpoints;
import ducke.errors.RateLimitExceptions;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Collections;
import java.util.Objects;

/**
 * First filter of the application port: identifies the client (request attribute
 * {@link #CLIENT_ATTRIBUTE}) and counts the request against its endpoint's limit, answering 429 with
 * the error body before anything else runs. {@code /metrics} is never limited.
 */
public final class RateLimitFilter implements Filter {

    public static final String CLIENT_ATTRIBUTE = "ducke.client";
    static final String METRICS_PATH = "/metrics";
    /** Health probes: a kubelet or load balancer asks every few seconds, and must never be told 429. */
    static final String PROBES_PATH = "/health/";

    private final ClientIdentityResolver identity;
    private final RateLimitGate gate;
    private final ErrorResponses errors;

    public RateLimitFilter(ClientIdentityResolver identity, RateLimitGate gate, ErrorResponses errors) {
        this.identity = identity;
        this.gate = gate;
        this.errors = errors;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String client = identity.resolve(request.getRemoteAddr(), Collections.list(request.getHeaders("X-Forwarded-For")));
        request.setAttribute(CLIENT_ATTRIBUTE, client);
        // the decoded path, as routing sees it: "/%73tatus" counts as "/status"
        String path = Objects.toString(request.getServletPath(), "") + Objects.toString(request.getPathInfo(), "");
        if (path.equals(METRICS_PATH) || path.startsWith(METRICS_PATH + "/") || path.startsWith(PROBES_PATH)) {
            chain.doFilter(req, res);
            return;
        }
        String endpoint = Endpoints.forPath(path);
        if (endpoint.equals(Endpoints.CALLS) && "OPTIONS".equals(request.getMethod())) {
            // a browser's CORS preflight of its call offer: the offer itself is counted
            chain.doFilter(req, res);
            return;
        }
        RateLimitGate.Checked checked = gate.check(endpoint, client);
        if (!checked.permitted()) {
            errors.write(response, RateLimitExceptions.of(checked.outcome(), checked.nowMillis()));
            return;
        }
        checked.headers().forEach(response::setHeader);
        chain.doFilter(req, res);
    }
}
