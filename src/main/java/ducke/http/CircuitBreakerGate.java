package ducke.http;

import ducke.core.cost.SpendView;
import ducke.errors.CostExceptions;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;

import java.time.Clock;

/**
 * While the breaker is open every API call under {@code /v1/} (but the operators' audit queries and
 * operator API, and usage reports) is answered 503 with the wait; {@code /status}, {@code /metrics} and the
 * admin port keep working. Usage reports go through: money that was spent is always recorded. Runs after authentication,
 * so an anonymous caller learns nothing about the breaker. Reads only this node's view of the
 * breaker, which the cluster keeps current: no grid round trip per request.
 */
@Priority(Priorities.USER)
public final class CircuitBreakerGate implements ContainerRequestFilter {

    private final SpendView view;
    private final Clock clock;

    public CircuitBreakerGate(SpendView view, Clock clock) {
        this.view = view;
        this.clock = clock;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        // operators need the audit trail and their API (the reset among it) most while the breaker is open
        if (!path.startsWith("v1/") || path.startsWith("v1/audit") || path.startsWith("v1/operator")
                || isUsageReport(request, path)) {
            return;
        }
        long now = clock.millis();
        if (view.breakerOpen(now)) {
            throw CostExceptions.breakerOpen(view.get(), now);
        }
    }

    private static boolean isUsageReport(ContainerRequestContext request, String path) {
        return "POST".equals(request.getMethod()) && path.startsWith("v1/sessions/") && path.endsWith("/usage")
                && path.indexOf('/', "v1/sessions/".length()) == path.length() - "/usage".length();
    }
}
