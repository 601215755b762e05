package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.Money;
import ducke.core.cost.SpendLedger;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * The cluster's circuit breaker as the operator API shows it: open or closed at {@code nowMillis},
 * and while open since when, until when and why; the spend its window counts and its threshold.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BreakerView(
        @JsonProperty("state") String state,
        @JsonProperty("opened_at") String openedAt,
        @JsonProperty("resets_at") String resetsAt,
        @JsonProperty("cause") String cause,
        @JsonProperty("window_spend_usd") BigDecimal windowSpendUsd,
        @JsonProperty("threshold_usd") BigDecimal thresholdUsd) {

    public static BreakerView of(SpendLedger.Snapshot s, long thresholdNanoUsd, long nowMillis) {
        boolean open = s.breakerOpenAt(nowMillis);
        return new BreakerView(open ? "open" : "closed", open ? Instant.ofEpochMilli(s.breakerOpenedAtMillis()).toString() : null,
                open ? Instant.ofEpochMilli(s.breakerClosesAtMillis()).toString() : null, open ? s.breakerCause() : null,
                Money.usd(s.breakerNanoUsd()), Money.usd(thresholdNanoUsd));
    }
}
