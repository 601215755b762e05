package ducke.resources;

import ducke.api.BreakerTripRequest;
import ducke.api.BreakerView;
import ducke.api.ClientSpendView;
import ducke.api.OperatorOverviewView;
import ducke.api.OperatorSessionView;
import ducke.api.OperatorSpendView;
import ducke.core.auth.Role;
import ducke.core.cost.ClusterActivity;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.OperatorViews;
import ducke.core.cost.SpendLedger;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import ducke.errors.ApiException;
import ducke.errors.WarnGate;
import ducke.tasks.AdminActions;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator API's breaker and spend, cluster-wide whichever node answers: trip and reset the
 * breaker as the admin tasks do (same effect, same journal entries), the spend per minute of a
 * window, the clients that spent most in it, and all of that with the window's end reasons in one
 * read for the console ({@code /overview}: one request per refresh keeps a console polling every
 * two seconds well inside the per-address limit of "any other route").
 */
@Path("/v1/operator")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Role.OPERATOR_NAME)
public final class OperatorResource {

    private static final Pattern WINDOW = Pattern.compile("([0-9]{1,2})m");
    private static final Pattern LIMIT = Pattern.compile("[0-9]{1,3}");
    private static final String TAKES = "the body takes reason (a string, optional)";
    private static final Logger LOG = LoggerFactory.getLogger(OperatorResource.class);

    private final ClusterActivity activity;
    private final AdminActions actions;
    private final CostGuard guard;
    private final AuditDao audit;
    private final Clock clock;
    /** A console polls every 2 s: an unreadable audit store is logged once a minute at most. */
    private final WarnGate auditWarnings = new WarnGate(60_000);

    /**
     * After the audit store failed an overview's read, the overviews of the next 5 s (the
     * {@code Retry-After} of {@code audit_unavailable}) do not ask it again.
     */
    static final long AUDIT_RETRY_MILLIS = ducke.errors.AuditStoreExceptionMapper.RETRY_AFTER_SECONDS * 1000;

    private record AuditFailure(long atMillis, long retryAtMillis, String type) {
    }

    private volatile AuditFailure auditFailure;

    public OperatorResource(ClusterActivity activity, AdminActions actions, CostGuard guard, AuditDao audit, Clock clock) {
        this.activity = activity;
        this.actions = actions;
        this.guard = guard;
        this.audit = audit;
        this.clock = clock;
    }

    @POST
    @Path("/breaker/trip")
    public BreakerView trip(BreakerTripRequest body) {
        String reason = body == null ? null : KnownFields.text(body.reason(), "reason");
        if (body != null) {
            KnownFields.require(body.unknownFields(), TAKES);
        }
        String problem = AdminActions.reasonProblem(reason);
        if (problem != null) {
            throw ApiException.invalid(422, problem);
        }
        var outcome = actions.trip(AdminActions.cause(reason));
        actions.journal(AdminActions.TRIP_BREAKER, reason == null ? Map.of() : Map.of("reason", List.of(reason)), outcome.text());
        return breaker(outcome.value());
    }

    @POST
    @Path("/breaker/reset")
    public BreakerView reset() {
        var outcome = actions.reset();
        actions.journal(AdminActions.RESET_BREAKER, Map.of(), outcome.text());
        return breaker(outcome.value());
    }

    /** The cluster's spend in each minute of the window ({@code 1m}..{@code 60m}), oldest first. */
    @GET
    @Path("/spend")
    public OperatorSpendView spend(@QueryParam("window") String window, @Context UriInfo uri) {
        KnownParams.require(uri, Set.of("window"));
        return spend(window(window), clock.millis());
    }

    /** The clients that spent most in the window, most first, with their live sessions. */
    @GET
    @Path("/clients")
    public List<ClientSpendView> clients(@QueryParam("window") String window, @QueryParam("limit") String limit,
                                         @Context UriInfo uri) {
        KnownParams.require(uri, Set.of("window", "limit"));
        return clients(OperatorSessionsResource.live(activity), window(window), limit(limit), clock.millis());
    }

