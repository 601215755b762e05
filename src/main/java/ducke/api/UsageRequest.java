package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * {@code POST /v1/sessions/{id}/usage}, in the shape of a realtime {@code response.usage}, or of a
 * duration-billed transcription's usage ({@code "type": "duration", "seconds": n}). Numeric fields
 * are kept as JSON so that fractions, strings and overflows are refused rather than coerced.
 * {@code report_id} is the report's idempotency key, as the {@code Idempotency-Key} header (kept as
 * JSON too, so that a number or an object is refused rather than turned into a key).
 * {@code reservation_id} names the reservation the report settles; it is then the report's key.
 */
public record UsageRequest(
        @JsonProperty("model") String model,
        @JsonProperty("type") String type,
        @JsonProperty("input_tokens") JsonNode inputTokens,
        @JsonProperty("output_tokens") JsonNode outputTokens,
        @JsonProperty("input_token_details") JsonNode inputTokenDetails,
        @JsonProperty("output_token_details") JsonNode outputTokenDetails,
        @JsonProperty("seconds") JsonNode seconds,
        @JsonProperty("total_tokens") JsonNode totalTokens,
        @JsonProperty("report_id") JsonNode reportId,
        @JsonProperty("reservation_id") JsonNode reservationId,
        @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
