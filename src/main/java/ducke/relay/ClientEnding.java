package ducke.relay;

import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;

/**
 * What a client hears when its session ends: the gateway's event, the realtime {@code error} event
 * that makes the SDKs' error handlers fire, and the close code and reason.
 *
 * @param event       the gateway's event, or null for an ordinary close
 * @param error       the realtime error event after it, or null
 * @param closeReason the close frame's reason: the end reason's label, or the detail of a stall
 */
record ClientEnding(String event, String error, int code, String closeReason) {

    /**
     * @param last   the ledger as it ended (for the cost in {@code budget_exceeded})
     * @param detail a sentence for upstream errors, stalls and charges the cluster did not confirm, or null
     */
    static ClientEnding of(EndReason reason, SessionLedger last, String detail, GatewayEvents e, CostLimits limits) {
        String event;
        String error = null;
        int code;
        switch (reason) {
            case BUDGET_EXCEEDED -> {
                event = e.budgetExceeded(last);
                error = e.terminalError("invalid_request_error", "budget_exceeded", "Session budget limit exceeded");
                code = 1008;
            }
            case CLIENT_BUDGET_EXCEEDED -> {
                event = e.sessionEnded(reason.label());
                error = e.terminalError("invalid_request_error", "client_budget_exceeded",
                        "This client's hourly budget cannot pay for another response");
                code = 1008;
            }
            case SESSION_TIMEOUT -> {
                event = e.sessionTimeout(limits);
                error = e.terminalError("invalid_request_error", "session_timeout", "Session duration limit exceeded");
                code = 1008;
            }
            case CIRCUIT_BREAKER -> {
                event = e.serviceUnavailable("circuit_breaker");
                error = e.terminalError("server_error", "circuit_breaker_open", "System-wide circuit breaker is active");
                code = 1013;
            }
            case NODE_SHUTDOWN -> {
                event = e.serviceUnavailable("node_shutdown");
                error = e.terminalError("server_error", "service_unavailable", "This server is shutting down; reconnect");
                // 1012 "service restart": the official SDKs that reconnect do so on it (docs/relay.md)
                code = 1012;
            }
            case CLUSTER_DEGRADED -> {
                event = e.serviceUnavailable("cluster_degraded");
                error = e.terminalError("server_error", "cluster_degraded",
                        detail != null ? detail : "This server cannot reach a quorum of its cluster; reconnect");
                code = 1013;
            }
            case UPSTREAM_ERROR -> {
                // the gateway's event is itself a realtime error event
                event = e.upstreamUnavailable(detail == null ? "upstream failed" : detail);
                code = 1011;
            }
            case ADMIN_ENDED, API_ENDED -> {
                event = e.sessionEnded(reason.label());
                error = e.terminalError("invalid_request_error", "session_ended", "The session was ended (" + reason.label() + ")");
                code = 1008;
            }
            default -> {
                event = null;
                code = detail == null ? 1000 : 1008;
            }
        }
        String closeReason = detail != null && reason == EndReason.CLIENT_CLOSED ? detail : reason.label();
        return new ClientEnding(event, error, code, closeReason);
    }
}
