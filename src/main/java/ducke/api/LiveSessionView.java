package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * The answer to {@code GET} and {@code PATCH /v1/sessions/{id}}: the session, and while it is live
 * whether it is paused at its cost limit now ({@code COST_PROTECTION_ON_CAP=pause}; after the change,
 * for PATCH). An ended session has no {@code paused}: its final record is the same whoever shows it
 * ({@code DELETE}, {@code GET}, the audit trail). A session of the session API is never paused.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LiveSessionView(@JsonUnwrapped SessionView session, @JsonProperty("paused") Boolean paused) {
}
