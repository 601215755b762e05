package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.math.BigDecimal;
import java.util.List;

/**
 * The answer to a usage report, with the original service's field names. The token counts are
 * the tokens charged; {@code seconds} is present for a duration report only.
 */
public record UsageResponse(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("model") String model,
        @JsonProperty("input_tokens") long inputTokens,
        @JsonProperty("output_tokens") long outputTokens,
        @JsonProperty("call_cost") BigDecimal callCost,
        @JsonProperty("session_cost") BigDecimal sessionCost,
        @JsonProperty("budget_ok") boolean budgetOk,
        @JsonProperty("remaining_budget_usd") BigDecimal remainingBudgetUsd,
        @JsonProperty("remaining_duration_seconds") long remainingDurationSeconds,
        @JsonProperty("circuit_breaker_active") boolean circuitBreakerActive,
        @JsonProperty("hourly_cost_usd") BigDecimal hourlyCostUsd,
        @JsonProperty("max_hourly_cost_usd") BigDecimal maxHourlyCostUsd,
        @JsonProperty("warnings") List<String> warnings,
        @JsonProperty("budget_warning") boolean budgetWarning,
        @JsonProperty("session_ended") boolean sessionEnded,
        @JsonProperty("end_reason") String endReason,
        @JsonProperty("price_version") String priceVersion,
        @JsonProperty("seconds") @JsonInclude(JsonInclude.Include.NON_NULL) BigDecimal seconds) {
}
