package ducke.tasks;

import ducke.core.identity.ClientIdentityResolver;
import ducke.core.ratelimit.RateLimiter;
import ducke.db.AuditJournal;
import ducke.resources.ClientIds;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code POST /tasks/reset-rate-limits?client=…[&endpoint=…]}: clears a client's buckets in the
 * grid and every node's cached denials of them, and returns only after all members confirmed. An
 * address names the client it belongs to (its network, as requests are keyed).
 */
public final class ResetRateLimitsTask extends JournaledTask {

    private final RateLimiter limiter;
    private final ClientIdentityResolver identity;

    public ResetRateLimitsTask(RateLimiter limiter, ClientIdentityResolver identity, AuditJournal journal) {
        super("reset-rate-limits", journal);
        this.limiter = limiter;
        this.identity = identity;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        String clientParam = single(parameters, "client");
        if (clientParam == null || clientParam.isBlank()) {
            throw BadTaskInput.reject("parameter 'client' is required (an IP address or client id)");
        }
        Optional<String> key = identity.keyOf(clientParam.strip());
        String client = key.orElse(clientParam.strip());
        if (key.isEmpty() && !ClientIds.OPAQUE.matcher(client).matches()) {
            throw BadTaskInput.reject("client '" + printable(client) + "' is neither an IP address, a network key "
                    + "nor a client id (1-128 characters of A-Z a-z 0-9 . _ : @ -)");
        }
        String endpoint = single(parameters, "endpoint");
        if (endpoint != null && !limiter.endpoints().contains(endpoint)) {
            throw BadTaskInput.reject("unknown endpoint '" + printable(endpoint) + "'; known: "
                    + String.join(", ", limiter.endpoints().stream().sorted().toList()));
        }
        int cleared = limiter.reset(client, endpoint);
        output.printf("reset rate limits of %s on %s: %d bucket(s) cleared on every member%n",
                client, endpoint == null ? "all endpoints" : endpoint, cleared);
    }

    private static String printable(String s) {
        String safe = s.replaceAll("[^\\x21-\\x7e]", "?");
        return safe.length() > 48 ? safe.substring(0, 48) + "…" : safe;
    }

    private static String single(Map<String, List<String>> parameters, String name) {
        List<String> values = parameters.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
