package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.Money;

import java.math.BigDecimal;
import java.util.Map;

/** One charge of a session as the audit shows it: the model whose prices priced it, exact USD. */
public record ChargeView(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("charge_key") String chargeKey,
        @JsonProperty("client_id") String clientId,
        @JsonProperty("model") String model,
        @JsonProperty("tokens") Map<String, Long> tokens,
        @JsonProperty("cost_usd") BigDecimal costUsd,
        @JsonProperty("estimated") boolean estimated,
        @JsonProperty("at") String at,
        @JsonProperty("price_version") String priceVersion) {

    public static ChargeView of(ChargeRecord r) {
        return new ChargeView(r.sessionId(), r.chargeKey(), r.clientId(), r.model(), SessionView.tokens(r.tokens()),
                Money.usd(r.costNanoUsd()), r.estimated(), SessionView.iso(r.atMillis()), r.priceVersion());
    }
}
