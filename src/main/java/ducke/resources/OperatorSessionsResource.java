package ducke.resources;

import ducke.api.OperatorSessionView;
import ducke.api.SessionView;
import ducke.core.auth.Role;
import ducke.core.cost.ClusterActivity;
import ducke.core.cost.OperatorViews;
import ducke.core.cost.SessionIds;
import ducke.errors.CostExceptions;
import ducke.tasks.AdminActions;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operator API's view of the cluster's live sessions and calls, whichever node answers, and
 * ending one of them as the admin task {@code end-session} does (same effect, same journal entry).
 * A listing is one pass over the grid's session ledgers: O(live sessions and those ended within
 * the retention).
 */
@Path("/v1/operator/sessions")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Role.OPERATOR_NAME)
public final class OperatorSessionsResource {

    private final ClusterActivity activity;
    private final AdminActions actions;

    public OperatorSessionsResource(ClusterActivity activity, AdminActions actions) {
        this.activity = activity;
        this.actions = actions;
    }

    /** The live sessions and calls, oldest start first. */
    @GET
    public List<OperatorSessionView> sessions(@Context UriInfo uri) {
        KnownParams.require(uri, Set.of());
        return live(activity).stream().map(OperatorSessionView::of).toList();
    }

    /** Ends a live session with reason {@code admin_ended}: its final record, as {@code DELETE /v1/sessions/{id}} answers it. */
    @POST
    @Path("/{id}/end")
    public SessionView end(@PathParam("id") String id) {
        if (!SessionIds.wellFormed(id)) {
            throw CostExceptions.notFound(id.length() > 48 ? id.substring(0, 48) + "…" : id);
        }
        var outcome = actions.endSession(id).orElseThrow(() -> CostExceptions.notFound(id));
        actions.journal(AdminActions.END_SESSION, Map.of("id", List.of(id)), outcome.text());
        if (!outcome.value().endedNow()) {
            throw CostExceptions.ended(id, outcome.value().ledger().endReason().label());
        }
        return SessionView.of(outcome.value().ledger());
    }

    static List<OperatorViews.LiveSession> live(ClusterActivity activity) {
        return OperatorViews.live(activity.ledgers(), activity.calls(), activity.pausedSessions());
    }
}
