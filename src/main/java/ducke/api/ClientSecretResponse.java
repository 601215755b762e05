package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.math.BigDecimal;

/** A minted client secret; {@code value} is shown this once and stored only as a digest. */
public record ClientSecretResponse(@JsonProperty("value") String value,
                                   @JsonProperty("expires_at") long expiresAt,
                                   @JsonProperty("client_id") String clientId,
                                   @JsonProperty("model") String model,
                                   @JsonProperty("max_cost_usd") BigDecimal maxCostUsd) {
}
