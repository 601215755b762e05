package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * The answer to {@code PATCH /v1/sessions/{id}}: the session as {@code GET} shows it, and whether
 * it is paused at its cost limit after the change ({@code COST_PROTECTION_ON_CAP=pause}).
 */
public record PatchedSessionView(@JsonUnwrapped SessionView session, @JsonProperty("paused") boolean paused) {
}
