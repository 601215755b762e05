package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/** {@code POST /v1/operator/breaker/trip}: why the operator opens the breaker (optional), kept as JSON so that a non-string is refused. */
public record BreakerTripRequest(@JsonProperty("reason") JsonNode reason,
                                 @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
