package ducke.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * 202: a usage report taken by a node without the cluster's quorum. It is journaled on that node
 * and charged, exactly once, when the partition heals; its cost is not known yet.
 */
public record JournaledUsageResponse(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("journaled") boolean journaled,
        @JsonProperty("report_id") String reportId,
        @JsonProperty("model") String model,
        @JsonProperty("input_tokens") long inputTokens,
        @JsonProperty("output_tokens") long outputTokens,
        @JsonProperty("message") String message) {
}
