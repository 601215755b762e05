package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.Money;
import ducke.core.cost.OperatorViews;

import java.math.BigDecimal;

/** {@code GET /v1/operator/clients}: one client's spend in the window and its live sessions now. */
public record ClientSpendView(
        @JsonProperty("client_id") String clientId,
        @JsonProperty("spend_usd") BigDecimal spendUsd,
        @JsonProperty("live_sessions") int liveSessions) {

    public static ClientSpendView of(OperatorViews.ClientTotal t) {
        return new ClientSpendView(t.clientId(), Money.usd(t.spendNanoUsd()), t.liveSessions());
    }
}
