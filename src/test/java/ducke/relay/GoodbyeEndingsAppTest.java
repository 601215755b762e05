package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spoken goodbye ({@code RELAY_GOODBYE_INSTRUCTIONS}) on the other ways a session ends: a node
 * drained or stopped ({@code node_shutdown}: spoken and charged before the close, the node's stop
 * completes), a client whose hourly or day budget refuses the next response
 * ({@code client_budget_exceeded}: the goodbye's own reservation is refused too, so it is skipped),
 * and a client asking for a response while the goodbye is spoken (refused, never forwarded). Each
 * test runs a node of its own.
 */
class GoodbyeEndingsAppTest {

    private static final String INSTRUCTIONS = "Say a short goodbye: this conversation has reached its limit.";
    private static final long RESERVE = 200;
    /** The stand-in's context before anything is said (FakeUpstream), in tokens. */
    private static final long FIRST_CONTEXT = 1_000;
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-07T09:00:00Z");
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private DropwizardTestSupport<DuckeConfiguration> app;
    private String auditUrl;

    @AfterEach
    void stopApp() {
        if (app != null) {
            app.after();
            app = null;
        }
        UPSTREAM.holdsInstructed = false;
    }

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    /** A node with the goodbye on, its audit store readable after it stopped; {@code extra}: more overrides. */
    private void start(String... extra) throws Exception {
        auditUrl = "jdbc:h2:mem:goodbye-endings-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        List<String> settings = new ArrayList<>(List.of(
                "upstream.url", UPSTREAM.url(),
                "audit.url", auditUrl,
                "relay.goodbyeInstructions", INSTRUCTIONS,
                "relay.goodbyeReserveTokens", Long.toString(RESERVE),
                // the goodbye is answered by the stand-in at once, or released by the test: never waited out
                "relay.finalUsageWait", "30s",
                "drainTimeout", "5m",
                "costProtection.sweepInterval", "50ms",
                "costProtection.maxTotalCostPerHourUsd", "100000",
                "costProtection.circuitBreakerThresholdUsd", "100000",
                "rateLimits.defaultLimit", "100000/minute",
                "rateLimits.websocket", "100000/minute"));
        settings.addAll(Arrays.asList(extra));
        app = TestApps.support(CLOCK, settings.toArray(String[]::new));
        app.before();
        UPSTREAM.speaks = true;
    }

    private Http http() {
        return Http.local(app.getLocalPort());
    }

    private WsClient open(String client) throws Exception {
        WsClient c = WsClient.connect(app.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    private static FakeUpstream.Connection lastUpstream() {
        return UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
    }

    private static String id(WsClient c) {
        return c.started.get("session_id").asText();
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output. */
    private static BigDecimal usd(long inputTokens, long outputTokens) {
        return BigDecimal.valueOf(inputTokens * 100 + outputTokens * 200).movePointLeft(6);
    }

    /** What the stand-in billed, at those prices. */
    private static BigDecimal billedUsd(List<JsonNode> billed) {
        BigDecimal sum = BigDecimal.ZERO;
        for (JsonNode u : billed) {
            sum = sum.add(usd(u.get("input_tokens").asLong(), u.get("output_tokens").asLong()));
        }
        return sum;
    }

    /** The guard's goodbye requests as the stand-in received them. */
    private static List<JsonNode> goodbyeCreates(FakeUpstream.Connection up) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        for (String m : up.received) {
            JsonNode e = WsClient.parse(m);
            if (e.path("event_id").asText().equals(Goodbye.EVENT_ID)) {
                found.add(e);
            }
        }
        return found;
    }

    /** Every event the client got until the close; the close code last, as a number. */
    private static List<JsonNode> untilClosed(WsClient c, boolean askForMore) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        while (true) {
            WsClient.Received r = c.next();
            if (r.text() == null && r.binary() == null) {
                events.add(WsClient.parse(Integer.toString(r.closeCode())));
                return events;
            }
            if (r.text() == null) {
                continue;
            }
            JsonNode e = WsClient.parse(r.text());
            events.add(e);
            if (askForMore && e.path("type").asText().equals("usage_update")) {
                c.sendIfOpen("{\"type\":\"response.create\"}");
            }
        }
    }

    private static int indexOf(List<JsonNode> events, String type) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).path("type").asText().equals(type)) {
                return i;
            }
        }
        return -1;
    }

    private JsonNode ended(String sessionId) throws Exception {
        JsonNode[] s = {null};
        Poll.until("session " + sessionId + " ended", Duration.ofSeconds(30), Duration.ofMillis(20), () -> "session " + s[0], () -> {
            s[0] = Http.json(http().get("/v1/sessions/" + sessionId, "Authorization", SERVICE));
            return s[0].get("status").asText().equals("ended");
        });
        return s[0];
    }

    private double metric(String name, String labels) {
        return PromText.value(http().get("/metrics").body(), name, labels);
    }

    private double goodbyes(String outcome) {
        return metric("relay_goodbyes_total", "outcome=\"" + outcome + "\"");
    }

    /** The session's final audit row (end reason, cost) and its charge rows (cost, estimated), read from the store itself. */
    private record Audit(String endReason, BigDecimal cost, List<BigDecimal> charges, boolean anyEstimated) {
    }

    private Audit audit(String sessionId) throws Exception {
        Audit[] a = {null};
        Poll.until("the final audit row of " + sessionId, Duration.ofSeconds(30), Duration.ofMillis(20), () -> "audit " + a[0], () -> {
            a[0] = readAudit(sessionId);
            return a[0] != null;
        });
        return a[0];
    }

    private Audit readAudit(String sessionId) throws Exception {
        try (Connection db = DriverManager.getConnection(auditUrl, "sa", "")) {
            String reason;
            BigDecimal cost;
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT end_reason, cost_usd FROM audit_sessions WHERE session_id = ? AND is_open = FALSE")) {
                s.setString(1, sessionId);
                try (ResultSet r = s.executeQuery()) {
                    if (!r.next()) {
                        return null;
                    }
                    reason = r.getString(1);
                    cost = r.getBigDecimal(2);
                }
            }
            List<BigDecimal> charges = new ArrayList<>();
            boolean estimated = false;
            try (PreparedStatement s = db.prepareStatement("SELECT cost_usd, estimated FROM audit_charges WHERE session_id = ?")) {
                s.setString(1, sessionId);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        charges.add(r.getBigDecimal(1));
                        estimated |= r.getBoolean(2);
                    }
                }
            }
            return new Audit(reason, cost, charges, estimated);
        }
    }

    /**
     * The first response (300 output tokens on the stand-in's first context), charged: what it and
     * the goodbye after it cost by the test's own arithmetic, the goodbye reading the whole context
     * and the instructions (a token per 4 characters, as the stand-in counts them) and writing its
     * whole reserve (the session's 5.00 are far from spent).
     */
    private static BigDecimal firstResponseAndFullGoodbye() {
        long context = FIRST_CONTEXT + 300;
        return usd(FIRST_CONTEXT, 300).add(usd(context + INSTRUCTIONS.length() / 4, RESERVE));
    }

    /**
     * The client heard the goodbye before the node's ending: the goodbye's announcement, its audio
     * and its response.done (its whole reserve) before {@code service_unavailable} (node_shutdown),
     * then the error event and close 1012.
     */
    private static void heardTheGoodbyeThenNodeShutdown(List<JsonNode> events) {
        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1012);
        int unavailable = indexOf(events, "service_unavailable");
        assertThat(unavailable).as("service_unavailable in %s", events).isPositive();
        assertThat(events.get(unavailable).get("reason").asText()).isEqualTo("node_shutdown");
        assertThat(events.get(unavailable + 1).at("/error/code").asText()).isEqualTo("service_unavailable");
        int created = indexOf(events, "response.created");
        assertThat(created).as("the goodbye announced").isBetween(0, unavailable);
        String goodbyeId = events.get(created).at("/response/id").asText();
        List<JsonNode> before = events.subList(created, unavailable);
        assertThat(before).anyMatch(e -> e.path("type").asText().equals("response.output_audio.delta")
                && e.path("response_id").asText().equals(goodbyeId));
        assertThat(before).anyMatch(e -> e.path("type").asText().equals("response.done")
                && e.at("/response/id").asText().equals(goodbyeId) && e.at("/response/usage/output_tokens").asLong() == RESERVE);
    }

    private void assertGoodbyeAsked(FakeUpstream.Connection up, long maxOutputTokens) throws Exception {
        List<JsonNode> creates = goodbyeCreates(up);
        assertThat(creates).as("one goodbye response.create").hasSize(1);
        assertThat(creates.get(0).at("/response/instructions").asText()).isEqualTo(INSTRUCTIONS);
        assertThat(creates.get(0).at("/response/max_output_tokens").asLong()).isEqualTo(maxOutputTokens);
    }

    /** A first response, charged before the ending: the client's usage_update shows it. */
    private static void firstResponse(WsClient c) throws Exception {
        c.send("{\"type\":\"response.create\",\"test_want_output\":300}");
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo(usd(FIRST_CONTEXT, 300));
    }

    /**
     * A relayed session still live when the drain times out hears the model's goodbye before its
     * {@code node_shutdown} ending and close 1012; the goodbye is charged (ledger and audit equal
     * the stand-in's bill) and the drain completes.
     */
    @Test
    void aDrainedNodesLiveSessionHearsTheGoodbyeBeforeNodeShutdownAndItIsCharged() throws Exception {
        start();
        double done = goodbyes("done");
        WsClient c = open("198.51.100.41");
        FakeUpstream.Connection up = lastUpstream();
        firstResponse(c);

        Request drain = () -> Http.local(app.getAdminPort()).post("/tasks/drain", null, "Authorization", OPERATOR);
        assertThat(drain.send().statusCode()).isEqualTo(200);
        CLOCK.advance(Duration.ofMinutes(5));
        // a second request makes the drain look at the clock again: the timeout has come
        drain.send();
        List<JsonNode> events = untilClosed(c, false);
        ((DuckeApplication) app.getApplication()).drain().drained().get(60, TimeUnit.SECONDS);

        heardTheGoodbyeThenNodeShutdown(events);
        assertGoodbyeAsked(up, RESERVE);
        assertThat(up.billed).as("the first response and the goodbye").hasSize(2);
        BigDecimal expected = firstResponseAndFullGoodbye();
        assertThat(billedUsd(up.billed)).isEqualByComparingTo(expected);
        JsonNode session = ended(id(c));
        assertThat(session.get("end_reason").asText()).isEqualTo("node_shutdown");
        assertThat(session.get("cost_usd").decimalValue()).isEqualByComparingTo(expected);
        assertThat(session.get("charged_responses").asInt()).isEqualTo(2);
        Audit audit = audit(id(c));
        assertThat(audit.endReason()).isEqualTo("node_shutdown");
        assertThat(audit.cost()).isEqualByComparingTo(expected);
        assertThat(audit.charges()).hasSize(2);
        assertThat(audit.charges().stream().reduce(BigDecimal.ZERO, BigDecimal::add)).isEqualByComparingTo(expected);
        assertThat(audit.anyEstimated()).isFalse();
        assertThat(goodbyes("done")).isEqualTo(done + 1);
    }

    /**
     * A node stopped without a drain: its live session hears the goodbye before {@code node_shutdown}
     * and close 1012, the stop completes, and the audit store holds the session's end with the
     * goodbye charged at the stand-in's bill.
     */
    @Test
    void aStoppedNodesLiveSessionHearsTheGoodbyeAndTheStopCompletes() throws Exception {
        start();
        WsClient c = open("198.51.100.42");
        FakeUpstream.Connection up = lastUpstream();
        firstResponse(c);

        app.after();
        app = null;
        List<JsonNode> events = untilClosed(c, false);

        heardTheGoodbyeThenNodeShutdown(events);
        assertGoodbyeAsked(up, RESERVE);
        assertThat(up.billed).hasSize(2);
        BigDecimal expected = firstResponseAndFullGoodbye();
        assertThat(billedUsd(up.billed)).isEqualByComparingTo(expected);
        // what the ledger said last, as the client heard it after the goodbye's response.done
        JsonNode lastUsage = null;
        for (JsonNode e : events) {
            if (e.path("type").asText().equals("usage_update")) {
                lastUsage = e;
            }
        }
        assertThat(lastUsage).isNotNull();
        assertThat(lastUsage.get("session_cost").decimalValue()).isEqualByComparingTo(expected);
        // the stopped node's audit store: written before the stop returned
        Audit audit = readAudit(id(c));
        assertThat(audit).as("the final audit row, written by the stop").isNotNull();
        assertThat(audit.endReason()).isEqualTo("node_shutdown");
        assertThat(audit.cost()).isEqualByComparingTo(expected);
        assertThat(audit.charges()).hasSize(2);
        assertThat(audit.charges().stream().reduce(BigDecimal.ZERO, BigDecimal::add)).isEqualByComparingTo(expected);
        assertThat(audit.anyEstimated()).isFalse();
    }

    /**
     * A client whose hourly budget (1.00) cannot pay its session's next response: the session ends
     * {@code client_budget_exceeded}, and the goodbye, whose own reservation the full hour refuses
     * too, is skipped — no goodbye asked upstream, counted {@code skipped}; the session's total is
     * the stand-in's bill, within the hour.
     */
    @Test
    void whenTheClientsHourIsFullTheGoodbyeIsSkipped() throws Exception {
        start("costProtection.maxClientCostPerHourUsd", "1.00");
        double skipped = goodbyes("skipped");
        WsClient c = open("198.51.100.43");
        FakeUpstream.Connection up = lastUpstream();
        c.send("{\"type\":\"response.create\"}");
        List<JsonNode> events = untilClosed(c, true);

        assertClientBudgetEndWithoutGoodbye(c, up, events, skipped);
        JsonNode session = ended(id(c));
        assertThat(session.get("cost_usd").decimalValue()).isEqualByComparingTo(billedUsd(up.billed))
                .isLessThanOrEqualTo(new BigDecimal("1.00"));
    }

    /**
     * The same for a day budget a backend set ({@code PUT /v1/clients/{id}/budget}, 1.00): the
     * goodbye's reservation is refused by the day as the next response's was; the client's day
     * spent is the stand-in's bill, within the budget.
     */
    @Test
    void whenTheClientsDayBudgetIsSpentTheGoodbyeIsSkipped() throws Exception {
        start();
        String client = "198.51.100.44";
        assertThat(http().put("/v1/clients/" + client + "/budget", "{\"day_usd\":\"1.00\"}", "Authorization", SERVICE).statusCode())
                .isEqualTo(200);
        double skipped = goodbyes("skipped");
        WsClient c = open(client);
        FakeUpstream.Connection up = lastUpstream();
        c.send("{\"type\":\"response.create\"}");
        List<JsonNode> events = untilClosed(c, true);

        assertClientBudgetEndWithoutGoodbye(c, up, events, skipped);
        BigDecimal billed = billedUsd(up.billed);
        assertThat(ended(id(c)).get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
        JsonNode budget = Http.json(http().get("/v1/clients/" + client + "/budget", "Authorization", SERVICE));
        assertThat(budget.at("/day/spent_usd").decimalValue()).isEqualByComparingTo(billed).isLessThanOrEqualTo(new BigDecimal("1.00"));
    }

    private void assertClientBudgetEndWithoutGoodbye(WsClient c, FakeUpstream.Connection up, List<JsonNode> events,
                                                     double skippedBefore) throws Exception {
        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1008);
        int endedEvent = indexOf(events, "session_ended");
        assertThat(endedEvent).as("session_ended in %s", events).isPositive();
        assertThat(events.get(endedEvent).get("reason").asText()).isEqualTo("client_budget_exceeded");
        assertThat(events.get(endedEvent + 1).at("/error/code").asText()).isEqualTo("client_budget_exceeded");
        assertThat(ended(id(c)).get("end_reason").asText()).isEqualTo("client_budget_exceeded");
        assertThat(goodbyeCreates(up)).as("no goodbye asked upstream").isEmpty();
        assertThat(up.received).noneMatch(m -> m.contains(INSTRUCTIONS));
        assertThat(up.billed).as("at least one response was charged before the end").isNotEmpty();
        assertThat(goodbyes("skipped")).isEqualTo(skippedBefore + 1);
        assertThat(goodbyes("done")).isZero();
    }

    /**
     * While the model says its goodbye (its response.done held by the stand-in), a client's
     * {@code response.create} is refused with the realtime error
     * {@code conversation_already_has_active_response}, counted, and never reaches the upstream;
     * once the goodbye is done the session ends as it was ending ({@code session_timeout}).
     */
    @Test
    void aResponseCreateWhileTheGoodbyeIsSpokenIsRefusedAndNeverReachesTheUpstream() throws Exception {
        start();
        UPSTREAM.holdsInstructed = true;
        String code = "conversation_already_has_active_response";
        double refused = metric("relay_client_events_refused_total", "code=\"" + code + "\"");
        WsClient c = open("198.51.100.45");
        FakeUpstream.Connection up = lastUpstream();
        firstResponse(c);
        CLOCK.advance(Duration.ofMinutes(30));

        // the goodbye is announced and speaks; its response.done is held
        JsonNode created = c.until("response.created");
        JsonNode audio = c.until("response.output_audio.delta");
        assertThat(audio.get("response_id").asText()).isEqualTo(created.at("/response/id").asText());
        assertGoodbyeAsked(up, RESERVE);
        c.send("{\"type\":\"response.create\",\"event_id\":\"evt_during_goodbye\"}");
        JsonNode error = c.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo(code);
        assertThat(error.at("/error/event_id").asText()).as("the refused event named, as every refusal names it")
                .isEqualTo("evt_during_goodbye");
        assertThat(metric("relay_client_events_refused_total", "code=\"" + code + "\"")).isEqualTo(refused + 1);

        assertThat(up.finishHeld()).as("the goodbye was held").isTrue();
        List<JsonNode> events = untilClosed(c, false);
        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1008);
        int timeout = indexOf(events, "session_timeout");
        assertThat(timeout).isNotNegative();
        assertThat(indexOf(events, "response.done")).as("the goodbye's end before the session's").isBetween(0, timeout);
        // the link is closed behind everything the guard sent on it
        Poll.until("the upstream link closed", Duration.ofSeconds(30), Duration.ofMillis(20), () -> !up.open());
        assertThat(up.received).noneMatch(m -> m.contains("evt_during_goodbye"));
        assertThat(up.received.stream().filter(m -> m.contains("\"response.create\""))).as("the client's first and the goodbye")
                .hasSize(2);
        JsonNode session = ended(id(c));
        assertThat(session.get("end_reason").asText()).isEqualTo("session_timeout");
        BigDecimal expected = firstResponseAndFullGoodbye();
        assertThat(billedUsd(up.billed)).isEqualByComparingTo(expected);
        Poll.until("the goodbye charged", Duration.ofSeconds(10), Duration.ofMillis(20), () -> "billed " + up.billed,
                () -> ended(id(c)).get("cost_usd").decimalValue().compareTo(expected) == 0);
    }

    /** A request the test sends again. */
    private interface Request {
        java.net.http.HttpResponse<String> send();
    }
}
