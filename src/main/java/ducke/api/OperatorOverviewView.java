package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/operator/overview}: everything the console shows, in one request — the live
 * sessions, the spend per minute with the cap and the breaker, the top clients, and the end
 * reasons of the window from the audit store. The parts have the shapes of their own endpoints.
 * When the audit store cannot be read, {@code end_reasons} is null and {@code end_reasons_error}
 * says why; the live parts do not wait for SQL.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperatorOverviewView(
        @JsonProperty("generated_at") String generatedAt,
        @JsonProperty("window_minutes") int windowMinutes,
        @JsonProperty("sessions") List<OperatorSessionView> sessions,
        @JsonProperty("spend") OperatorSpendView spend,
        @JsonProperty("clients") List<ClientSpendView> clients,
        @JsonProperty("end_reasons") List<Map<String, Object>> endReasons,
        @JsonProperty("end_reasons_error") String endReasonsError) {
}
