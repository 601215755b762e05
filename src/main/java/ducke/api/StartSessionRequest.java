package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * {@code POST /v1/sessions}: both fields optional (client defaults to the caller, model to the
 * configured one). Any other field is collected in {@code unknown}, so that a typo such as
 * {@code "client"} is refused instead of silently opening a session for the caller's address.
 */
public record StartSessionRequest(@JsonProperty("client_id") String clientId, @JsonProperty("model") String model,
                                  @JsonAnySetter Map<String, Object> unknown) implements StrictBody {
}
