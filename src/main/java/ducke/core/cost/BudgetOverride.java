package ducke.core.cost;

/**
 * The budgets a backend set for one client, over the configured defaults: per field,
 * {@link #INHERIT} follows the default, {@link BudgetLimits#NONE} is no limit, any other value is
 * the limit (nano-USD, milliseconds). {@code updatedAtMillis} orders two versions: the later one
 * wins when copies diverged.
 */
public record BudgetOverride(long dayNanoUsd, long monthNanoUsd, long dayMillis, long updatedAtMillis) {

    /** The field follows the configured default. */
    public static final long INHERIT = -2;

    public BudgetOverride {
        if (dayNanoUsd < INHERIT || monthNanoUsd < INHERIT || dayMillis < INHERIT) {
            throw new IllegalArgumentException("a budget is a non-negative amount, none or the default");
        }
    }

    /** The limits in force: this override's fields over {@code defaults}. */
    public BudgetLimits over(BudgetLimits defaults) {
        return new BudgetLimits(pick(dayNanoUsd, defaults.dayNanoUsd()), pick(monthNanoUsd, defaults.monthNanoUsd()),
                pick(dayMillis, defaults.dayMillis()));
    }

    private static long pick(long own, long fallback) {
        return own == INHERIT ? fallback : own;
    }

    /**
     * The later of two versions (null: none); of two set in the same millisecond, the one with the
     * lower limits (a merge must not depend on the order of its arguments).
     */
    public static BudgetOverride later(BudgetOverride a, BudgetOverride b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        if (a.updatedAtMillis != b.updatedAtMillis) {
            return b.updatedAtMillis > a.updatedAtMillis ? b : a;
        }
        java.util.Comparator<BudgetOverride> lower = java.util.Comparator.<BudgetOverride>comparingLong(o -> limit(o.dayNanoUsd))
                .thenComparingLong(o -> limit(o.monthNanoUsd)).thenComparingLong(o -> limit(o.dayMillis));
        return lower.compare(a, b) <= 0 ? a : b;
    }

    /** A field as a limit to compare: "no limit" and "the default" above every amount. */
    private static long limit(long field) {
        return field < 0 ? Long.MAX_VALUE : field;
    }

    /** {@code next} over {@code current}, unless {@code current} was set later. */
    public static BudgetOverride replacing(BudgetOverride current, BudgetOverride next) {
        return current == null || next.updatedAtMillis >= current.updatedAtMillis ? next : current;
    }
}
