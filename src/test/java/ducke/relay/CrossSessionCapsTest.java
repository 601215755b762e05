package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Caps that span sessions are reserved per response, not checked at admission only: a client's
 * sessions together stay within the client's hourly cap, and all sessions together within the
 * breaker's threshold, however their responses interleave. The stand-in bills like the provider (a
 * greedy model: every response writes as much as its limit allows, its input is the whole context);
 * what it billed is priced here with this test's own arithmetic.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrossSessionCapsTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T09:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.maxClientCostPerHourUsd", "10.00",
            "costProtection.maxConcurrentSessionsPerClient", "3",
            // the breaker test uses its own clients and opens the breaker last
            "costProtection.circuitBreakerThresholdUsd", "30.00",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final BigDecimal ONE_PERCENT = new BigDecimal("0.01");

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output tokens. */
    private static BigDecimal billedUsd(JsonNode usage) {
        return BigDecimal.valueOf(usage.path("input_tokens").asLong() * 100 + usage.path("output_tokens").asLong() * 200)
                .movePointLeft(6);
    }

    private record Live(WsClient client, FakeUpstream.Connection upstream) {
    }

    private static Live open(String address) throws Exception {
        int before = UPSTREAM.connections().size();
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", address);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        assertThat(UPSTREAM.connections()).hasSize(before + 1);
        return new Live(c, UPSTREAM.connections().get(before));
    }

    /**
     * Asks for one response; true while the session goes on, false once it ended (for whatever
     * reason the gateway gives, returned through {@code ends}).
     */
    private static boolean oneTurn(WsClient c, List<String> ends) throws Exception {
        if (!c.sendIfOpen("{\"type\":\"response.create\"}")) {
            return false;
        }
        while (true) {
            WsClient.Received r = c.next();
            if (r.text() == null) {
                return false;
            }
            JsonNode e = WsClient.parse(r.text());
            String type = e.path("type").asText();
            if (type.equals("usage_update")) {
                return true;
            }
            if (type.equals("error") && e.path("event_id").asText().equals("event_gw_end")) {
                ends.add(e.at("/error/code").asText());
                return false;
            }
            if (type.equals("error") && e.at("/error/code").asText().equals("conversation_already_has_active_response")) {
                return true;
            }
        }
    }

    /** Round after round, every live session asks for one more response, until none is left. */
    private static List<String> spendAll(List<Live> sessions) throws Exception {
        List<String> ends = new ArrayList<>();
        Set<Live> live = new HashSet<>(sessions);
        for (int round = 0; !live.isEmpty() && round < 200; round++) {
            for (Live s : sessions) {
                if (live.contains(s) && !oneTurn(s.client(), ends)) {
                    live.remove(s);
                }
            }
        }
        assertThat(live).as("every session ended").isEmpty();
        return ends;
    }

    /** This app's member (the only one whose cluster holds these sessions). */
    private static com.hazelcast.core.HazelcastInstance member() {
        return com.hazelcast.core.Hazelcast.getAllHazelcastInstances().stream()
                .filter(h -> h.getConfig().getClusterName().equals(APP.getConfiguration().getHazelcast().getClusterName()))
                .findFirst().orElseThrow();
    }

    private static java.util.Map<String, ?> spendHolds() {
        ducke.core.cost.SpendLedger l = member().<String, ducke.core.cost.SpendLedger>getMap("ducke-spend").get("cluster");
        return l == null ? java.util.Map.of() : l.holds().byId();
    }

    private static java.util.Map<String, ?> clientHolds(String client) {
        ducke.core.cost.ClientSpend c = member().<String, ducke.core.cost.ClientSpend>getMap("ducke-client-spend").get(client);
        return c == null ? java.util.Map.of() : c.holds().byId();
    }

    private static BigDecimal billed(List<Live> sessions) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Live s : sessions) {
            for (JsonNode u : s.upstream().billed) {
                sum = sum.add(billedUsd(u));
            }
        }
        return sum;
    }

    private static BigDecimal charged(List<Live> sessions) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Live s : sessions) {
            JsonNode v = Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + s.client().started.get("session_id").asText(),
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
            assertThat(v.has("cost_usd")).as("session %s: %s", s.client().started, v).isTrue();
            sum = sum.add(v.get("cost_usd").decimalValue());
        }
        return sum;
    }

    private static List<String> ids(List<Live> sessions) {
        return sessions.stream().map(s -> s.client().started.get("session_id").asText()).toList();
    }

    /**
     * A backend gives one client $4.00 for the day (no default budgets configured: the override alone
     * makes budgets apply): its three sessions together stay within it, the fourth is refused with the
     * day's reset as its wait, and the budget's view shows what the stand-in billed.
     */
    @Test
    @Order(0)
    void threeSessionsOfOneClientStayWithinItsDayBudget() throws Exception {
        Http http = Http.local(APP.getLocalPort());
        String service = "Bearer " + TestApps.SERVICE_TOKEN;
        java.net.http.HttpResponse<String> put = http.put("/v1/clients/192.0.2.20/budget", "{\"day_usd\":\"4.00\"}",
                "Authorization", service);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        List<Live> sessions = List.of(open("192.0.2.20"), open("192.0.2.20"), open("192.0.2.20"));
        List<String> ends = spendAll(sessions);
        BigDecimal billed = billed(sessions);
        System.out.println("cross-session-caps: one client, 3 sessions: billed " + billed + " on a 4.00 day budget");
        assertThat(billed).isLessThanOrEqualTo(new BigDecimal("4.00").multiply(BigDecimal.ONE.add(ONE_PERCENT)));
        assertThat(charged(sessions)).as("the ledgers hold exactly what was billed").isEqualByComparingTo(billed);
        // a session ended right after its last charge tells its client only by the close when the client sends next
        List<String> reasons = new ArrayList<>();
        for (Live s : sessions) {
            reasons.add(Http.json(http.get("/v1/sessions/" + s.client().started.get("session_id").asText(), "Authorization", service))
                    .path("end_reason").asText());
        }
        assertThat(reasons).as("end reasons; events heard: %s", ends).contains("client_budget_exceeded");
        JsonNode budget = Http.json(http.get("/v1/clients/192.0.2.20/budget", "Authorization", service));
        assertThat(budget.at("/day/spent_usd").decimalValue()).as(budget.toString()).isEqualByComparingTo(billed);
        assertThat(budget.at("/month/spent_usd").decimalValue()).isEqualByComparingTo(billed);
        assertThat(budget.at("/override/day_usd").decimalValue()).isEqualByComparingTo("4.00");
        ducke.testing.Poll.until("every reservation given back", java.time.Duration.ofSeconds(10), java.time.Duration.ofMillis(20),
                () -> Http.json(http.get("/v1/clients/192.0.2.20/budget", "Authorization", service)).toString(),
                () -> Http.json(http.get("/v1/clients/192.0.2.20/budget", "Authorization", service)).at("/day/reserved_usd")
                        .decimalValue().signum() == 0);
        // what is left (less than the next response's least reservation) is given to nobody: the backend lowers the
        // day's budget to what was spent, and a new session is refused until the day starts over
        assertThat(http.put("/v1/clients/192.0.2.20/budget", "{\"day_usd\":\"" + billed.toPlainString() + "\"}",
                "Authorization", service).statusCode()).isEqualTo(200);
        java.net.http.HttpResponse<String> refused = http.post("/v1/sessions", "{\"client_id\":\"192.0.2.20\"}",
                "Authorization", service);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(Http.json(refused).get("error").asText()).isEqualTo("client_budget_exceeded");
        assertThat(Http.json(refused).get("window").asText()).isEqualTo("day");
        // 09:00 UTC: the day starts over in 15 hours
        assertThat(refused.headers().firstValue("Retry-After")).hasValue(Long.toString(15 * 3600));
        CostIntegrity.attack("one client, 3 concurrent sessions, day budget").billed(billed).ledger(charged(sessions))
                .audit(CostIntegrity.audited(Http.local(APP.getLocalPort()), ids(sessions), billed))
                .cap("client day", new BigDecimal("4.00")).usage("arrived").print();
    }

    @Test
    @Order(1)
    void threeSessionsOfOneClientStayWithinTheClientsHourlyCap() throws Exception {
        List<Live> sessions = List.of(open("192.0.2.10"), open("192.0.2.10"), open("192.0.2.10"));
        List<String> ends = spendAll(sessions);
        BigDecimal billed = billed(sessions);
        System.out.println("cross-session-caps: one client, 3 sessions: billed " + billed + " on a 10.00 hourly cap");
        // before: each session ran to its own 5.00 cap, 13.77 on a 10.00 cap
        assertThat(billed).isLessThanOrEqualTo(new BigDecimal("10.00").multiply(BigDecimal.ONE.add(ONE_PERCENT)));
        assertThat(charged(sessions)).as("the ledgers hold exactly what was billed").isEqualByComparingTo(billed);
        assertThat(ends).contains("client_budget_exceeded");
        assertThat(member().getMap("ducke-client-spend").containsKey("192.0.2.10")).as("the client's hour is under its address").isTrue();
        // nothing stays reserved once every session has ended: the holds were settled or given back
        ducke.testing.Poll.until("every reservation given back", java.time.Duration.ofSeconds(10), java.time.Duration.ofMillis(20),
                () -> "spend " + spendHolds() + ", client " + clientHolds("192.0.2.10"),
                () -> spendHolds().isEmpty() && clientHolds("192.0.2.10").isEmpty());
        CostIntegrity.attack("one client, 3 concurrent sessions").billed(billed).ledger(charged(sessions))
                .audit(CostIntegrity.audited(Http.local(APP.getLocalPort()), ids(sessions), billed))
                .cap("client hour", new BigDecimal("10.00")).usage("arrived").print();
    }

    @Test
    @Order(2)
    void manySessionsStayWithinTheBreakersThreshold() throws Exception {
        List<Live> sessions = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            sessions.add(open("198.18.0." + (i + 1)));
        }
        List<String> ends = spendAll(sessions);
        JsonNode status = Http.json(Http.local(APP.getLocalPort()).get("/status"));
        assertThat(status.path("circuit_breaker").asText()).isEqualTo("open");
        // the session API answers 503 while the breaker is open: closed again to read the ledgers
        assertThat(Http.local(APP.getAdminPort()).post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);
        // the breaker ended them (a client that had not sent again since hears of it only by the close)
        List<String> reasons = new ArrayList<>();
        for (Live s : sessions) {
            reasons.add(Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + s.client().started.get("session_id").asText(),
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN)).path("end_reason").asText());
        }
        assertThat(reasons).as("end reasons; events heard: %s", ends).contains("circuit_breaker");
        BigDecimal billed = billed(sessions);
        // everything the stand-in billed in this run counts toward the breaker (the other test's client too)
        List<Live> all = new ArrayList<>();
        UPSTREAM.connections().forEach(c -> all.add(new Live(null, c)));
        System.out.println("cross-session-caps: 12 sessions: billed " + billed(all) + " on a 30.00 breaker threshold");
        // before: the breaker opened after the spend that crossed it, and every live session ran on toward its own cap
        assertThat(billed(all)).isLessThanOrEqualTo(new BigDecimal("30.00").multiply(BigDecimal.ONE.add(ONE_PERCENT)));
        assertThat(charged(sessions)).isEqualByComparingTo(billed);
        CostIntegrity.attack("12 sessions round-robin, one thread").billed(billed).ledger(charged(sessions))
                .audit(CostIntegrity.audited(Http.local(APP.getLocalPort()), ids(sessions), billed))
                .cap("breaker", new BigDecimal("30.00")).spentAgainstCap(billed(all)).usage("arrived")
                .note("the breaker window also holds the 3-session client's spend").print();
    }
}
