package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * {@code POST /v1/realtime/client_secrets}: who the end user is; lifetime, model and budget
 * optional. Values are kept as JSON so that a lifetime of {@code 1.5} or {@code "60"} and an id
 * that is not a string are refused rather than coerced.
 */
public record ClientSecretRequest(@JsonProperty("client_id") JsonNode clientId,
                                  @JsonProperty("expires_after_seconds") JsonNode expiresAfterSeconds,
                                  @JsonProperty("model") JsonNode model,
                                  @JsonProperty("max_cost_usd") JsonNode maxCostUsd,
                                  @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
