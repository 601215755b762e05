package ducke.core.cost;

/**
 * The cost caps, in exact units. {@code enforced = false} keeps metering and auditing but lets
 * every session and charge through (COST_PROTECTION_ENABLED=false).
 *
 * @param warningBasisPoints          share of the session cap at which one warning is given (8000 = 80%)
 * @param maxClientHourlyCostNanoUsd  one client's spend over the rolling {@code hourlyWindowMillis} at
 *                                    which its new sessions are refused
 */
public record CostLimits(boolean enforced, long maxSessionCostNanoUsd, long maxSessionDurationMillis,
                         int warningBasisPoints, int maxConcurrentSessionsPerClient,
                         long maxHourlyCostNanoUsd, long hourlyWindowMillis,
                         long breakerThresholdNanoUsd, long breakerWindowMillis, long breakerCooldownMillis,
                         long maxClientHourlyCostNanoUsd) {

    public CostLimits {
        if (maxSessionCostNanoUsd <= 0 || maxHourlyCostNanoUsd <= 0 || breakerThresholdNanoUsd <= 0
                || maxClientHourlyCostNanoUsd <= 0) {
            throw new IllegalArgumentException("cost caps must be positive");
        }
        if (maxSessionDurationMillis < 1000 || hourlyWindowMillis < 60_000 || breakerWindowMillis < 60_000
                || breakerCooldownMillis < 1000) {
            throw new IllegalArgumentException("durations and windows are too short");
        }
        if (warningBasisPoints < 1 || warningBasisPoints > 10_000) {
            throw new IllegalArgumentException("warning share must be within (0, 100%]");
        }
        if (maxConcurrentSessionsPerClient < 1) {
            throw new IllegalArgumentException("at least one concurrent session per client");
        }
    }

    /** The defaults of the original service. */
    public static CostLimits defaults() {
        return new CostLimits(true, Money.nanoUsd("5.00"), 30 * 60_000L, 8000, 3,
                Money.nanoUsd("50.00"), 3_600_000L, Money.nanoUsd("100.00"), 3_600_000L, 3_600_000L,
                Money.nanoUsd("10.00"));
    }

    /** The same limits with another per-client hourly cap. */
    public CostLimits withMaxClientHourlyCost(long nanoUsd) {
        return new CostLimits(enforced, maxSessionCostNanoUsd, maxSessionDurationMillis, warningBasisPoints,
                maxConcurrentSessionsPerClient, maxHourlyCostNanoUsd, hourlyWindowMillis, breakerThresholdNanoUsd,
                breakerWindowMillis, breakerCooldownMillis, nanoUsd);
    }

    /** The same limits with another session duration cap (a session that may last only what is left of its client's day). */
    public CostLimits withMaxSessionDuration(long millis) {
        return new CostLimits(enforced, maxSessionCostNanoUsd, Math.max(1000, millis), warningBasisPoints,
                maxConcurrentSessionsPerClient, maxHourlyCostNanoUsd, hourlyWindowMillis, breakerThresholdNanoUsd,
                breakerWindowMillis, breakerCooldownMillis, maxClientHourlyCostNanoUsd);
    }

    /** Longest window any spend must be remembered for. */
    public long spendRetentionMillis() {
        return Math.max(hourlyWindowMillis, breakerWindowMillis);
    }
}
