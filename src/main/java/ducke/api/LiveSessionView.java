package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * The answer to {@code GET} and {@code PATCH /v1/sessions/{id}}: the session, and whether it is
 * paused at its cost limit now ({@code COST_PROTECTION_ON_CAP=pause}; after the change, for PATCH).
 * An ended session, or one of the session API, is never paused.
 */
public record LiveSessionView(@JsonUnwrapped SessionView session, @JsonProperty("paused") boolean paused) {
}
