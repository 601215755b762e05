package ducke.tasks;

import ducke.core.identity.IpAddresses;
import ducke.core.ratelimit.RateLimiter;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/reset-rate-limits?client=…[&endpoint=…]}: clears a client's buckets in the
 * grid and every node's cached denials of them, and returns only after all members confirmed.
 */
public final class ResetRateLimitsTask extends JournaledTask {

    private final RateLimiter limiter;

    public ResetRateLimitsTask(RateLimiter limiter, AuditJournal journal) {
        super("reset-rate-limits", journal);
        this.limiter = limiter;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        String clientParam = single(parameters, "client");
        if (clientParam == null || clientParam.isBlank()) {
            throw BadTaskInput.reject("parameter 'client' is required (an IP address or client id)");
        }
        String client = IpAddresses.canonical(clientParam).orElse(clientParam.strip());
        String endpoint = single(parameters, "endpoint");
        if (endpoint != null && !limiter.endpoints().contains(endpoint)) {
            throw BadTaskInput.reject("unknown endpoint '" + endpoint + "'; known: "
                    + String.join(", ", limiter.endpoints().stream().sorted().toList()));
        }
        int cleared = limiter.reset(client, endpoint);
        output.printf("reset rate limits of %s on %s: %d bucket(s) cleared on every member%n",
                client, endpoint == null ? "all endpoints" : endpoint, cleared);
    }

    private static String single(Map<String, List<String>> parameters, String name) {
        List<String> values = parameters.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
