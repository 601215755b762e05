package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * {@code POST /v1/sessions/{id}/reservations}: the response the backend is about to ask for, its
 * input tokens (the whole context it sends) and its output clamp ({@code max_output_tokens}, as it
 * sets it on the response), and how long the reservation may wait for its usage report. Kept as
 * JSON so that fractions, strings and overflows are refused rather than coerced.
 */
public record ReservationRequest(@JsonProperty("input_tokens") JsonNode inputTokens,
                                 @JsonProperty("max_output_tokens") JsonNode maxOutputTokens,
                                 @JsonProperty("expires_in_seconds") JsonNode expiresInSeconds,
                                 @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
