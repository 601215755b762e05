package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.math.BigDecimal;

/** {@code POST /v1/realtime/client_secrets}: who the end user is; lifetime, model and budget optional. */
public record ClientSecretRequest(@JsonProperty("client_id") String clientId,
                                  @JsonProperty("expires_after_seconds") Long expiresAfterSeconds,
                                  @JsonProperty("model") String model,
                                  @JsonProperty("max_cost_usd") BigDecimal maxCostUsd) {
}
