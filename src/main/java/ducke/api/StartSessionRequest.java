package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code POST /v1/sessions}: both fields optional (client defaults to the caller, model to the configured one). */
public record StartSessionRequest(@JsonProperty("client_id") String clientId, @JsonProperty("model") String model) {
}
