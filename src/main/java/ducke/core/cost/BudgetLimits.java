package ducke.core.cost;

/**
 * A client's budgets: spend per calendar day and month (nano-USD) and session time per calendar day
 * (milliseconds). {@link #NONE} in a field: no limit over that window.
 */
public record BudgetLimits(long dayNanoUsd, long monthNanoUsd, long dayMillis) {

    /** No limit over the window. */
    public static final long NONE = -1;
    public static final BudgetLimits UNLIMITED = new BudgetLimits(NONE, NONE, NONE);

    public BudgetLimits {
        if (dayNanoUsd < NONE || monthNanoUsd < NONE || dayMillis < NONE) {
            throw new IllegalArgumentException("a budget is a non-negative amount, or none");
        }
    }

    /** Whether any window is limited. */
    public boolean any() {
        return dayNanoUsd != NONE || monthNanoUsd != NONE || dayMillis != NONE;
    }

    /** Whether spend is limited over a day or a month. */
    public boolean money() {
        return dayNanoUsd != NONE || monthNanoUsd != NONE;
    }

    public long limit(BudgetWindow w) {
        return switch (w) {
            case DAY -> dayNanoUsd;
            case MONTH -> monthNanoUsd;
            case MINUTES -> dayMillis;
        };
    }
}
