package ducke.resources;

import ducke.api.ErrorBody;
import ducke.core.cluster.ClusterView;
import ducke.core.drain.Drain;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Probes on the application port, for load balancers and a kubelet that cannot reach the admin
 * port (it listens on loopback): {@code GET /health/live} while the process serves,
 * {@code GET /health/ready} while this node should be sent new sessions — its grid member runs and
 * its part of the cluster holds the quorum cost state needs, the cluster's spend state is complete
 * (a new cluster rebuilds it from the audit store first), and it is not draining. Unauthenticated, never rate-limited,
 * and their bodies name no secret, client or session. The audit database is not part of readiness:
 * decisions never wait on SQL, and the node buffers records while it is down.
 */
@Path("/health")
@Produces(MediaType.APPLICATION_JSON)
public final class HealthProbesResource {

    /** Seconds a load balancer may wait before it asks a node that is not ready again. */
    static final int NOT_READY_RETRY_SECONDS = 5;

    private final ClusterView cluster;
    private final Drain drain;
    private final BooleanSupplier spendReady;

    /**
     * @param spendReady whether the cluster's spend state is complete (rebuilt from the audit store after a
     *                   full restart)
     */
    public HealthProbesResource(ClusterView cluster, Drain drain, BooleanSupplier spendReady) {
        this.cluster = cluster;
        this.drain = drain;
        this.spendReady = spendReady;
    }

    @GET
    @Path("/live")
    public Map<String, String> live() {
        return Map.of("status", "live");
    }

    @GET
    @Path("/ready")
    public Response ready() {
        if (drain.draining()) {
            return notReady("node_draining", "This node is stopping: it takes no new sessions");
        }
        if (!cluster.healthy()) {
            return notReady("cluster_unavailable", "This node's grid member is not part of a running cluster");
        }
        if (!cluster.quorum()) {
            return notReady("cluster_degraded", "This node cannot reach a quorum of its cluster");
        }
        if (!spendReady.getAsBoolean()) {
            return notReady("cluster_degraded", "The cluster is rebuilding this hour's spend from the audit store");
        }
        return Response.ok(Map.of("status", "ready")).build();
    }

    private static Response notReady(String reason, String message) {
        return Response.status(Response.Status.SERVICE_UNAVAILABLE)
                .header("Retry-After", NOT_READY_RETRY_SECONDS)
                .entity(new ErrorBody(503, reason, message, Map.of("status", "not_ready")))
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build();
    }
}
