package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.math.BigDecimal;
import java.util.List;

/** {@code GET /v1/operator/spend}: the cluster's spend in each minute of the window, oldest first. */
public record OperatorSpendView(
        @JsonProperty("window_minutes") int windowMinutes,
        @JsonProperty("minutes") List<Minute> minutes,
        @JsonProperty("hourly_cost_usd") BigDecimal hourlyCostUsd,
        @JsonProperty("max_hourly_cost_usd") BigDecimal maxHourlyCostUsd,
        @JsonProperty("breaker") BreakerView breaker) {

    /** One minute: its start and what the cluster spent in it. */
    public record Minute(@JsonProperty("minute") String minute, @JsonProperty("spend_usd") BigDecimal spendUsd) {
    }
}