    /**
     * The console's view in one read: live sessions, spend per minute, top clients ({@code limit}) and the
     * end reasons of sessions that ended in the window. The live list is read from the grid once and serves
     * the sessions and the clients' live counts.
     */
    @GET
    @Path("/overview")
    public OperatorOverviewView overview(@QueryParam("window") String window, @QueryParam("limit") String limit,
                                         @Context UriInfo uri) {
        KnownParams.require(uri, Set.of("window", "limit"));
        int minutes = window(window);
        int n = limit(limit);
        long now = clock.millis();
        List<OperatorViews.LiveSession> live = OperatorSessionsResource.live(activity);
        List<OperatorSessionView> sessions = live.stream().map(OperatorSessionView::of).toList();
        OperatorSpendView spend = spend(minutes, now);
        List<ClientSpendView> clients = clients(live, minutes, n, now);
        List<Map<String, Object>> reasons = null;
        String reasonsError = null;
        AuditFailure failed = auditFailure;
        if (failed != null && now < failed.retryAtMillis()) {
            // not asked again yet: an unreachable store costs each read the pool's wait for a connection,
            // which would slow the live parts of every refresh with it
            reasonsError = "the audit store could not be read at " + Instant.ofEpochMilli(failed.atMillis()) + " ("
                    + failed.type() + "); asked again from " + Instant.ofEpochMilli(failed.retryAtMillis())
                    + "; live data is current";
        } else {
            try {
                AuditQuery since = new AuditQuery(now - minutes * 60_000L, null, null, null, null, null);
                reasons = audit.summary(since, AuditDao.GroupBy.END_REASON).stream()
                        .map(r -> AuditSummaries.row(r, AuditDao.GroupBy.END_REASON)).toList();
                auditFailure = null;
            } catch (RuntimeException e) {
                // the live parts stand without SQL; the console names what is missing
                if (auditWarnings.open(now)) {
                    LOG.warn("Operator overview: the audit store could not be read: {}", e.toString());
                }
                auditFailure = new AuditFailure(now, now + AUDIT_RETRY_MILLIS, e.getClass().getSimpleName());
                reasonsError = "the audit store cannot be read now (" + e.getClass().getSimpleName() + "); live data is current";
            }
        }
        return new OperatorOverviewView(Instant.ofEpochMilli(now).toString(), minutes, sessions, spend, clients, reasons,
                reasonsError);
    }

    private OperatorSpendView spend(int minutes, long now) {
        SpendLedger ledger = activity.spend();
        long[] amounts = OperatorViews.perMinute(ledger, now, minutes);
        long first = OperatorViews.firstMinute(now, minutes);
        List<OperatorSpendView.Minute> rows = new ArrayList<>(minutes);
        for (int i = 0; i < minutes; i++) {
            rows.add(new OperatorSpendView.Minute(Instant.ofEpochSecond((first + i) * 60).toString(), Money.usd(amounts[i])));
        }
        // the totals and the breaker from the very ledger the minutes come from
        SpendLedger.Snapshot s = ledger.snapshot(now, guard.limits());
        return new OperatorSpendView(minutes, rows, Money.usd(s.hourlyNanoUsd()),
                Money.usd(guard.limits().maxHourlyCostNanoUsd()), BreakerView.of(s, guard.limits().breakerThresholdNanoUsd(), now));
    }

    private List<ClientSpendView> clients(List<OperatorViews.LiveSession> live, int minutes, int n, long now) {
        return OperatorViews.topClients(activity.clientSpend(), live, now, minutes, n).stream().map(ClientSpendView::of).toList();
    }

    private BreakerView breaker(SpendLedger.Snapshot s) {
        CostLimits limits = guard.limits();
        return BreakerView.of(s, limits.breakerThresholdNanoUsd(), clock.millis());
    }

    static int window(String window) {
        if (window == null) {
            return 60;
        }
        Matcher m = WINDOW.matcher(window);
        int minutes = m.matches() ? Integer.parseInt(m.group(1)) : 0;
        if (minutes < 1 || minutes > 60) {
            throw ApiException.invalid(422, "window must be 1m to 60m (minutes), such as 15m");
        }
        return minutes;
    }

    static int limit(String limit) {
        if (limit == null) {
            return 10;
        }
        int n = LIMIT.matcher(limit).matches() ? Integer.parseInt(limit) : 0;
        if (n < 1 || n > 100) {
            throw ApiException.invalid(422, "limit must be a whole number from 1 to 100");
        }
        return n;
    }
}
