package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client rotates sessions and nodes against its daily budget: two application nodes of one
 * cluster, one stand-in upstream that bills like the provider, a default day budget of $3.00 (the
 * client's hourly cap and the breaker far above it). One client address opens relay sessions
 * alternately on node A and node B, up to its concurrent limit at once, asks each for responses in
 * turn, closes every session after two responses and opens the next, until a new session is refused
 * for the day. What the stand-in billed is priced here with this test's own arithmetic.
 */
class DayBudgetRotationTest {

    private static final String CLIENT = "192.0.2.77";
    private static final BigDecimal DAY_BUDGET = new BigDecimal("3.00");
    private static final BigDecimal ONE_PERCENT = new BigDecimal("0.01");
    private static final int CONCURRENT = 3;
    private static final int TURNS_PER_SESSION = 2;
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-07T09:30:00Z");
    private static final List<DropwizardTestSupport<DuckeConfiguration>> NODES = new ArrayList<>();
    private static Http a;
    private static Http b;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        String cluster = "day-budget-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        a = node("node-a", cluster, portA, members);
        b = node("node-b", cluster, portB, members);
        TestApps.awaitReady(2, a, b);
    }

    private static Http node(String name, String cluster, int port, String members) throws Exception {
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(CLOCK,
                "nodeName", name,
                "hazelcast.clusterName", cluster,
                "hazelcast.port", Integer.toString(port),
                "hazelcast.members", members,
                "upstream.url", UPSTREAM.url(),
                "costProtection.maxClientCostPerDayUsd", DAY_BUDGET.toPlainString(),
                "costProtection.maxClientCostPerHourUsd", "100.00",
                "costProtection.maxTotalCostPerHourUsd", "100000",
                "costProtection.circuitBreakerThresholdUsd", "1000.00",
                "costProtection.maxConcurrentSessionsPerClient", Integer.toString(CONCURRENT),
                "costProtection.sweepInterval", "100ms",
                "rateLimits.websocket", "100000/minute",
                "rateLimits.status", "100000/minute",
                "rateLimits.defaultLimit", "100000/minute");
        app.before();
        NODES.add(app);
        return Http.local(app.getLocalPort());
    }

    @AfterAll
    static void stop() throws Exception {
        for (int i = NODES.size() - 1; i >= 0; i--) {
            NODES.get(i).after();
        }
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output tokens. */
    private static BigDecimal billedUsd(JsonNode usage) {
        return BigDecimal.valueOf(usage.path("input_tokens").asLong() * 100 + usage.path("output_tokens").asLong() * 200)
                .movePointLeft(6);
    }

    /** A session of the client on one node; {@code upstream} null when it ended before the gateway opened one. */
    private record Live(Http node, WsClient client, FakeUpstream.Connection upstream, int[] turns) {
        String id() {
            return client.started.get("session_id").asText();
        }
    }

    /** What one attempt to open a session came to: a live session, one the gateway ended at once, or the refusal. */
    private record Opened(Live live, String endedAtOnce, HttpResponse<String> refused) {
    }

    private static Opened open(Http node, int port) throws Exception {
        int before = UPSTREAM.connections().size();
        WsClient c;
        try {
            c = WsClient.connect(port, "", "X-Forwarded-For", CLIENT);
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
            @SuppressWarnings("unchecked")
            var response = (HttpResponse<String>) ((WebSocketHandshakeException) e.getCause()).getResponse();
            return new Opened(null, null, response);
        }
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        while (true) {
            WsClient.Received r = c.next();
            assertThat(r.text()).as("the session opens or ends with a reason, closed %d", r.closeCode()).isNotNull();
            JsonNode e = WsClient.parse(r.text());
            if (e.path("type").asText().equals("session.created")) {
                assertThat(UPSTREAM.connections()).hasSize(before + 1);
                return new Opened(new Live(node, c, UPSTREAM.connections().get(before), new int[1]), null, null);
            }
            if (e.path("type").asText().equals("error") && e.path("event_id").asText().equals("event_gw_end")) {
                return new Opened(new Live(node, c, null, new int[1]), e.at("/error/code").asText(), null);
            }
        }
    }

    /** Asks for one response; true while the session goes on, false once the gateway ended it (its reason into {@code ends}). */
    private static boolean oneTurn(Live s, List<String> ends) throws Exception {
        WsClient c = s.client();
        if (!c.sendIfOpen("{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":500}}")) {
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
                s.turns()[0]++;
                return true;
            }
            if (type.equals("error") && e.path("event_id").asText().equals("event_gw_end")) {
                ends.add(e.at("/error/code").asText());
                return false;
            }
        }
    }

    /** The client closes its session, and waits until the gateway has ended it (its reservations given back). */
    private static void close(Live s) throws Exception {
        s.client().ws.sendClose(1000, "rotating");
        s.client().awaitClose();
        awaitEnded(s);
    }

    private static void awaitEnded(Live s) throws Exception {
        Poll.until("session " + s.id() + " ended", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> s.node().get("/v1/sessions/" + s.id(), "Authorization", SERVICE).body(),
                () -> Http.json(s.node().get("/v1/sessions/" + s.id(), "Authorization", SERVICE)).path("end_reason").isTextual());
    }

    private static BigDecimal billed(List<Live> sessions) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Live s : sessions) {
            if (s.upstream() != null) {
                for (JsonNode u : s.upstream().billed) {
                    sum = sum.add(billedUsd(u));
                }
            }
        }
        return sum;
    }

    private static BigDecimal charged(List<Live> sessions) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Live s : sessions) {
            JsonNode v = Http.json(s.node().get("/v1/sessions/" + s.id(), "Authorization", SERVICE));
            assertThat(v.has("cost_usd")).as("session %s: %s", s.id(), v).isTrue();
            sum = sum.add(v.get("cost_usd").decimalValue());
        }
        return sum;
    }

    @Test
    void aClientRotatingSessionsOverTwoNodesStaysWithinItsDayBudget() throws Exception {
        List<Live> all = new ArrayList<>();
        List<Live> live = new ArrayList<>();
        List<String> ends = new ArrayList<>();
        List<String> endedAtOnce = new ArrayList<>();
        int[] opened = new int[2];
        int attempts = 0;
        int waits = 0;
        boolean dayOver = false;
        while (!dayOver || !live.isEmpty()) {
            // open up to the concurrent limit, alternately on node A and node B
            while (!dayOver && live.size() < CONCURRENT) {
                assertThat(attempts).as("the day's budget refuses a new session within 200 attempts").isLessThan(200);
                int onB = attempts++ % 2;
                Opened o = open(onB == 0 ? a : b, NODES.get(onB).getLocalPort());
                if (o.refused() != null) {
                    JsonNode body = Http.json(o.refused());
                    assertThat(o.refused().statusCode()).as(o.refused().body()).isEqualTo(429);
                    assertThat(body.get("error").asText()).isEqualTo("client_budget_exceeded");
                    assertThat(body.get("window").asText()).as(o.refused().body()).isEqualTo("day");
                    if (o.refused().headers().firstValue("Retry-After").orElseThrow().equals("1")) {
                        // the day is full only with the live sessions' reservations: they go on, and free them
                        assertThat(live).as("reservations of live sessions").isNotEmpty();
                        waits++;
                    } else {
                        dayOver = true;
                    }
                    break;
                }
                all.add(o.live());
                opened[onB]++;
                if (o.endedAtOnce() != null) {
                    endedAtOnce.add(o.endedAtOnce());
                    awaitEnded(o.live());
                } else {
                    live.add(o.live());
                }
            }
            // round-robin turns; a session is closed by the client after its turns, or ended by the gateway
            for (Live s : new ArrayList<>(live)) {
                if (!oneTurn(s, ends)) {
                    live.remove(s);
                    awaitEnded(s);
                } else if (s.turns()[0] >= TURNS_PER_SESSION) {
                    live.remove(s);
                    close(s);
                }
            }
        }
        // the day is over for this client, on either node, once nothing of it is live
        HttpResponse<String> refused = WsClient.refused(NODES.get(0).getLocalPort(), "", "X-Forwarded-For", CLIENT);
        HttpResponse<String> refusedOnB = WsClient.refused(NODES.get(1).getLocalPort(), "", "X-Forwarded-For", CLIENT);
        BigDecimal billed = billed(all);
        BigDecimal ledger = charged(all);
        List<String> ids = all.stream().map(Live::id).toList();
        System.out.println("day-budget-rotation: " + all.size() + " sessions (" + opened[0] + " on A, " + opened[1] + " on B), billed "
                + billed + " on a " + DAY_BUDGET + " day budget; ends " + ends + "; ended at once " + endedAtOnce
                + "; refused for reservations " + waits);

        assertThat(opened[0]).as("sessions on node A").isGreaterThan(1);
        assertThat(opened[1]).as("sessions on node B").isGreaterThan(1);
        assertThat(endedAtOnce).as("sessions admitted only to end before their first response").isEmpty();
        assertThat(billed).isLessThanOrEqualTo(DAY_BUDGET.multiply(BigDecimal.ONE.add(ONE_PERCENT)));
        assertThat(ledger).as("the ledgers hold exactly what was billed").isEqualByComparingTo(billed);
        long toMidnight = Duration.between(CLOCK.instant(),
                LocalDate.ofInstant(CLOCK.instant(), ZoneOffset.UTC).plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC)).toSeconds();
        assertThat(toMidnight).isEqualTo(14 * 3600 + 30 * 60);
        for (HttpResponse<String> r : List.of(refused, refusedOnB)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("client_budget_exceeded");
            assertThat(Http.json(r).get("window").asText()).isEqualTo("day");
            assertThat(r.headers().firstValue("Retry-After")).hasValue(Long.toString(toMidnight));
        }
        for (Http node : List.of(a, b)) {
            JsonNode budget = Http.json(node.get("/v1/clients/" + CLIENT + "/budget", "Authorization", SERVICE));
            assertThat(budget.at("/day/spent_usd").decimalValue()).as(budget.toString()).isEqualByComparingTo(billed);
        }
        BigDecimal audit = CostIntegrity.audited(List.of(a, b), ids, billed, Duration.ofSeconds(20));
        assertThat(audit).as("the charge rows on both nodes").isEqualByComparingTo(billed);
        CostIntegrity.attack("one client rotating sessions over 2 nodes, day budget").billed(billed).ledger(ledger).audit(audit)
                .cap("client day", DAY_BUDGET).usage("arrived")
                .field("refused_for_reservations", Integer.toString(waits))
                .field("sessions", all.size() + " (" + opened[0] + " on A, " + opened[1] + " on B)")
                .field("responses", Integer.toString(all.stream().mapToInt(s -> s.upstream() == null ? 0 : s.upstream().billed.size()).sum()))
                .print();
    }
}
