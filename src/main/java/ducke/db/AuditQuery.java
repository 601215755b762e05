package ducke.db;

/**
 * Filters of an audit query; null fields do not filter. Times are epoch milliseconds on the
 * session's end, {@code from} inclusive and {@code to} exclusive.
 */
public record AuditQuery(Long fromMillis, Long toMillis, String client, String model, String endReason,
                         java.math.BigDecimal minCostUsd) {

    public static AuditQuery all() {
        return new AuditQuery(null, null, null, null, null, null);
    }
}
