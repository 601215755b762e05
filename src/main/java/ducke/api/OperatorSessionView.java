package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.Money;
import ducke.core.cost.OperatorViews;
import ducke.core.cost.SessionLedger;

import java.math.BigDecimal;
import java.time.Instant;

/** {@code GET /v1/operator/sessions}: one live session or call of the cluster. {@code paused} only when it is. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperatorSessionView(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("client_id") String clientId,
        @JsonProperty("model") String model,
        @JsonProperty("node") String node,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("expires_at") String expiresAt,
        @JsonProperty("cost_usd") BigDecimal costUsd,
        @JsonProperty("max_cost_usd") BigDecimal maxCostUsd,
        @JsonProperty("remaining_budget_usd") BigDecimal remainingBudgetUsd,
        @JsonProperty("responses") int responses,
        @JsonProperty("kind") String kind,
        @JsonProperty("paused") Boolean paused) {

    public static OperatorSessionView of(OperatorViews.LiveSession s) {
        SessionLedger l = s.ledger();
        return new OperatorSessionView(l.sessionId(), l.clientId(), l.model(), l.nodeName(),
                Instant.ofEpochMilli(l.startedAtMillis()).toString(), Instant.ofEpochMilli(l.expiresAtMillis()).toString(),
                Money.usd(l.costNanoUsd()), Money.usd(l.maxCostNanoUsd()), Money.usd(l.remainingBudgetNanoUsd()),
                l.chargedResponses(), s.kind().label(), s.paused() ? Boolean.TRUE : null);
    }
}
