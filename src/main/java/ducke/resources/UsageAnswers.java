package ducke.resources;

import ducke.api.UsageResponse;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;

import java.math.BigDecimal;

/** The answer to a charged usage report: what was charged, and where the session and the cluster stand. */
final class UsageAnswers {

    private UsageAnswers() {
    }

    /**
     * @param namedModel the model the report named, or null: then the session's model priced it
     * @param u          the charge; for a repeat ({@link CostGuard.Usage#repeated()}), the session as it is
     *                   now and the report's own cost, charged the first time
     */
    static UsageResponse of(String sessionId, String namedModel, TokenUsage usage, CostGuard.Usage u, CostLimits limits,
                            long nowMillis) {
        SessionLedger l = u.ledger();
        BigDecimal seconds = usage.billedByDuration() ? BigDecimal.valueOf(usage.durationMillis(), 3).stripTrailingZeros() : null;
        return new UsageResponse(sessionId, namedModel == null ? l.model() : namedModel,
                u.priced().tokens().input(), u.priced().tokens().output(),
                Money.usd(u.repeated() ? u.priced().costNanoUsd() : u.callCostNanoUsd()), Money.usd(l.costNanoUsd()), u.budgetOk(),
                Money.usd(l.remainingBudgetNanoUsd()), l.remainingDurationSeconds(nowMillis), u.spend().breakerOpenAt(nowMillis),
                Money.usd(u.spend().hourlyNanoUsd()), Money.usd(limits.maxHourlyCostNanoUsd()), u.warnings(),
                u.warningNow(), !l.active(), l.active() ? null : l.endReason().label(), u.priced().version(),
                seconds == null ? null : seconds.scale() < 0 ? seconds.setScale(0) : seconds);
    }
}
