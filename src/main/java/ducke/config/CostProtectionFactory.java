package ducke.config;

import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import ducke.core.cost.BudgetLimits;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Pattern;
import java.math.BigDecimal;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;

/** The {@code costProtection} block: caps in USD (exact decimals), durations, and housekeeping. */
public class CostProtectionFactory {

    /** Empty, or an amount with at most nine digits on either side of the point. */
    static final String BUDGET = "^$|^[0-9]{1,9}(\\.[0-9]{1,9})?$";

    private boolean enabled = true;

    @NotNull
    @DecimalMin(value = "0.000000001", message = "must be a positive amount")
    @Digits(integer = 9, fraction = 9)
    private BigDecimal maxSessionCostUsd = new BigDecimal("5.00");

    @Min(1)
    @Max(24 * 60)
    private int maxSessionDurationMinutes = 30;

    @Min(1)
    @Max(100)
    private int budgetWarningPercent = 80;

    @Min(1)
    @Max(1000)
    private int maxConcurrentSessionsPerClient = 3;

    @NotNull
    @DecimalMin(value = "0.000000001", message = "must be a positive amount")
    @Digits(integer = 9, fraction = 9)
    private BigDecimal maxTotalCostPerHourUsd = new BigDecimal("50.00");

    /** One client's spend over the rolling hour at which its new sessions are refused. */
    @NotNull
    @DecimalMin(value = "0.000000001", message = "must be a positive amount")
    @Digits(integer = 9, fraction = 9)
    private BigDecimal maxClientCostPerHourUsd = new BigDecimal("10.00");

    /** One client's default budget per calendar day in USD; empty: none. */
    @NotNull
    @Pattern(regexp = BUDGET, message = "must be empty (no budget) or a non-negative amount")
    private String maxClientCostPerDayUsd = "";

    /** One client's default budget per calendar month in USD; empty: none. */
    @NotNull
    @Pattern(regexp = BUDGET, message = "must be empty (no budget) or a non-negative amount")
    private String maxClientCostPerMonthUsd = "";

    /** One client's default session time per calendar day in minutes; empty: none. */
    @NotNull
    @Pattern(regexp = BUDGET, message = "must be empty (no budget) or a non-negative number of minutes")
    private String clientMinutesPerDay = "";

    /** The time zone of the budgets' calendar days and months. */
    @NotNull
    private String budgetTimeZone = "UTC";

