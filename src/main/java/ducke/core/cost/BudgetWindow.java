package ducke.core.cost;

/**
 * The windows of a client's budgets: spend in the calendar day, spend in the calendar month, and
 * session time in the calendar day. {@link #limit} is the label of {@code budget_exceeded_total}
 * and the {@code window} an error names.
 */
public enum BudgetWindow {
    DAY("client_day", "day"),
    MONTH("client_month", "month"),
    MINUTES("client_minutes", "day_minutes");

    private final String limit;
    private final String window;

    BudgetWindow(String limit, String window) {
        this.limit = limit;
        this.window = window;
    }

    /** The {@code limit} label of {@code budget_exceeded_total}. */
    public String limit() {
        return limit;
    }

    /** The name an answer gives the window ({@code day}, {@code month}, {@code day_minutes}). */
    public String window() {
        return window;
    }
}
