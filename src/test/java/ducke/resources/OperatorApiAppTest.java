package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.core.cost.SessionIds;
import ducke.testing.AuditStores;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
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
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator API on a cluster of two nodes sharing one audit store: the live sessions of both
 * nodes on either, ending one from the other node (journaled as the admin task is), tripping and
 * resetting the breaker, the spend per minute and the top clients with exact sums, and refusals.
 */
class OperatorApiAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    /** gpt-5 as config.yml prices it: 10 USD per 1M input tokens, 30 per 1M output. */
    private static final String FOUR_CENTS = "{\"input_tokens\":1000,\"output_tokens\":1000}";
    private static final String ONE_CENT = "{\"input_tokens\":1000,\"output_tokens\":0}";
    private static final String THREE_CENTS = "{\"input_tokens\":0,\"output_tokens\":1000}";

    private final MutableClock clock = MutableClock.at("2026-12-06T10:00:30Z");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();
    private Http a;
    private Http b;

    @BeforeEach
    void startCluster() throws Exception {
        String name = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        String[] database = AuditStores.h2File();
        List<Http> nodes = new ArrayList<>();
        for (int port : new int[]{portA, portB}) {
            DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, "nodeName", "node-" + (nodes.isEmpty() ? "a" : "b"),
                    "hazelcast.clusterName", name, "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                    "rateLimits.defaultLimit", "100000/minute", "rateLimits.status", "100000/minute", database[0], database[1]);
            app.before();
            apps.add(app);
            nodes.add(Http.local(app.getLocalPort()));
        }
        a = nodes.get(0);
        b = nodes.get(1);
        TestApps.awaitReady(2, a, b);
    }

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    @Test
    void sessionsOfBothNodesAreListedOnEitherAndOneIsEndedFromTheOtherNode() throws Exception {
        String first = start(a, "192.0.2.1");
        clock.advance(Duration.ofSeconds(1));
        String second = start(b, "192.0.2.2");
        report(a, first, FOUR_CENTS);
        report(b, second, ONE_CENT);

        for (Http node : List.of(a, b)) {
            JsonNode list = Http.json(ok(node.get("/v1/operator/sessions", "Authorization", OPERATOR)));
            assertThat(list).as(list.toString()).hasSize(2);
            assertThat(list.get(0).get("session_id").asText()).isEqualTo(first);
            assertThat(list.get(0).get("node").asText()).isEqualTo("node-a");
            assertThat(list.get(0).get("client_id").asText()).isEqualTo("192.0.2.1");
            assertThat(list.get(0).get("started_at").asText()).isEqualTo("2026-12-06T10:00:30Z");
            assertThat(list.get(0).get("cost_usd").decimalValue()).isEqualByComparingTo("0.04");
            assertThat(list.get(0).get("remaining_budget_usd").decimalValue())
                    .isEqualByComparingTo(list.get(0).get("max_cost_usd").decimalValue().subtract(new BigDecimal("0.04")));
            assertThat(list.get(0).get("responses").asInt()).isEqualTo(1);
            assertThat(list.get(0).get("kind").asText()).isEqualTo("api");
            assertThat(list.get(0).has("paused")).isFalse();
            assertThat(list.get(1).get("session_id").asText()).isEqualTo(second);
            assertThat(list.get(1).get("node").asText()).isEqualTo("node-b");
            assertThat(list.get(1).get("cost_usd").decimalValue()).isEqualByComparingTo("0.01");
            assertThat(list.get(1).get("kind").asText()).isEqualTo("api");
        }

        HttpResponse<String> ended = b.post("/v1/operator/sessions/" + first + "/end", "", "Authorization", OPERATOR);
        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
        assertThat(Http.json(ended).get("status").asText()).isEqualTo("ended");
        assertThat(Http.json(ended).get("end_reason").asText()).isEqualTo("admin_ended");
        assertThat(Http.json(ended).get("cost_usd").decimalValue()).isEqualByComparingTo("0.04");
        HttpResponse<String> again = a.post("/v1/operator/sessions/" + first + "/end", "", "Authorization", OPERATOR);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
        assertThat(Http.json(again).get("error").asText()).isEqualTo("session_ended");
        assertThat(a.post("/v1/operator/sessions/" + SessionIds.next() + "/end", "", "Authorization", OPERATOR).statusCode())
                .isEqualTo(404);
        assertThat(a.post("/v1/operator/sessions/nope/end", "", "Authorization", OPERATOR).statusCode()).isEqualTo(404);

        JsonNode after = Http.json(ok(a.get("/v1/operator/sessions", "Authorization", OPERATOR)));
        assertThat(after).extracting(n -> n.get("session_id").asText()).containsExactly(second);
        assertThat(a.get("/v1/sessions/" + first, "Authorization", SERVICE).body()).contains("admin_ended");

        AtomicReference<String> seen = new AtomicReference<>();
        Poll.until("the audit row and the journal entry", Duration.ofSeconds(20), Duration.ofMillis(50), seen::get, () -> {
            String rows = a.get("/v1/audit/sessions?end_reason=admin_ended", "Authorization", OPERATOR).body();
            String actions = a.get("/v1/audit/admin-actions", "Authorization", OPERATOR).body();
            seen.set(rows + "\n" + actions);
            return rows.contains(first) && actions.contains("{id=[" + first + "]}")
                    && actions.contains("session " + first + " ended (admin_ended) at cost 0.04");
        });
        JsonNode journal = Http.json(a.get("/v1/audit/admin-actions", "Authorization", OPERATOR)).get("admin_actions");
        assertThat(journal.toString()).contains("\"end-session\"").contains("session " + first + " had already ended (admin_ended)");
    }

    @Test
    void theBreakerTrippedOnOneNodeRefusesSessionsOnBothUntilResetFromTheOther() throws Exception {
        HttpResponse<String> tripped = a.post("/v1/operator/breaker/trip", "{\"reason\":\"drill\"}", "Authorization", OPERATOR);
        assertThat(tripped.statusCode()).as(tripped.body()).isEqualTo(200);
        JsonNode open = Http.json(tripped);
        assertThat(open.get("state").asText()).isEqualTo("open");
        assertThat(open.get("cause").asText()).isEqualTo("admin: drill");
        assertThat(open.get("opened_at").asText()).isEqualTo("2026-12-06T10:00:30Z");
        assertThat(open.get("resets_at").asText()).isEqualTo("2026-12-06T11:00:30Z");
        assertThat(open.get("threshold_usd").decimalValue()).isEqualByComparingTo("100.00");
        assertThat(open.get("window_spend_usd").decimalValue()).isEqualByComparingTo("0");

        Poll.until("node b sees the breaker open", Duration.ofSeconds(20), Duration.ofMillis(50),
                () -> "open".equals(Http.json(b.get("/status")).get("circuit_breaker").asText()));
        HttpResponse<String> refused = b.post("/v1/sessions", "{\"client_id\":\"192.0.2.7\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(Http.json(refused).get("error").asText()).isEqualTo("circuit_breaker_open");
        assertThat(ok(b.get("/v1/operator/spend", "Authorization", OPERATOR)).body()).contains("\"state\":\"open\"");
        assertThat(Http.json(ok(b.post("/v1/operator/breaker/trip", "", "Authorization", OPERATOR))).get("cause").asText())
                .as("tripping an open breaker changes nothing").isEqualTo("admin: drill");

        JsonNode closed = Http.json(ok(b.post("/v1/operator/breaker/reset", "", "Authorization", OPERATOR)));
        assertThat(closed.get("state").asText()).isEqualTo("closed");
        assertThat(closed.has("resets_at")).isFalse();
        Poll.until("node a sees the breaker closed", Duration.ofSeconds(20), Duration.ofMillis(50),
                () -> "closed".equals(Http.json(a.get("/status")).get("circuit_breaker").asText()));
        assertThat(a.post("/v1/sessions", "{\"client_id\":\"192.0.2.7\",\"model\":\"gpt-5\"}", "Authorization", SERVICE)
                .statusCode()).isEqualTo(201);

        AtomicReference<String> seen = new AtomicReference<>();
        Poll.until("the journal entries", Duration.ofSeconds(20), Duration.ofMillis(50), seen::get, () -> {
            String actions = a.get("/v1/audit/admin-actions", "Authorization", OPERATOR).body();
            String changes = a.get("/v1/audit/breaker-changes", "Authorization", OPERATOR).body();
            seen.set(actions + "\n" + changes);
            return actions.contains("{reason=[drill]}") && actions.contains("circuit breaker open (cause: admin: drill)")
                    && actions.contains("circuit breaker is already open") && actions.contains("reset-circuit-breaker")
                    && actions.contains("circuit breaker closed") && changes.contains("admin: drill") && changes.contains("reset");
        });
    }

    @Test
    void badTripReasonsAreRefusedAndChangeNothing() throws Exception {
        for (String body : List.of("{\"reason\":\"" + "x".repeat(201) + "\"}", "{\"reason\":5}", "{\"why\":\"x\"}",
                "{\"reason\":\"a\\nb\"}")) {
            HttpResponse<String> r = a.post("/v1/operator/breaker/trip", body, "Authorization", OPERATOR);
            assertThat(r.statusCode()).as(body + " → " + r.body()).isEqualTo(422);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(a.post("/v1/operator/breaker/trip", "[1]", "Authorization", OPERATOR).statusCode())
                .as("not JSON of the expected shape, as everywhere").isEqualTo(400);
        assertThat(Http.json(b.get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
        assertThat(ok(a.post("/v1/operator/breaker/trip", "{\"reason\":\"" + "x".repeat(200) + "\"}", "Authorization", OPERATOR))
                .body()).contains("\"state\":\"open\"");
    }

    @Test
    void spendPerMinuteAndTopClientsHaveTheExactSums() throws Exception {
        String c1 = start(a, "192.0.2.1");
        String c2 = start(b, "192.0.2.2");
        String c3 = start(a, "192.0.2.3");
        start(b, "192.0.2.1");
        report(a, c1, FOUR_CENTS);                       // 10:00
        clock.advance(Duration.ofMinutes(1));
        report(b, c2, ONE_CENT);                         // 10:01
        report(a, c1, ONE_CENT);
        clock.advance(Duration.ofMinutes(2));
        report(b, c3, THREE_CENTS);                      // 10:03

        JsonNode five = Http.json(ok(b.get("/v1/operator/spend?window=5m", "Authorization", OPERATOR)));
        assertThat(five.get("window_minutes").asInt()).isEqualTo(5);
        assertThat(five.get("minutes")).extracting(m -> m.get("minute").asText()).containsExactly("2026-12-06T09:59:00Z",
                "2026-12-06T10:00:00Z", "2026-12-06T10:01:00Z", "2026-12-06T10:02:00Z", "2026-12-06T10:03:00Z");
        assertThat(five.get("minutes")).extracting(m -> m.get("spend_usd").decimalValue().stripTrailingZeros())
                .containsExactly(BigDecimal.ZERO, new BigDecimal("0.04"), new BigDecimal("0.02"), BigDecimal.ZERO, new BigDecimal("0.03"));
        assertThat(five.get("hourly_cost_usd").decimalValue()).isEqualByComparingTo("0.09");
        assertThat(five.get("max_hourly_cost_usd").decimalValue()).isEqualByComparingTo("50.00");
        assertThat(five.at("/breaker/state").asText()).isEqualTo("closed");
        assertThat(five.at("/breaker/window_spend_usd").decimalValue()).isEqualByComparingTo("0.09");
        assertThat(five.at("/breaker/threshold_usd").decimalValue()).isEqualByComparingTo("100.00");

        JsonNode hour = Http.json(ok(a.get("/v1/operator/spend", "Authorization", OPERATOR)));
        assertThat(hour.get("window_minutes").asInt()).isEqualTo(60);
        assertThat(hour.get("minutes")).hasSize(60);
        assertThat(hour.at("/minutes/0/minute").asText()).isEqualTo("2026-12-06T09:04:00Z");
        assertThat(hour.at("/minutes/59/minute").asText()).isEqualTo("2026-12-06T10:03:00Z");

        JsonNode top = Http.json(ok(b.get("/v1/operator/clients?window=60m&limit=10", "Authorization", OPERATOR)));
        assertThat(top).extracting(c -> c.get("client_id").asText()).containsExactly("192.0.2.1", "192.0.2.3", "192.0.2.2");
        assertThat(top).extracting(c -> c.get("spend_usd").decimalValue().stripTrailingZeros())
                .containsExactly(new BigDecimal("0.05"), new BigDecimal("0.03"), new BigDecimal("0.01"));
        assertThat(top).extracting(c -> c.get("live_sessions").asInt()).containsExactly(2, 1, 1);
        assertThat(Http.json(ok(a.get("/v1/operator/clients?limit=1", "Authorization", OPERATOR))))
                .extracting(c -> c.get("client_id").asText()).containsExactly("192.0.2.1");
        assertThat(Http.json(ok(a.get("/v1/operator/clients?window=1m", "Authorization", OPERATOR))))
                .extracting(c -> c.get("client_id").asText()).containsExactly("192.0.2.3");
    }

    @Test
    void theOverviewIsEveryPanelInOneReadAndAgreesWithItsOwnEndpoints() throws Exception {
        String c1 = start(a, "192.0.2.1");
        String c2 = start(b, "192.0.2.2");
        report(a, c1, FOUR_CENTS);
        clock.advance(Duration.ofMinutes(1));
        report(b, c2, THREE_CENTS);
        ok(a.send("DELETE", "/v1/sessions/" + c2, "Authorization", SERVICE));
        Poll.until("the ended session's audit row", Duration.ofSeconds(20), Duration.ofMillis(50), () -> "",
                () -> a.get("/v1/audit/sessions", "Authorization", OPERATOR).body().contains(c2));

        for (Http node : List.of(a, b)) {
            JsonNode o = Http.json(ok(node.get("/v1/operator/overview?window=5m&limit=10", "Authorization", OPERATOR)));
            assertThat(o.get("generated_at").asText()).isEqualTo("2026-12-06T10:01:30Z");
            assertThat(o.get("window_minutes").asInt()).isEqualTo(5);
            assertThat(o.get("sessions")).isEqualTo(Http.json(ok(node.get("/v1/operator/sessions", "Authorization", OPERATOR))));
            assertThat(o.get("sessions")).extracting(s -> s.get("session_id").asText()).containsExactly(c1);
            assertThat(o.get("spend")).isEqualTo(Http.json(ok(node.get("/v1/operator/spend?window=5m", "Authorization", OPERATOR))));
            assertThat(o.at("/spend/hourly_cost_usd").decimalValue()).isEqualByComparingTo("0.07");
            assertThat(o.get("clients")).isEqualTo(Http.json(ok(node.get("/v1/operator/clients?window=5m", "Authorization", OPERATOR))));
            assertThat(o.get("clients")).extracting(c -> c.get("client_id").asText()).containsExactly("192.0.2.1", "192.0.2.2");
            assertThat(o.get("clients")).extracting(c -> c.get("live_sessions").asInt()).containsExactly(1, 0);
            assertThat(o.get("end_reasons")).as(o.toString()).hasSize(1);
            assertThat(o.at("/end_reasons/0/sessions").asInt()).isEqualTo(1);
            assertThat(o.at("/end_reasons/0/total_cost_usd").decimalValue()).isEqualByComparingTo("0.03");
            assertThat(o.has("end_reasons_error")).isFalse();
        }
        JsonNode summary = Http.json(ok(a.get("/v1/audit/summary?group_by=end_reason&from=2026-12-06T09:56:30Z",
                "Authorization", OPERATOR)));
        assertThat(Http.json(ok(b.get("/v1/operator/overview?window=5m", "Authorization", OPERATOR))).get("end_reasons"))
                .isEqualTo(summary.get("groups"));
        clock.advance(Duration.ofMinutes(6));
        assertThat(Http.json(ok(b.get("/v1/operator/overview?window=5m", "Authorization", OPERATOR))).get("end_reasons"))
                .as("a session that ended before the window is not in it").isEmpty();
    }

    @Test
    void badParametersAndTokensAreRefused() throws Exception {
        for (String query : List.of("/v1/operator/spend?window=0m", "/v1/operator/spend?window=61m", "/v1/operator/spend?window=60",
                "/v1/operator/spend?window=abc", "/v1/operator/clients?limit=0", "/v1/operator/clients?limit=101",
                "/v1/operator/clients?limit=x", "/v1/operator/clients?window=1h", "/v1/operator/overview?window=0m",
                "/v1/operator/overview?limit=-1")) {
            HttpResponse<String> r = a.get(query, "Authorization", OPERATOR);
            assertThat(r.statusCode()).as(query + " → " + r.body()).isEqualTo(422);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(a.get("/v1/operator/spend?windw=5m", "Authorization", OPERATOR).statusCode()).isEqualTo(400);
        assertThat(a.get("/v1/operator/overview?from=x", "Authorization", OPERATOR).statusCode()).isEqualTo(400);
        for (String[] call : new String[][]{{"GET", "/v1/operator/sessions"}, {"POST", "/v1/operator/sessions/" + SessionIds.next() + "/end"},
                {"POST", "/v1/operator/breaker/trip"}, {"POST", "/v1/operator/breaker/reset"}, {"GET", "/v1/operator/spend"},
                {"GET", "/v1/operator/clients"}, {"GET", "/v1/operator/overview"}}) {
            assertThat(b.send(call[0], call[1]).statusCode()).as(call[1]).isEqualTo(401);
            assertThat(b.send(call[0], call[1], "Authorization", "Bearer wrong-token-0123456789").statusCode()).as(call[1])
                    .isEqualTo(401);
            HttpResponse<String> service = b.send(call[0], call[1], "Authorization", SERVICE);
            assertThat(service.statusCode()).as(call[1]).isEqualTo(403);
            assertThat(Http.json(service).get("error").asText()).isEqualTo("forbidden");
        }
        assertThat(Http.json(b.get("/status")).get("circuit_breaker").asText()).as("no refused call tripped it").isEqualTo("closed");
    }

    private String start(Http node, String client) throws Exception {
        HttpResponse<String> r = node.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private void report(Http node, String id, String usage) throws Exception {
        HttpResponse<String> r = node.post("/v1/sessions/" + id + "/usage", usage.replace("{", "{\"model\":\"gpt-5\","),
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static HttpResponse<String> ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r;
    }
}
