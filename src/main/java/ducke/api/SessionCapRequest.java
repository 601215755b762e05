package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * {@code PATCH /v1/sessions/{id}}: the session's new cap, a number or a decimal string
 * ({@code "12.50"}), kept as JSON so that anything else is refused rather than coerced.
 */
public record SessionCapRequest(@JsonProperty("max_cost_usd") JsonNode maxCostUsd,
                                @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
