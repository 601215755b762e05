package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A reservation taken ({@code 201}): what it holds in USD (exact), for which response,
 * and when it lapses; settled by the usage report that names {@code reservation_id}, charged its
 * amount (estimated) if none came by {@code expires_at}.
 */
public record ReservationView(@JsonProperty("reservation_id") String reservationId,
                              @JsonProperty("session_id") String sessionId,
                              @JsonProperty("model") String model,
                              @JsonProperty("input_tokens") long inputTokens,
                              @JsonProperty("max_output_tokens") long maxOutputTokens,
                              @JsonProperty("reserved_usd") java.math.BigDecimal reservedUsd,
                              @JsonProperty("expires_at") String expiresAt) {
}
