package ducke.http;

import ducke.core.drain.Drain;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Map;

/**
 * While the node drains, the requests that would start a session — a relay handshake
 * ({@code /session}, {@code /v1/realtime}) and {@code POST /v1/sessions} — get 503
 * {@code node_draining} with {@code Retry-After}, before any rate limit counts them: another node
 * takes them. Everything else goes on: usage reports and ends of live sessions, client secrets (they
 * live in the grid and any node honours them), status and probes.
 */
public final class DrainFilter implements Filter {

    /** The paths this filter is mapped to; {@code /v1/sessions} only for POST. */
    public static final String[] PATHS = {"/session", "/v1/realtime", "/v1/realtime/calls", "/v1/sessions"};
    /** Seconds a client may wait before it tries again (through the load balancer, so another node). */
    public static final int RETRY_AFTER_SECONDS = 5;

    private final Drain drain;
    private final ErrorResponses errors;

    public DrainFilter(Drain drain, ErrorResponses errors) {
        this.drain = drain;
        this.errors = errors;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        if (drain.draining() && startsSession(request)) {
            errors.write((HttpServletResponse) res, refusal());
            return;
        }
        chain.doFilter(req, res);
    }

    private static boolean startsSession(HttpServletRequest request) {
        return !"/v1/sessions".equals(request.getRequestURI()) || "POST".equals(request.getMethod());
    }

    public static ApiException refusal() {
        return new ApiException(503, ErrorWords.NODE_DRAINING,
                "This server is stopping and takes no new sessions; connect to another", Map.of(),
                Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }
}
