package ducke.resources;

import ducke.api.StatusResponse;
import ducke.core.cluster.ClusterView;
import ducke.core.cost.CostGuard;
import ducke.core.cost.Money;
import ducke.core.cost.SpendLedger;
import ducke.core.ratelimit.RateLimiter;
import ducke.core.settings.LiveSettings;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.time.Clock;
import java.time.Instant;

/** {@code GET /status}: always 200 while the process serves, for load balancers and dashboards. */
@Path("/status")
@Produces(MediaType.APPLICATION_JSON)
public final class StatusResource {

    private final ClusterView cluster;
    private final RateLimiter limiter;
    private final CostGuard guard;
    private final LiveSettings settings;
    private final Clock clock;
    private final Instant startedAt;
    private final String version;

    public StatusResource(ClusterView cluster, RateLimiter limiter, CostGuard guard, LiveSettings settings, Clock clock,
                          Instant startedAt, String version) {
        this.settings = settings;
        this.cluster = cluster;
        this.limiter = limiter;
        this.guard = guard;
        this.clock = clock;
        this.startedAt = startedAt;
        this.version = version;
    }

    @GET
    public StatusResponse status() {
        Instant now = clock.instant();
        SpendLedger.Snapshot spend = guard.view().get();
        boolean open = spend.breakerOpenAt(now.toEpochMilli());
        return new StatusResponse("ok", "DUCK-E Server is running!", cluster.nodeName(), cluster.clusterName(),
                cluster.memberCount(), cluster.healthy(), cluster.quorum(), open ? "open" : "closed",
                open ? Instant.ofEpochMilli(spend.breakerClosesAtMillis()).toString() : null,
                Money.usd(spend.hourlyNanoUsd()), Money.usd(guard.limits().maxHourlyCostNanoUsd()),
                guard.limits().enforced(), limiter.enabled(), version, startedAt.toString(),
                Math.max(0, now.getEpochSecond() - startedAt.getEpochSecond()), now.toString(), settings.get().version());
    }
}
