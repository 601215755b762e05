package ducke.resources;

import ducke.api.ToolCallRequest;
import ducke.api.ToolCallResponse;
import ducke.core.auth.Role;
import ducke.core.ratelimit.Endpoints;
import ducke.errors.ApiException;
import ducke.errors.RateLimitExceptions;
import ducke.http.RateLimitGate;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;


/**
 * {@code POST /v1/tools/{tool}/calls}: a trusted backend asks before it runs an expensive tool for
 * an end-user client; the call counts against that client's quota for the tool, cluster-wide.
 */
@Path("/v1/tools/{tool}/calls")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@RolesAllowed(Role.SERVICE_NAME)
public final class ToolQuotaResource {

    private final RateLimitGate gate;
    private final ClientIds clientIds;

    public ToolQuotaResource(RateLimitGate gate, ClientIds clientIds) {
        this.gate = gate;
        this.clientIds = clientIds;
    }

    @POST
    public Response call(@PathParam("tool") String tool, ToolCallRequest body) {
        if (!Endpoints.TOOLS.contains(tool)) {
            throw ApiException.invalid(404, "Unknown tool '" + abbreviate(tool) + "'; known: " + String.join(", ", Endpoints.TOOLS.stream().sorted().toList()));
        }
        String client = clientKey(body);
        RateLimitGate.Checked checked = gate.check(tool, client);
        if (!checked.permitted()) {
            throw RateLimitExceptions.of(checked.outcome(), checked.nowMillis());
        }
        var d = checked.outcome().decision();
        var policy = checked.outcome().policy();
        ToolCallResponse entity = new ToolCallResponse(tool, client, true, policy.describe(),
                d == null ? policy.get(0).capacity() : d.remaining(), d == null ? 0 : d.resetSeconds(),
                gate.limiter().enabled());
        Response.ResponseBuilder r = Response.ok(entity);
        checked.headers().forEach(r::header);
        return r.build();
    }

    /** The quota key: the client's network when the id is an address, else the opaque id as given. */
    private String clientKey(ToolCallRequest body) {
        if (body != null) {
            KnownFields.require(body.unknownFields(), "a tool call takes only client_id");
        }
        String id = body == null ? null : KnownFields.text(body.clientId(), "client_id");
        if (id == null || id.isBlank()) {
            throw ApiException.invalid(422, "client_id is required: the end-user client the tool call is made for");
        }
        return clientIds.canonical(id);
    }

    private static String abbreviate(String s) {
        String safe = s.replaceAll("[^A-Za-z0-9_.-]", "?");
        return safe.length() > 40 ? safe.substring(0, 40) + "…" : safe;
    }
}
