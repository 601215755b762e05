package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/** {@code POST /v1/tools/{tool}/calls}: the end-user client whose quota the call counts against. */
public record ToolCallRequest(@JsonProperty("client_id") JsonNode clientId, @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
