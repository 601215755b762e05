package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code GET /status}: what a load balancer and a dashboard want to know about this node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StatusResponse(
        @JsonProperty("status") String status,
        @JsonProperty("message") String message,
        @JsonProperty("node") String node,
        @JsonProperty("cluster") String cluster,
        @JsonProperty("cluster_members") int clusterMembers,
        @JsonProperty("cluster_healthy") boolean clusterHealthy,
        @JsonProperty("cluster_quorum") boolean clusterQuorum,
        @JsonProperty("circuit_breaker") String circuitBreaker,
        @JsonProperty("circuit_breaker_resets_at") String circuitBreakerResetsAt,
        @JsonProperty("hourly_cost_usd") java.math.BigDecimal hourlyCostUsd,
        @JsonProperty("max_hourly_cost_usd") java.math.BigDecimal maxHourlyCostUsd,
        @JsonProperty("cost_protection_enabled") boolean costProtectionEnabled,
        @JsonProperty("rate_limiting_enabled") boolean rateLimitingEnabled,
        @JsonProperty("version") String version,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("uptime_seconds") long uptimeSeconds,
        @JsonProperty("time") String time,
        @JsonProperty("settings_version") long settingsVersion) {
}
