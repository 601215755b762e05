package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.http.RateLimitGate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tool interception: when the model calls a function of a limited tool and the client's quota is
 * spent, the call is withheld from the client and answered upstream by the gateway. After a
 * response with blocked calls the gateway asks for one response itself; a streak of responses
 * that only call spent tools gets one such request at most, so a model that keeps calling a spent
 * tool cannot loop on paid responses. Called on the upstream thread, one event at a time.
 */
final class ToolCalls {

    /** A permitted call of a tool; its fee, if any, is charged by the caller. */
    interface Permitted {
        void called(String tool);
    }

    private record Blocked(String callId, String tool, long retryAfterSeconds) {
    }

    private final RelayContext ctx;
    private final String client;
    private final Map<String, Blocked> blocked = new ConcurrentHashMap<>();
    private volatile boolean gatewayAsked;

    ToolCalls(RelayContext ctx, String client) {
        this.ctx = ctx;
        this.client = client;
    }

    /**
     * Whether this event belongs to a call the gateway answers itself. The quota is checked when
     * the call's item is added; every later event of that item is withheld too.
     */
    boolean withhold(String type, JsonNode event, Permitted permitted) {
        RealtimeEvents.FunctionCall call = RealtimeEvents.functionCall(type, event);
        if (call == null) {
            return false;
        }
        if (!type.equals(RealtimeEvents.OUTPUT_ITEM_ADDED)) {
            return blocked.containsKey(call.itemId());
        }
        String tool = ctx.toolFunctions().get(call.name());
        if (tool == null) {
            return false;
        }
        RateLimitGate.Checked quota = ctx.gate().check(tool, client);
        if (quota.permitted()) {
            permitted.called(tool);
            return false;
        }
        blocked.put(call.itemId(), new Blocked(call.callId(), tool, quota.outcome().decision().retryAfterSeconds()));
        ctx.metrics().toolCallBlocked(tool);
        return true;
    }

    boolean anyBlocked() {
        return !blocked.isEmpty();
    }

    /** The {@code response.done} without the items of blocked calls. */
    String strip(JsonNode responseDone) {
        JsonNode output = responseDone.path("response").path("output");
        if (output instanceof ArrayNode items) {
            for (int i = items.size() - 1; i >= 0; i--) {
                if (blocked.containsKey(items.get(i).path("id").asText(""))) {
                    items.remove(i);
                }
            }
        }
        return ((ObjectNode) responseDone).toString();
    }

    /**
     * The gateway's answers to the calls blocked in the response that just ended, and whether the
     * gateway may ask for one more response; clears the blocked calls.
     */
    Answers answers() {
        List<String> outputs = new ArrayList<>();
        if (blocked.isEmpty()) {
            gatewayAsked = false;
            return new Answers(outputs, false);
        }
        for (Blocked b : List.copyOf(blocked.values())) {
            try {
                outputs.add(ctx.events().rateLimitedToolOutput(b.callId(), b.tool(), b.retryAfterSeconds()));
            } catch (Exception e) {
                throw new IllegalStateException("could not write a tool answer", e);
            }
        }
        blocked.clear();
        boolean ask = !gatewayAsked;
        gatewayAsked = true;
        return new Answers(outputs, ask);
    }

    /** The client spoke (input or a response of its own): the next blocked call may get a response again. */
    void clientSpoke() {
        gatewayAsked = false;
    }

    record Answers(List<String> outputs, boolean askForResponse) {
    }
}
