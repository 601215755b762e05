package ducke.relay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;

import java.util.LinkedHashMap;
import java.util.Map;

/** The gateway's own events to the client: JSON text frames with a {@code type}. */
final class GatewayEvents {

    private final ObjectMapper mapper;

    GatewayEvents(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    String sessionStarted(SessionLedger l, CostLimits limits) {
        return json("session_started", "session_id", l.sessionId(), "model", l.model(),
                "max_cost_usd", Money.usd(l.maxCostNanoUsd()), "max_duration_seconds", (l.expiresAtMillis() - l.startedAtMillis()) / 1000,
                "expires_at", java.time.Instant.ofEpochMilli(l.expiresAtMillis()).toString());
    }

    String usageUpdate(SessionLedger l, long callCostNanoUsd, long nowMillis) {
        return json("usage_update", "session_cost", Money.usd(l.costNanoUsd()), "call_cost", Money.usd(callCostNanoUsd),
                "remaining_budget_usd", Money.usd(l.remainingBudgetNanoUsd()),
                "remaining_duration_seconds", l.remainingDurationSeconds(nowMillis));
    }

    String budgetWarning(SessionLedger l) {
        return json("budget_warning", "session_cost", Money.usd(l.costNanoUsd()), "max_cost_usd", Money.usd(l.maxCostNanoUsd()),
                "remaining_budget_usd", Money.usd(l.remainingBudgetNanoUsd()),
                "message", "This session has used most of its budget");
    }

    String budgetExceeded(SessionLedger l) {
        return json("budget_exceeded", "session_cost", Money.usd(l.costNanoUsd()), "max_cost_usd", Money.usd(l.maxCostNanoUsd()),
                "message", "Session budget limit exceeded");
    }

    String sessionTimeout(CostLimits limits) {
        return json("session_timeout", "max_duration_seconds", limits.maxSessionDurationMillis() / 1000,
                "message", "Session duration limit exceeded");
    }

    String sessionEnded(String reason) {
        return json("session_ended", "reason", reason, "message", "The session was ended");
    }

    String serviceUnavailable(String reason) {
        return json("service_unavailable", "reason", reason, "message",
                reason.equals("circuit_breaker") ? "System-wide circuit breaker is active" : "This server is shutting down; reconnect");
    }

    /**
     * The realtime {@code error} event that follows every terminal gateway event, so that the
     * official SDKs' error handlers fire; {@code code} is the gateway's word for the ending.
     */
    String terminalError(String type, String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", type);
        error.put("code", code);
        error.put("message", message);
        error.put("param", null);
        error.put("event_id", null);
        return json("error", "event_id", "event_gw_end", "error", error);
    }

    /**
     * The realtime {@code error} event for something the gateway did to the session that does not
     * end it (an upstream event dropped); {@code eventId} names the client event concerned, if any.
     */
    String clientError(String code, String message, String eventId) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", "invalid_request_error");
        error.put("code", code);
        error.put("message", message);
        error.put("param", null);
        error.put("event_id", eventId);
        return json("error", "event_id", "event_gw_error", "error", error);
    }

    String upstreamUnavailable(String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", "upstream_unavailable");
        error.put("code", "upstream_unavailable");
        error.put("message", message);
        return json("error", "error", error);
    }

    /** The gateway's answer upstream to a call of a tool whose quota is spent. */
    String rateLimitedToolOutput(String callId, String tool, long retryAfterSeconds) throws JsonProcessingException {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("error", "rate_limited");
        output.put("tool", tool);
        output.put("retry_after_seconds", retryAfterSeconds);
        output.put("message", "The " + tool + " tool is rate-limited for this user; it frees up in "
                + retryAfterSeconds + " seconds. Tell the user and continue without it.");
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("type", "function_call_output");
        item.put("call_id", callId);
        item.put("output", mapper.writeValueAsString(output));
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", "conversation.item.create");
        event.put("item", item);
        return mapper.writeValueAsString(event);
    }

    /** The event id of the gateway's own {@code response.cancel}, which the upstream's errors about it name. */
    static final String CANCEL_EVENT_ID = "event_gw_cancel";

    /** Cancels the response in progress upstream (or the one named). */
    String responseCancel(String responseId) {
        return responseId == null || responseId.isEmpty()
                ? "{\"type\":\"response.cancel\",\"event_id\":\"" + CANCEL_EVENT_ID + "\"}"
                : json("response.cancel", "event_id", CANCEL_EVENT_ID, "response_id", responseId);
    }

    String responseCreate() {
        return "{\"type\":\"response.create\"}";
    }

    private String json(String type, Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        try {
            return mapper.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
