package ducke.metrics;

/** Every metric name this service exports; dashboards and alerts depend on them. */
public final class MetricNames {
    public static final String RATE_LIMIT_EXCEEDED = "rate_limit_exceeded_total";
    public static final String RATE_LIMIT_CHECK_DURATION = "rate_limit_check_duration_seconds";
    public static final String RATE_LIMIT_GRID_ERRORS = "rate_limit_grid_errors_total";
    public static final String RATE_LIMIT_LOCAL_REJECTIONS = "rate_limit_local_rejections_total";
    public static final String RATE_LIMIT_LOCAL_DENIALS = "rate_limit_local_denials";
    public static final String CLUSTER_MEMBERS = "cluster_members";
    public static final String API_COST = "api_cost_total_usd";
    public static final String TOKEN_USAGE = "token_usage_total";
    public static final String BUDGET_EXCEEDED = "budget_exceeded_total";
    public static final String UNKNOWN_MODEL_CHARGES = "unknown_model_charges_total";
    public static final String SESSION_DURATION = "session_duration_seconds";
    public static final String ACTIVE_SESSIONS = "active_sessions_total";
    public static final String BREAKER_OPEN = "circuit_breaker_open";
    public static final String BREAKER_SPEND = "circuit_breaker_spend_usd";
    public static final String BREAKER_THRESHOLD = "circuit_breaker_threshold_usd";
    public static final String HOURLY_SPEND = "hourly_spend_usd";
    public static final String HOURLY_CAP = "hourly_spend_cap_usd";
    public static final String CLUSTER_QUORUM = "cluster_quorum";
    public static final String COST_JOURNAL_ENTRIES = "cost_journal_entries";
    public static final String COST_JOURNAL = "cost_journal_total";
    public static final String ESTIMATED_CHARGES = "estimated_charges_total";
    public static final String SESSION_RESERVATIONS = "session_reservations_total";
    public static final String NODE_DRAINING = "node_draining";
    public static final String RELAY_GOODBYES = "relay_goodbyes_total";
    /** Realtime sessions paused at their cap (COST_PROTECTION_ON_CAP=pause), by the end they were spared. */
    public static final String SESSIONS_PAUSED = "sessions_paused_total";
    public static final String SESSIONS_RESUMED = "sessions_resumed_total";

    private MetricNames() {
    }
}
