package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.math.BigDecimal;

/** 201 answer to {@code POST /v1/sessions}. */
public record StartSessionResponse(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("client_id") String clientId,
        @JsonProperty("model") String model,
        @JsonProperty("max_cost_usd") BigDecimal maxCostUsd,
        @JsonProperty("max_duration_seconds") long maxDurationSeconds,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("expires_at") String expiresAt,
        @JsonProperty("price_version") String priceVersion) {
}
