package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.core.cost.SessionIds;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session API's per-response reservations against the running application (real grid, real
 * H2): a response's worst case is held against the session's cap, the client's hour and the
 * breaker's window before the backend asks the model; its usage report settles it to what was used;
 * without a report it is charged its amount, estimated, at its expiry; a report is charged once
 * whatever is retried. Expected money is computed here from config.yml's prices (gpt-5: 10 USD per
 * million input tokens, 30 per million output), not read back from the guard.
 */
class ReservationsAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private static final BigDecimal INPUT_PER_MILLION = new BigDecimal("10.00");
    private static final BigDecimal OUTPUT_PER_MILLION = new BigDecimal("30.00");
    private static final BigDecimal MILLION = new BigDecimal(1_000_000);

    private final MutableClock clock = MutableClock.at("2026-12-06T10:00:00Z");
    private DropwizardTestSupport<DuckeConfiguration> app;
    private Http node;

    @BeforeEach
    void start() throws Exception {
        app = TestApps.support(clock, "costProtection.maxClientCostPerHourUsd", "1.00", "costProtection.sweepInterval", "50ms",
                "rateLimits.defaultLimit", "100000/minute", "rateLimits.websocket", "100000/minute",
                "rateLimits.status", "100000/minute");
        app.before();
        node = Http.local(app.getLocalPort());
        TestApps.awaitReady(1, node);
    }

    @AfterEach
    void stop() {
        app.after();
        TestApps.clearOverrides();
    }

    /** The oracle: tokens at the model's rates, exact. */
    private static BigDecimal cost(long input, long output) {
        return INPUT_PER_MILLION.multiply(BigDecimal.valueOf(input)).add(OUTPUT_PER_MILLION.multiply(BigDecimal.valueOf(output)))
                .divide(MILLION);
    }

    @Test
    void aReportSettlesItsReservationToWhatWasUsedAndIsChargedOnceWhateverIsRetried() {
        String s = startSession("192.0.2.10");
        JsonNode first = Http.json(created(reserve(s, "{\"input_tokens\":10000,\"max_output_tokens\":20000}")));
        assertThat(first.get("reservation_id").asText()).matches("res_[0-9a-f]{24}");
        assertThat(first.get("session_id").asText()).isEqualTo(s);
        assertThat(first.get("model").asText()).isEqualTo("gpt-5");
        assertThat(first.get("reserved_usd").decimalValue()).isEqualByComparingTo(cost(10_000, 20_000)); // 0.70
        assertThat(first.get("expires_at").asText()).isEqualTo("2026-12-06T10:05:00Z");

        // the client's hour (1.00) holds 0.70: a second response of that worst case does not fit, in any session of it
        String other = startSession("192.0.2.10");
        HttpResponse<String> refused = reserve(other, "{\"input_tokens\":10000,\"max_output_tokens\":20000}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(Http.json(refused).get("error").asText()).isEqualTo("client_budget_exceeded");
        assertThat(Http.json(refused).get("reserved_usd").decimalValue()).isEqualByComparingTo("0.70");
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();

        String report = "{\"reservation_id\":\"" + first.get("reservation_id").asText()
                + "\",\"model\":\"gpt-5\",\"input_tokens\":1000,\"output_tokens\":2000}";
        HttpResponse<String> settled = node.post("/v1/sessions/" + s + "/usage", report, "Authorization", SERVICE);
        assertThat(settled.statusCode()).as(settled.body()).isEqualTo(200);
        assertThat(Http.json(settled).get("call_cost").decimalValue()).isEqualByComparingTo(cost(1000, 2000)); // 0.07
        assertThat(sessionCost(s)).isEqualByComparingTo(cost(1000, 2000));

        // settled: the hold is gone, the hour counts 0.07, and 0.70 fits again
        created(reserve(other, "{\"input_tokens\":10000,\"max_output_tokens\":20000}"));

        HttpResponse<String> retried = node.post("/v1/sessions/" + s + "/usage", report, "Authorization", SERVICE);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo(settled.body());
        assertThat(sessionCost(s)).as("a retried report is charged once").isEqualByComparingTo(cost(1000, 2000));

        HttpResponse<String> different = node.post("/v1/sessions/" + s + "/usage", report.replace("2000", "3000"),
                "Authorization", SERVICE);
        assertThat(different.statusCode()).as(different.body()).isEqualTo(409);
        assertThat(Http.json(different).get("error").asText()).isEqualTo("reservation_settled");
        assertThat(sessionCost(s)).isEqualByComparingTo(cost(1000, 2000));

        String metrics = node.get("/metrics").body();
        assertThat(PromText.value(metrics, "session_reservations_total", "outcome=\"granted\"")).isEqualTo(2.0);
        assertThat(PromText.value(metrics, "session_reservations_total", "outcome=\"refused\"")).isEqualTo(1.0);
        assertThat(PromText.value(metrics, "session_reservations_total", "outcome=\"settled\"")).isEqualTo(1.0);
    }

    @Test
    void aReservationWhoseReportNeverComesIsChargedItsAmountEstimatedAtExpiryAndALateReportAddsNothing() throws Exception {
        String s = startSession("192.0.2.11");
        JsonNode r = Http.json(created(reserve(s, "{\"input_tokens\":1000,\"max_output_tokens\":1000,\"expires_in_seconds\":10}")));
        BigDecimal amount = cost(1000, 1000); // 0.04
        assertThat(r.get("reserved_usd").decimalValue()).isEqualByComparingTo(amount);
        assertThat(r.get("expires_at").asText()).isEqualTo("2026-12-06T10:00:10Z");

        clock.advance(Duration.ofMillis(9_999));
        assertThat(sessionCost(s)).as("not expired yet").isEqualByComparingTo("0");
        clock.advance(Duration.ofMillis(1));
        Poll.until("the expired reservation charged", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> node.get("/v1/sessions/" + s, "Authorization", SERVICE).body(),
                () -> sessionCost(s).compareTo(amount) == 0);
        Poll.until("its charge in the audit", Duration.ofSeconds(20), Duration.ofMillis(50), () -> charges(s).toString(),
                () -> charges(s).size() == 1);
        JsonNode charge = charges(s).get(0);
        assertThat(charge.get("estimated").asBoolean()).isTrue();
        assertThat(charge.get("cost_usd").decimalValue()).isEqualByComparingTo(amount);
        assertThat(charge.get("charge_key").asText()).isEqualTo("report:reservation:" + r.get("reservation_id").asText());

        HttpResponse<String> late = node.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":\""
                + r.get("reservation_id").asText() + "\",\"input_tokens\":900,\"output_tokens\":100}", "Authorization", SERVICE);
        assertThat(late.statusCode()).as(late.body()).isEqualTo(409);
        assertThat(Http.json(late).get("error").asText()).isEqualTo("reservation_settled");
        assertThat(sessionCost(s)).as("charged once: the estimate").isEqualByComparingTo(amount);
        HttpResponse<String> release = node.send("DELETE", "/v1/sessions/" + s + "/reservations/" + r.get("reservation_id").asText(),
                "Authorization", SERVICE);
        assertThat(release.statusCode()).as("charged, so no longer open").isEqualTo(404);

        String metrics = node.get("/metrics").body();
        assertThat(PromText.value(metrics, "session_reservations_total", "outcome=\"expired\"")).isEqualTo(1.0);
        assertThat(PromText.value(metrics, "estimated_charges_total", "model=\"gpt-5\"")).isEqualTo(1.0);
    }

    @Test
    void theSessionsCapHoldsItsOpenReservationsAndAReleasedOneGivesItsRoomBack() {
        String s = startSession("192.0.2.12");
        HttpResponse<String> cap = node.patch("/v1/sessions/" + s, "{\"max_cost_usd\":\"0.10\"}", "Authorization", SERVICE);
        assertThat(cap.statusCode()).as(cap.body()).isEqualTo(200);
        String body = "{\"input_tokens\":1000,\"max_output_tokens\":1000}"; // 0.04
        String first = Http.json(created(reserve(s, body))).get("reservation_id").asText();
        created(reserve(s, body));
        HttpResponse<String> third = reserve(s, body);
        assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
        JsonNode refused = Http.json(third);
        assertThat(refused.get("error").asText()).isEqualTo("session_budget_exceeded");
        assertThat(refused.get("held_usd").decimalValue()).isEqualByComparingTo("0.08");
        assertThat(refused.get("max_cost_usd").decimalValue()).isEqualByComparingTo("0.10");

        HttpResponse<String> released = node.send("DELETE", "/v1/sessions/" + s + "/reservations/" + first, "Authorization", SERVICE);
        assertThat(released.statusCode()).as(released.body()).isEqualTo(200);
        assertThat(Http.json(released).get("released").asBoolean()).isTrue();
        assertThat(node.send("DELETE", "/v1/sessions/" + s + "/reservations/" + first, "Authorization", SERVICE).statusCode())
                .isEqualTo(404);
        created(reserve(s, body));
        assertThat(sessionCost(s)).as("a released reservation is not charged").isEqualByComparingTo("0");
    }

    @Test
    void concurrentReservationsNeverHoldMoreThanTheSessionsCapOrTheClientsHour() throws Exception {
        // 0.13 each
        String body = "{\"input_tokens\":1000,\"max_output_tokens\":4000}";
        assertThat(cost(1000, 4000)).isEqualByComparingTo("0.13");
        String s = startSession("192.0.2.13");
        assertThat(node.patch("/v1/sessions/" + s, "{\"max_cost_usd\":\"0.50\"}", "Authorization", SERVICE).statusCode()).isEqualTo(200);
        assertThat(granted(s, body, 16)).as("three fit in the session's 0.50 (0.39), a fourth would not").isEqualTo(3);

        // the client's hour (1.00) holds those 0.39: another session of the client gets four more (0.52), not five
        String other = startSession("192.0.2.13");
        assertThat(granted(other, body, 16)).isEqualTo(4);
    }

    /**
     * A backend whose responses use every token it reserved, 16 at once in each of two sessions of
     * one client, against the client's hourly cap (1.00): what the provider would bill (the test's
     * sum of the reports) is what the ledger and the audit hold, and stays within the cap. The same
     * backend reporting without reservations is charged every report, past the cap.
     */
    @Test
    void aBackendReservingEveryResponseStaysWithinTheClientsHourWhereReportsAloneGoPastIt() throws Exception {
        String reserve = "{\"input_tokens\":1000,\"max_output_tokens\":4000}";
        BigDecimal each = cost(1000, 4000); // 0.13
        List<String> sessions = List.of(startSession("192.0.2.20"), startSession("192.0.2.20"));
        List<Callable<String>> tries = new ArrayList<>();
        for (String s : sessions) {
            for (int i = 0; i < 16; i++) {
                tries.add(() -> {
                    HttpResponse<String> r = reserve(s, reserve);
                    assertThat(r.statusCode()).as(r.body()).isIn(201, 429);
                    return r.statusCode() == 201 ? s + " " + Http.json(r).get("reservation_id").asText() : null;
                });
            }
        }
        List<String> granted = run(tries).stream().filter(g -> g != null).toList();
        assertThat(granted).hasSize(7); // 7 × 0.13 = 0.91 of 1.00
        List<Callable<String>> reports = new ArrayList<>();
        for (String g : granted) {
            String[] sr = g.split(" ");
            reports.add(() -> node.post("/v1/sessions/" + sr[0] + "/usage", "{\"reservation_id\":\"" + sr[1]
                    + "\",\"input_tokens\":1000,\"output_tokens\":4000}", "Authorization", SERVICE).statusCode() + "");
        }
        assertThat(run(reports)).containsOnly("200");
        BigDecimal billed = each.multiply(BigDecimal.valueOf(granted.size()));
        BigDecimal ledger = sessionCost(sessions.get(0)).add(sessionCost(sessions.get(1)));
        assertThat(ledger).isEqualByComparingTo(billed);
        BigDecimal audit = auditOf(sessions, billed);
        ducke.testing.CostIntegrity.attack("session API: a backend reserving each response, 16 at once in each of 2 sessions")
                .usage("arrived").billed(billed).ledger(ledger).audit(audit).cap("client hour", new BigDecimal("1.00"))
                .field("reservations_granted", granted.size() + " of 32").print();

        // the same backend without reservations: every report is money spent, charged, nothing stops the next response
        List<String> unreserved = List.of(startSession("192.0.2.21"), startSession("192.0.2.21"));
        List<Callable<String>> plain = new ArrayList<>();
        for (String s : unreserved) {
            for (int i = 0; i < 16; i++) {
                plain.add(() -> node.post("/v1/sessions/" + s + "/usage", "{\"input_tokens\":1000,\"output_tokens\":4000}",
                        "Authorization", SERVICE).statusCode() + "");
            }
        }
        assertThat(run(plain)).containsOnly("200");
        BigDecimal billedPlain = each.multiply(BigDecimal.valueOf(32));
        BigDecimal ledgerPlain = sessionCost(unreserved.get(0)).add(sessionCost(unreserved.get(1)));
        assertThat(ledgerPlain).isEqualByComparingTo(billedPlain);
        ducke.testing.CostIntegrity.attack("session API: the same backend reporting without reservations (before)")
                .usage("arrived").billed(billedPlain).ledger(ledgerPlain).audit(auditOf(unreserved, billedPlain))
                .cap("client hour", new BigDecimal("1.00")).print();
    }

    /** The sum of the sessions' charge rows once they reach {@code expected} (the rows follow the charges). */
    private BigDecimal auditOf(List<String> sessions, BigDecimal expected) throws Exception {
        java.util.concurrent.atomic.AtomicReference<BigDecimal> sum = new java.util.concurrent.atomic.AtomicReference<>();
        Poll.until("the charge rows in the audit", Duration.ofSeconds(30), Duration.ofMillis(50), () -> String.valueOf(sum.get()), () -> {
            BigDecimal total = BigDecimal.ZERO;
            for (String s : sessions) {
                total = total.add(ducke.testing.CostIntegrity.charges(node, s));
            }
            sum.set(total);
            return total.compareTo(expected) >= 0;
        });
        return sum.get();
    }

    private static <T> List<T> run(List<Callable<T>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<T> out = new ArrayList<>();
            for (Future<T> f : pool.invokeAll(tasks)) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sends {@code n} reservations at once and counts the granted ones; every other one is a 429. */
    private int granted(String session, String body, int n) throws Exception {
        List<Callable<Integer>> tries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tries.add(() -> reserve(session, body).statusCode());
        }
        List<Integer> codes = run(tries);
        assertThat(codes).as(codes.toString()).containsOnly(201, 429);
        return (int) codes.stream().filter(c -> c == 201).count();
    }

    @Test
    void badReservationsAndReportsAreRefusedWithTheErrorBodyAndChangeNothing() {
        String s = startSession("192.0.2.14");
        for (String bad : List.of("{\"input_tokens\":-1,\"max_output_tokens\":10}", "{\"input_tokens\":1.5,\"max_output_tokens\":10}",
                "{\"input_tokens\":10}", "{\"input_tokens\":10,\"max_output_tokens\":0}", "{\"input_tokens\":\"10\",\"max_output_tokens\":10}",
                "{\"input_tokens\":10,\"max_output_tokens\":10,\"model\":\"gpt-5\"}", "{\"input_tokens\":10,\"max_output_tokens\":10,"
                        + "\"expires_in_seconds\":0}", "{\"input_tokens\":10,\"max_output_tokens\":10,\"expires_in_seconds\":1801}",
                "{\"input_tokens\":10,\"max_output_tokens\":99999999999}", "[]", "")) {
            HttpResponse<String> r = reserve(s, bad);
            assertThat(r.statusCode()).as(bad + " -> " + r.body()).isBetween(400, 422);
            assertThat(Http.json(r).get("error").asText()).as(bad).isEqualTo("invalid_request");
        }
        assertThat(Http.json(reserve(SessionIds.next(), "{\"input_tokens\":1,\"max_output_tokens\":1}")).get("error").asText())
                .isEqualTo("session_not_found");
        assertThat(reserve("nope", "{\"input_tokens\":1,\"max_output_tokens\":1}").statusCode()).isEqualTo(404);
        assertThat(node.post("/v1/sessions/" + s + "/reservations", "{\"input_tokens\":1,\"max_output_tokens\":1}").statusCode())
                .as("no token").isEqualTo(401);

        // the longest wait: half the ended sessions' retention (1 h in config.yml)
        JsonNode longest = Http.json(created(reserve(s, "{\"input_tokens\":1,\"max_output_tokens\":1,\"expires_in_seconds\":1800}")));
        assertThat(longest.get("expires_at").asText()).isEqualTo("2026-12-06T10:30:00Z");
        assertThat(node.send("DELETE", "/v1/sessions/" + s + "/reservations/" + longest.get("reservation_id").asText(),
                "Authorization", SERVICE).statusCode()).isEqualTo(200);

        String usage = "\"input_tokens\":1,\"output_tokens\":1}";
        HttpResponse<String> malformed = node.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":\"res_1\"," + usage,
                "Authorization", SERVICE);
        assertThat(malformed.statusCode()).as(malformed.body()).isEqualTo(422);
        HttpResponse<String> number = node.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":7," + usage,
                "Authorization", SERVICE);
        assertThat(number.statusCode()).as(number.body()).isEqualTo(422);
        String id = Http.json(created(reserve(s, "{\"input_tokens\":1,\"max_output_tokens\":1}"))).get("reservation_id").asText();
        HttpResponse<String> twoKeys = node.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":\"" + id + "\","
                + "\"report_id\":\"k1\"," + usage, "Authorization", SERVICE);
        assertThat(twoKeys.statusCode()).as(twoKeys.body()).isEqualTo(422);
        assertThat(node.send("DELETE", "/v1/sessions/" + s + "/reservations/res_x", "Authorization", SERVICE).statusCode())
                .isEqualTo(404);
        assertThat(Http.json(node.send("DELETE", "/v1/sessions/" + s + "/reservations/res_000000000000000000000000",
                "Authorization", SERVICE)).get("error").asText()).isEqualTo("reservation_not_found");
        assertThat(sessionCost(s)).as("nothing was charged").isEqualByComparingTo("0");

        // an ended session takes no new reservation, but the report of one taken before is charged
        assertThat(node.send("DELETE", "/v1/sessions/" + s, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        HttpResponse<String> ended = reserve(s, "{\"input_tokens\":1,\"max_output_tokens\":1}");
        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(409);
        assertThat(Http.json(ended).get("error").asText()).isEqualTo("session_ended");
        HttpResponse<String> afterEnd = node.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":\"" + id + "\"," + usage,
                "Authorization", SERVICE);
        assertThat(afterEnd.statusCode()).as(afterEnd.body()).isEqualTo(200);
        assertThat(sessionCost(s)).isEqualByComparingTo(cost(1, 1));
    }

    private String startSession(String client) {
        HttpResponse<String> r = node.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private HttpResponse<String> reserve(String session, String body) {
        return node.post("/v1/sessions/" + session + "/reservations", body, "Authorization", SERVICE);
    }

    private static HttpResponse<String> created(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r;
    }

    private BigDecimal sessionCost(String session) {
        HttpResponse<String> r = node.get("/v1/sessions/" + session, "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r).get("cost_usd").decimalValue();
    }

    private JsonNode charges(String session) {
        HttpResponse<String> r = node.get("/v1/audit/charges?session=" + session, "Authorization", OPERATOR);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode j = Http.json(r);
        return j.isArray() ? j : j.get("charges");
    }
}
