package ducke.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A session as the API shows it: live, or its final record once ended. Money is exact decimal USD. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionView(
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("status") String status,
        @JsonProperty("client_id") String clientId,
        @JsonProperty("node") String node,
        @JsonProperty("model") String model,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("expires_at") String expiresAt,
        @JsonProperty("ended_at") String endedAt,
        @JsonProperty("end_reason") String endReason,
        @JsonProperty("duration_seconds") BigDecimal durationSeconds,
        @JsonProperty("cost_usd") BigDecimal costUsd,
        @JsonProperty("max_cost_usd") BigDecimal maxCostUsd,
        @JsonProperty("remaining_budget_usd") BigDecimal remainingBudgetUsd,
        @JsonProperty("charged_responses") int chargedResponses,
        @JsonProperty("tokens") Map<String, Long> tokens,
        @JsonProperty("price_version") String priceVersion,
        @JsonProperty("models") List<String> models,
        @JsonProperty("pauses") Integer pauses,
        @JsonProperty("paused_seconds") BigDecimal pausedSeconds) {

    public static SessionView of(SessionLedger l) {
        boolean ended = !l.active();
        long durationMillis = (ended ? l.endedAtMillis() : l.startedAtMillis()) - l.startedAtMillis();
        return new SessionView(l.sessionId(), ended ? "ended" : "active", l.clientId(), l.nodeName(), l.model(),
                iso(l.startedAtMillis()), iso(l.expiresAtMillis()), ended ? iso(l.endedAtMillis()) : null,
                ended ? l.endReason().label() : null, ended ? seconds(durationMillis) : null, Money.usd(l.costNanoUsd()),
                Money.usd(l.maxCostNanoUsd()), Money.usd(l.remainingBudgetNanoUsd()), l.chargedResponses(),
                tokens(l.tokens()), l.priceVersion(), null, null, null);
    }

    public static SessionView of(SessionRecord r) {
        return of(r, null);
    }

    /** An audit row: the final record and the models that priced its charges (sorted). */
    public static SessionView of(SessionRecord r, List<String> models) {
        return of(r, models, null, 0);
    }

    /** An audit row with its pauses at the cost limit ({@code pauses} null: not shown). */
    public static SessionView of(SessionRecord r, List<String> models, Integer pauses, long pausedMillis) {
        return new SessionView(r.sessionId(), "ended", r.clientId(), r.nodeName(), r.model(), iso(r.startedAtMillis()),
                null, iso(r.endedAtMillis()), r.endReason().label(), seconds(r.durationMillis()), Money.usd(r.costNanoUsd()),
                null, null, r.chargedResponses(), tokens(r.tokens()), r.priceVersion(), models, pauses,
                pauses == null ? null : seconds(pausedMillis));
    }

    static String iso(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis, 3);
    }

    static Map<String, Long> tokens(TokenCounts t) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (TokenKind k : TokenKind.values()) {
            m.put(k.label(), t.get(k));
        }
        m.put("input_total", t.input());
        m.put("output_total", t.output());
        return m;
    }
}
