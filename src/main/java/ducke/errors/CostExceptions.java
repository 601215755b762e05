package ducke.errors;

import ducke.core.cost.BudgetWindow;
import ducke.core.cost.ClientBudgets;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.SpendLedger;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The error answers of cost protection, shared by the session API and the realtime handshake. */
public final class CostExceptions {

    private CostExceptions() {
    }

    /** 503 while the breaker is open: with the wait, and when it closes by itself. */
    public static ApiException breakerOpen(SpendLedger.Snapshot s, long nowMillis) {
        long retry = retrySeconds(s.breakerClosesAtMillis() - nowMillis);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("retry_after_seconds", retry);
        details.put("opened_at", Instant.ofEpochMilli(s.breakerOpenedAtMillis()).toString());
        details.put("resets_at", Instant.ofEpochMilli(s.breakerClosesAtMillis()).toString());
        return new ApiException(503, ErrorWords.CIRCUIT_BREAKER_OPEN,
                "The system-wide circuit breaker is open; service resumes at the latest at "
                        + Instant.ofEpochMilli(s.breakerClosesAtMillis()),
                details, Map.of("Retry-After", Long.toString(retry)));
    }

    /** The refusal of a new session. */
    public static ApiException refused(CostGuard.Start start, CostLimits limits, long nowMillis) {
        return switch (start.refusal()) {
            case CIRCUIT_BREAKER_OPEN -> breakerOpen(start.spend(), nowMillis);
            case HOURLY_LIMIT -> {
                long retry = retrySeconds(start.retryAfterMillis());
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("hourly_cost_usd", Money.usd(start.spend().hourlyNanoUsd()));
                details.put("max_hourly_cost_usd", Money.usd(limits.maxHourlyCostNanoUsd()));
                details.put("retry_after_seconds", retry);
                yield new ApiException(503, ErrorWords.HOURLY_LIMIT_EXCEEDED,
                        "Hourly cost limit reached; new sessions resume as spend ages out of the last hour",
                        details, Map.of("Retry-After", Long.toString(retry)));
            }
            case CLUSTER_DEGRADED -> degraded(start.retryAfterMillis());
            case CLIENT_BUDGET -> start.budgetWindow() != null ? overBudget(start, nowMillis) : clientHourly(start, limits);
            case CONCURRENT_LIMIT -> {
                // a slot frees when one of the client's sessions ends; at the latest at its duration cap
                long retry = retrySeconds(start.retryAfterMillis());
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("max_concurrent_sessions", limits.maxConcurrentSessionsPerClient());
                details.put("retry_after_seconds", retry);
                yield new ApiException(429, ErrorWords.CONCURRENT_SESSION_LIMIT,
                        "This client already has " + limits.maxConcurrentSessionsPerClient()
                                + " sessions open; end one first (the first reaches its duration cap in " + retry + " s)",
                        details, Map.of("Retry-After", Long.toString(retry)));
            }
        };
    }

    private static ApiException clientHourly(CostGuard.Start start, CostLimits limits) {
        long retry = retrySeconds(start.retryAfterMillis());
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("client_hourly_cost_usd", Money.usd(start.clientSpend().hourlyNanoUsd()));
        details.put("max_client_hourly_cost_usd", Money.usd(limits.maxClientHourlyCostNanoUsd()));
        details.put("retry_after_seconds", retry);
        return new ApiException(429, ErrorWords.CLIENT_BUDGET_EXCEEDED,
                "This client has reached its hourly cost limit; new sessions resume as its spend ages out of the last hour",
                details, Map.of("Retry-After", Long.toString(retry)));
    }

    /** 429 for a client over its budget of the day, the month or the day's session time: the window, and when it starts over. */
    private static ApiException overBudget(CostGuard.Start start, long nowMillis) {
        ClientBudgets.View v = start.budget();
        BudgetWindow w = v.refusal().window();
        long retry = retrySeconds(v.refusal().resetAtMillis() - nowMillis);
        String resets = Instant.ofEpochMilli(v.refusal().resetAtMillis()).toString();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("window", w.window());
        details.put("limit", w.limit());
        if (w == BudgetWindow.MINUTES) {
            details.put("day_minutes", ducke.api.ClientBudgetView.minutes(v.limits().dayMillis()));
        } else {
            details.put(w == BudgetWindow.DAY ? "day_usd" : "month_usd", Money.usd(v.limits().limit(w)));
            details.put("spent_usd", Money.usd(w == BudgetWindow.DAY ? v.daySpendNanoUsd() : v.monthSpendNanoUsd()));
        }
        details.put("resets_at", resets);
        details.put("retry_after_seconds", retry);
        String what = switch (w) {
            case DAY -> "its budget for the day";
            case MONTH -> "its budget for the month";
            case MINUTES -> "its session time for the day";
        };
        return new ApiException(429, ErrorWords.CLIENT_BUDGET_EXCEEDED,
                "This client has used up " + what + "; new sessions resume at " + resets, details,
                Map.of("Retry-After", Long.toString(retry)));
    }

    /** 503 while this node's part of the cluster has no quorum: cost state cannot change here. */
    public static ApiException degraded(long retryAfterMillis) {
        long retry = retrySeconds(retryAfterMillis);
        return new ApiException(503, ErrorWords.CLUSTER_DEGRADED,
                "This node cannot reach a quorum of the cluster; sessions resume here when the partition heals",
                Map.of("retry_after_seconds", retry), Map.of("Retry-After", Long.toString(retry)));
    }

    public static ApiException notFound(String sessionId) {
        return new ApiException(404, ErrorWords.SESSION_NOT_FOUND, "No session '" + sessionId + "'");
    }

    public static ApiException ended(String sessionId, String reason) {
        return new ApiException(409, ErrorWords.SESSION_ENDED, "Session '" + sessionId + "' has ended (" + reason + ")",
                Map.of("end_reason", reason), Map.of());
    }

    private static long retrySeconds(long millis) {
        return Math.max(1, -Math.floorDiv(-millis, 1000));
    }
}
