package ducke.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * One machine-readable line per attack for {@code bench/hostile-clients.sh}: what the stand-in
 * upstream billed, what the ledger holds, what the audit store holds (its charge rows, read through
 * {@code GET /v1/audit/charges} with the operator token) and the overspend past a cap:
 * <pre>cost-integrity|&lt;attack&gt;|billed=&lt;usd&gt;|ledger=&lt;usd&gt;|audit=&lt;usd&gt;|cap=&lt;name&gt;:&lt;usd&gt;|over=&lt;usd&gt;|usage=arrived|…</pre>
 * {@code billed_max} replaces {@code billed} where the stand-in bills nothing the test can see (the
 * upstream broke, or never answered): the most the provider can have billed, the whole context and
 * the whole output limit. {@code usage=estimated} marks rows whose usage never reached the guard
 * (the ledger must then cover the bill, not equal it). Figures are exact decimals; a line only
 * reports, the tests assert.
 */
public final class CostIntegrity {

    public static final String PREFIX = "cost-integrity|";

    private final StringBuilder line;
    private BigDecimal billed;
    private BigDecimal ledger;
    private BigDecimal cap;
    private BigDecimal spentInScope;

    private CostIntegrity(String attack) {
        if (attack.contains("|") || attack.contains("\n")) {
            throw new IllegalArgumentException("attack names carry no '|': " + attack);
        }
        line = new StringBuilder(PREFIX).append(attack);
    }

    public static CostIntegrity attack(String name) {
        return new CostIntegrity(name);
    }

    /** What the stand-in billed, priced with the test's own arithmetic. */
    public CostIntegrity billed(BigDecimal usd) {
        billed = usd;
        return field("billed", usd(usd));
    }

    /** The most the provider can have billed, where the stand-in's bill is not seen. */
    public CostIntegrity billedAtMost(BigDecimal usd) {
        billed = usd;
        return field("billed_max", usd(usd));
    }

    public CostIntegrity ledger(BigDecimal usd) {
        ledger = usd;
        return field("ledger", usd(usd));
    }

    public CostIntegrity audit(BigDecimal usd) {
        return field("audit", usd(usd));
    }

    /** The cap the attack pushes against; the overspend past it is what was spent beyond it (billed or charged, the larger). */
    public CostIntegrity cap(String name, BigDecimal usd) {
        cap = usd;
        return field("cap", name + ":" + usd(usd));
    }

    /**
     * What counts against the cap when it is more than this row's sessions (a breaker window that
     * also holds other sessions' spend): the overspend is computed from it.
     */
    public CostIntegrity spentAgainstCap(BigDecimal usd) {
        spentInScope = usd;
        return field("spent_against_cap", usd(usd));
    }

    /** {@code arrived}: the provider's usage reached the guard; {@code estimated}: it did not, the reservation was charged. */
    public CostIntegrity usage(String how) {
        return field("usage", how);
    }

    /** Anything else the attack measures (no '|'). */
    public CostIntegrity note(String text) {
        return field("note", text.replace('|', '/'));
    }

    public CostIntegrity field(String key, String value) {
        line.append('|').append(key).append('=').append(value);
        return this;
    }

    /** Prints the line (with the overspend, when a cap was given). */
    public void print() {
        if (cap != null) {
            BigDecimal spent = spentInScope != null ? spentInScope : billed == null ? ledger : ledger == null ? billed : billed.max(ledger);
            field("over", usd(spent.subtract(cap).max(BigDecimal.ZERO)));
        }
        System.out.println(line);
    }

    /** Exact, without trailing zeros past the cents: 57.668, 7.00, 0.00. */
    public static String usd(BigDecimal v) {
        BigDecimal s = v.stripTrailingZeros();
        return (s.scale() < 2 ? s.setScale(2) : s).toPlainString();
    }

    /** The sum of a session's charge rows in one node's audit store (zero when it has none). */
    public static BigDecimal charges(Http node, String sessionId) {
        BigDecimal sum = BigDecimal.ZERO;
        String cursor = null;
        do {
            String path = "/v1/audit/charges?limit=1000&session=" + URLEncoder.encode(sessionId, StandardCharsets.UTF_8)
                    + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
            HttpResponse<String> r = node.get(path, "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN);
            if (r.statusCode() == 404 && cursor == null) {
                return BigDecimal.ZERO;
            }
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            JsonNode page = Http.json(r);
            for (JsonNode c : page.path("charges")) {
                sum = sum.add(c.path("cost_usd").decimalValue());
            }
            cursor = page.path("next_cursor").isTextual() ? page.get("next_cursor").asText() : null;
        } while (cursor != null);
        return sum;
    }

    /**
     * What the audit stores of {@code nodes} together hold for {@code sessions}: rows are written off
     * the request path (a reaper pass, every second by default), so this polls until the sum reaches
     * {@code expected} (the ledger's figure) or {@code within} has passed, and returns the last sum.
     */
    public static BigDecimal audited(List<Http> nodes, Collection<String> sessions, BigDecimal expected, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            BigDecimal sum = BigDecimal.ZERO;
            for (Http node : nodes) {
                for (String s : sessions) {
                    sum = sum.add(charges(node, s));
                }
            }
            if (sum.compareTo(expected) >= 0 || System.nanoTime() - deadline > 0) {
                return sum;
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
    }

    /**
     * The cost on an ended session's own audit row (its totals, next to its charge rows), from
     * whichever of {@code nodes} wrote it, polled until it is there; null when none is within {@code within}.
     */
    public static BigDecimal sessionRow(List<Http> nodes, String clientId, String sessionId, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() - deadline < 0) {
            for (Http node : nodes) {
                JsonNode rows = Http.json(node.get("/v1/audit/sessions?limit=1000&client=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8),
                        "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN));
                for (JsonNode row : rows.path("sessions")) {
                    if (row.path("session_id").asText().equals(sessionId)) {
                        return row.path("cost_usd").decimalValue();
                    }
                }
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        return null;
    }

    /** {@link #audited(List, Collection, BigDecimal, Duration)} on one node, 20 s at most. */
    public static BigDecimal audited(Http node, Collection<String> sessions, BigDecimal expected) {
        return audited(List.of(node), sessions, expected, Duration.ofSeconds(20));
    }
}
