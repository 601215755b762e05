package ducke.relay;

import ducke.cluster.ClusterNode;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cost.CostGuard;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.SessionLedger;
import ducke.errors.ApiException;
import ducke.errors.ClusterUnavailableExceptionMapper;
import ducke.errors.CostExceptions;
import ducke.errors.ErrorWords;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Locale;
import java.util.Map;

/**
 * The last gates of a realtime session, the same for a relayed WebSocket ({@link HandshakeFilter})
 * and a WebRTC call ({@link CallsServlet}), once the request itself is well-formed: the client
 * secret ({@code RELAY_CLIENT_AUTH}: it names the client, the model and the cap), then the cost
 * gates (breaker, hourly caps, concurrent sessions), which take the client's slot for a session
 * whose ledger is stored only when it opens ({@link Handshake}).
 */
final class RealtimeAdmission {

    private static final Logger LOG = LoggerFactory.getLogger(RealtimeAdmission.class);

    /**
     * A session that may open ({@code handshake} non-null), or the refusal to answer with and its
     * outcome for the metrics.
     */
    record Result(Handshake handshake, ApiException refusal, String outcome) {
        boolean admitted() {
            return handshake != null;
        }
    }

    /** Refusals both entrances answer before these gates, alike. */
    static ApiException upstreamNotConfigured() {
        return new ApiException(503, ErrorWords.UPSTREAM_UNAVAILABLE, "The upstream model is not configured on this server",
                Map.of(), Map.of("Retry-After", "60"));
    }

    static ApiException originNotAllowed() {
        return new ApiException(403, ErrorWords.FORBIDDEN, "Origin not allowed");
    }

    static ApiException modelNotAllowed(ducke.core.cost.ModelAllowList models) {
        return ApiException.invalid(400, "Model not allowed; allowed: " + String.join(", ", models.allowed()));
    }

    private final CostGuard guard;
    private final ClusterNode cluster;
    private final Clock clock;
    private final ClientAuth clientAuth;
    /** The relay's least input reserve of a response, in tokens: what a session's first response reserves at least. */
    private final long minInputReserveTokens;

    RealtimeAdmission(CostGuard guard, ClusterNode cluster, Clock clock, ClientAuth clientAuth, long minInputReserveTokens) {
        this.minInputReserveTokens = minInputReserveTokens;
        this.guard = guard;
        this.cluster = cluster;
        this.clock = clock;
        this.clientAuth = clientAuth;
    }

    /** {@code client}: the identity by address; {@code model}: the one the request chose (a secret's wins). */
    Result admit(HttpServletRequest request, String client, String model) {
        long now = clock.millis();
        long maxCost = guard.limits().maxSessionCostNanoUsd();
        ClientAuth.Result auth = clientAuth.authenticate(request, now);
        if (auth.refusal() != null) {
            return new Result(null, new ApiException(401, ErrorWords.UNAUTHORIZED, auth.refusal(), Map.of(),
                    Map.of("WWW-Authenticate", "Bearer")), "unauthorized");
        }
        if (auth.secret() != null) {
            client = auth.secret().clientId();
            model = auth.secret().model();
            maxCost = auth.secret().maxCostNanoUsd();
        }
        CostGuard.Start start;
        try {
            start = guard.reserve(client, model, cluster.memberId(), maxCost, firstResponseNanoUsd(model), now);
        } catch (ClusterUnavailableException e) {
            return new Result(null, ClusterUnavailableExceptionMapper.degraded(e), ErrorWords.CLUSTER_DEGRADED);
        }
        if (!start.started()) {
            return new Result(null, CostExceptions.refused(start, guard.limits(), now),
                    start.refusal().name().toLowerCase(Locale.ROOT));
        }
        SessionLedger reserved = start.ledger();
        return new Result(new Handshake(reserved, client, () -> release(reserved)), null, "admitted");
    }

    /**
     * The least the first response of a new session reserves (its estimated input and one output
     * token, as {@link Metering} reserves it): a client whose day or month budget has less room is
     * refused until the window starts over, not admitted to a session that ends at once.
     */
    private long firstResponseNanoUsd(String model) {
        return ResponseBudget.forModel(guard.prices().match(model).price(), minInputReserveTokens).worstCaseNanoUsd(1, 0);
    }

    /** A session that never opened gives its slot back; if the grid cannot take that now, the slot lapses at its expiry. */
    private void release(SessionLedger reserved) {
        try {
            guard.release(reserved, clock.millis());
        } catch (ClusterUnavailableException e) {
            LOG.warn("Could not give back the slot of {}: {}", reserved.sessionId(), e.getMessage());
        }
    }
}
