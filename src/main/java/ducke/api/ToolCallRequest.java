package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code POST /v1/tools/{tool}/calls}: the end-user client whose quota the call counts against. */
public record ToolCallRequest(@JsonProperty("client_id") String clientId) {
}
