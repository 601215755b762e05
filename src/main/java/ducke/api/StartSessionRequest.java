package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/sessions}: both fields optional (client defaults to the caller, model to the
 * configured one). Any other field is collected in {@code unknown}, so that a typo such as
 * {@code "client"} is refused instead of silently opening a session for the caller's address.
 */
public record StartSessionRequest(@JsonProperty("client_id") String clientId, @JsonProperty("model") String model,
                                  @JsonAnySetter Map<String, Object> unknown) {

    /** Names of the fields this request does not know, empty when there are none. */
    public Set<String> unknownFields() {
        return unknown == null ? Set.of() : unknown.keySet();
    }
}
