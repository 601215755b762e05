package ducke.metrics;

/** Every metric name this service exports; dashboards and alerts depend on them. */
public final class MetricNames {
    public static final String RATE_LIMIT_EXCEEDED = "rate_limit_exceeded_total";
    public static final String RATE_LIMIT_CHECK_DURATION = "rate_limit_check_duration_seconds";
    public static final String RATE_LIMIT_GRID_ERRORS = "rate_limit_grid_errors_total";
    public static final String RATE_LIMIT_LOCAL_REJECTIONS = "rate_limit_local_rejections_total";
    public static final String RATE_LIMIT_LOCAL_DENIALS = "rate_limit_local_denials";
    public static final String CLUSTER_MEMBERS = "cluster_members";

    private MetricNames() {
    }
}