    @NotNull
    @DecimalMin(value = "0.000000001", message = "must be a positive amount")
    @Digits(integer = 9, fraction = 9)
    private BigDecimal circuitBreakerThresholdUsd = new BigDecimal("100.00");

    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.MINUTES)
    private Duration circuitBreakerWindow = Duration.minutes(60);

    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration circuitBreakerCooldown = Duration.minutes(60);

    /** How long an ended session stays answerable (GET, 409) after its record went to the audit sink. */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration endedSessionRetention = Duration.hours(1);

    /** How often each node ends expired sessions and hands records to the audit sink. */
    @NotNull
    @MinDuration(value = 10, unit = TimeUnit.MILLISECONDS)
    private Duration sweepInterval = Duration.seconds(1);

    /** Charges a node without quorum keeps until the partition heals; beyond it, reports are refused. */
    @Min(1)
    @Max(10_000_000)
    private int journalCapacity = 10_000;

    /**
     * What a realtime session that cannot afford its next response gets: {@code end} (closed, as
     * always) or {@code pause} (kept open, no new response, until its cap is raised or
     * {@link #pauseTimeout} has passed).
     */
    @NotNull
    @jakarta.validation.constraints.Pattern(regexp = "end|pause", message = "must be end or pause")
    private String onCap = "end";

    /** How long a paused session waits for a raised cap before it ends as it would have without the pause. */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    @io.dropwizard.validation.MaxDuration(value = 24, unit = TimeUnit.HOURS)
    private Duration pauseTimeout = Duration.seconds(60);

    public String getOnCap() { return onCap; }
    public void setOnCap(String v) { this.onCap = v; }
    public Duration getPauseTimeout() { return pauseTimeout; }
    public void setPauseTimeout(Duration v) { this.pauseTimeout = v; }

    /** Whether sessions pause at their cap instead of ending ({@code onCap: pause}). */
    public boolean pausesOnCap() {
        return "pause".equals(onCap);
    }

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public BigDecimal getMaxSessionCostUsd() { return maxSessionCostUsd; }
    public void setMaxSessionCostUsd(BigDecimal v) { this.maxSessionCostUsd = v; }
    public int getMaxSessionDurationMinutes() { return maxSessionDurationMinutes; }
    public void setMaxSessionDurationMinutes(int v) { this.maxSessionDurationMinutes = v; }
    public int getBudgetWarningPercent() { return budgetWarningPercent; }
    public void setBudgetWarningPercent(int v) { this.budgetWarningPercent = v; }
    public int getMaxConcurrentSessionsPerClient() { return maxConcurrentSessionsPerClient; }
    public void setMaxConcurrentSessionsPerClient(int v) { this.maxConcurrentSessionsPerClient = v; }
    public BigDecimal getMaxTotalCostPerHourUsd() { return maxTotalCostPerHourUsd; }
    public void setMaxTotalCostPerHourUsd(BigDecimal v) { this.maxTotalCostPerHourUsd = v; }
    public BigDecimal getMaxClientCostPerHourUsd() { return maxClientCostPerHourUsd; }
    public void setMaxClientCostPerHourUsd(BigDecimal v) { this.maxClientCostPerHourUsd = v; }
    public BigDecimal getCircuitBreakerThresholdUsd() { return circuitBreakerThresholdUsd; }
    public void setCircuitBreakerThresholdUsd(BigDecimal v) { this.circuitBreakerThresholdUsd = v; }
    public Duration getCircuitBreakerWindow() { return circuitBreakerWindow; }
    public void setCircuitBreakerWindow(Duration v) { this.circuitBreakerWindow = v; }
    public Duration getCircuitBreakerCooldown() { return circuitBreakerCooldown; }
    public void setCircuitBreakerCooldown(Duration v) { this.circuitBreakerCooldown = v; }
    public Duration getEndedSessionRetention() { return endedSessionRetention; }
    public void setEndedSessionRetention(Duration v) { this.endedSessionRetention = v; }
    public Duration getSweepInterval() { return sweepInterval; }
    public void setSweepInterval(Duration v) { this.sweepInterval = v; }
    public int getJournalCapacity() { return journalCapacity; }
    public void setJournalCapacity(int v) { this.journalCapacity = v; }

    public String getMaxClientCostPerDayUsd() { return maxClientCostPerDayUsd; }
    public void setMaxClientCostPerDayUsd(String v) { this.maxClientCostPerDayUsd = v == null ? "" : v.strip(); }
    public String getMaxClientCostPerMonthUsd() { return maxClientCostPerMonthUsd; }
    public void setMaxClientCostPerMonthUsd(String v) { this.maxClientCostPerMonthUsd = v == null ? "" : v.strip(); }
    public String getClientMinutesPerDay() { return clientMinutesPerDay; }
    public void setClientMinutesPerDay(String v) { this.clientMinutesPerDay = v == null ? "" : v.strip(); }
    public String getBudgetTimeZone() { return budgetTimeZone; }
    public void setBudgetTimeZone(String v) { this.budgetTimeZone = v; }

    @AssertTrue(message = "budgetTimeZone must be a time zone id such as UTC or Europe/Berlin")
    public boolean isBudgetTimeZoneValid() {
        try {
            ZoneId.of(budgetTimeZone);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The clients' default budgets over calendar days and months ({@link BudgetLimits#NONE} where empty). */
    public BudgetLimits budgets() {
        return new BudgetLimits(usdOrNone(maxClientCostPerDayUsd), usdOrNone(maxClientCostPerMonthUsd),
                clientMinutesPerDay.isEmpty() ? BudgetLimits.NONE : minutesToMillis(new BigDecimal(clientMinutesPerDay)));
    }

    public ZoneId budgetZone() {
        return ZoneId.of(budgetTimeZone);
    }

    private static long usdOrNone(String usd) {
        return usd.isEmpty() ? BudgetLimits.NONE : Money.nanoUsd(new BigDecimal(usd));
    }

    /** Minutes (at most millisecond precision; finer is rounded up) as milliseconds. */
    public static long minutesToMillis(BigDecimal minutes) {
        return minutes.multiply(BigDecimal.valueOf(60_000)).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    }

    public CostLimits limits() {
        return new CostLimits(enabled, Money.nanoUsd(maxSessionCostUsd), maxSessionDurationMinutes * 60_000L,
                budgetWarningPercent * 100, maxConcurrentSessionsPerClient, Money.nanoUsd(maxTotalCostPerHourUsd),
                3_600_000L, Money.nanoUsd(circuitBreakerThresholdUsd), circuitBreakerWindow.toMilliseconds(),
                circuitBreakerCooldown.toMilliseconds(), Money.nanoUsd(maxClientCostPerHourUsd));
    }
}
