package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** An allowed tool call and what is left of the client's quota. */
public record ToolCallResponse(
        @JsonProperty("tool") String tool,
        @JsonProperty("client_id") String clientId,
        @JsonProperty("allowed") boolean allowed,
        @JsonProperty("limit") String limit,
        @JsonProperty("remaining") long remaining,
        @JsonProperty("reset_seconds") long resetSeconds,
        @JsonProperty("rate_limiting_enabled") boolean rateLimitingEnabled) {
}
