package ducke.core.cost;

/**
 * Each client's budgets ({@link ClientBudget}), updated atomically under the client's key. Each
 * operation carries the caller's time, the windows of that time and the configured defaults, so
 * that the result does not depend on where it runs. Every method may throw
 * {@link ducke.core.cluster.QuorumLostException}, having changed nothing.
 */
public interface BudgetStore {

    /** The client's budget as stored (null: none). */
    ClientBudget get(String clientId);

    /** {@link ClientBudget#reserveUpTo}; the amount taken (≥ 1), or 0 when refused. Without money limits: {@code maxNanoUsd}. */
    long reserve(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis, long expiresAtMillis,
                 BudgetWindows w, BudgetLimits defaults);

    void charge(String clientId, long costNanoUsd, long nowMillis, BudgetWindows w, String releaseHoldId);

    void release(String clientId, String holdId, long nowMillis, BudgetWindows w);

    /** {@link ClientBudget#reserveTime}; the time taken, or 0 when refused. Without a time limit: {@code maxMillis}. */
    long reserveTime(String clientId, String sessionId, long minMillis, long maxMillis, long nowMillis, long expiresAtMillis,
                     BudgetWindows w, BudgetLimits defaults);

    void useTime(String clientId, String sessionId, long usedMillis, long nowMillis, BudgetWindows w);

    /** Installs an override (the later of it and what is stored wins); the budget after. */
    ClientBudget override(String clientId, BudgetOverride override, long nowMillis, BudgetWindows w);

    /** Adds a client's state rebuilt from the audit store ({@link ClientBudget#merge}: installing it twice changes nothing). */
    void seed(String clientId, ClientBudget seed, long nowMillis, BudgetWindows w);

    /** Whether any client has an override: budgets apply even with no default configured. */
    boolean anyOverride();
}
