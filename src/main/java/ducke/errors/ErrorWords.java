package ducke.errors;

/** The stable machine words of the {@code error} field. */
public final class ErrorWords {
    public static final String RATE_LIMIT_EXCEEDED = "rate_limit_exceeded";
    public static final String RATE_LIMIT_UNAVAILABLE = "rate_limit_unavailable";
    public static final String CIRCUIT_BREAKER_OPEN = "circuit_breaker_open";
    public static final String HOURLY_LIMIT_EXCEEDED = "hourly_limit_exceeded";
    public static final String CONCURRENT_SESSION_LIMIT = "concurrent_session_limit";
    public static final String CLIENT_BUDGET_EXCEEDED = "client_budget_exceeded";
    public static final String SESSION_BUDGET_EXCEEDED = "session_budget_exceeded";
    public static final String SESSION_EXPIRED = "session_expired";
    public static final String SESSION_NOT_FOUND = "session_not_found";
    public static final String SESSION_ENDED = "session_ended";
    public static final String INVALID_REQUEST = "invalid_request";
    public static final String UNAUTHORIZED = "unauthorized";
    public static final String FORBIDDEN = "forbidden";
    public static final String UPSTREAM_UNAVAILABLE = "upstream_unavailable";
    public static final String CLUSTER_DEGRADED = "cluster_degraded";
    public static final String NODE_DRAINING = "node_draining";
    /** 503: the audit store (SQL) cannot be reached; what needed it changed nothing. */
    public static final String AUDIT_UNAVAILABLE = "audit_unavailable";
    /** 404: the session lists no such open reservation (unknown, or settled, released or charged already). */
    public static final String RESERVATION_NOT_FOUND = "reservation_not_found";
    /** 409: a report naming a reservation that was charged before (at its expiry, or by another report); nothing charged. */
    public static final String RESERVATION_SETTLED = "reservation_settled";
    public static final String INTERNAL_ERROR = "internal_error";

    private ErrorWords() {
    }

    /**
     * The word for a status that has no more specific one. 501 (a transfer coding we do not
     * implement) and 505 (an HTTP version we do not speak) answer the request, not a fault of ours.
     */
    public static String forStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 429 -> RATE_LIMIT_EXCEEDED;
            case 501, 505 -> INVALID_REQUEST;
            default -> status >= 500 ? INTERNAL_ERROR : INVALID_REQUEST;
        };
    }
}
