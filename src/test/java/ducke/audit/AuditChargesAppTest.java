package ducke.audit;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One audit row per charge, through the real application: a session started without a model (it
 * gets the upstream default, gpt-realtime) whose reports name gpt-5 is priced as gpt-5, and the
 * audit says so: its charges, its {@code models}, and the summary by model.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class AuditChargesAppTest {

    private static final MutableClock CLOCK = new MutableClock(Instant.now());
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "costProtection.sweepInterval", "50ms",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private static String sessionId;

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    private static JsonNode operatorGet(String path) {
        HttpResponse<String> r = http().get(path, "Authorization", OPERATOR);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return Http.json(r);
    }

    @BeforeAll
    static void aDefaultModelSessionReportsGpt5() throws Exception {
        HttpResponse<String> started = http().post("/v1/sessions", "{\"client_id\":\"198.51.100.20\"}", "Authorization", SERVICE);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        assertThat(Http.json(started).get("model").asText()).isEqualTo("gpt-realtime");
        sessionId = Http.json(started).get("session_id").asText();
        // gpt-5: 10 USD per million in, 30 out; gpt-realtime would be 100 and 200
        for (String report : List.of("{\"model\":\"gpt-5\",\"input_tokens\":100000,\"output_tokens\":0}",
                "{\"model\":\"gpt-5\",\"input_tokens\":0,\"output_tokens\":100000}")) {
            HttpResponse<String> r = http().post("/v1/sessions/" + sessionId + "/usage", report, "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        assertThat(http().send("DELETE", "/v1/sessions/" + sessionId, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        Poll.until("the session row and both charge rows written", Duration.ofSeconds(20), Duration.ofMillis(50),
                () -> http().get("/v1/audit/sessions", "Authorization", OPERATOR).body() + "\n"
                        + http().get("/v1/audit/charges?session=" + sessionId, "Authorization", OPERATOR).body(),
                () -> operatorGet("/v1/audit/sessions").get("sessions").size() == 1
                        && operatorGet("/v1/audit/charges?session=" + sessionId).get("charges").size() == 2);
    }

    @Test
    void theSummaryByModelPutsTheCostUnderTheModelThatPricedIt() {
        JsonNode groups = operatorGet("/v1/audit/summary?group_by=model").get("groups");
        Map<String, JsonNode> byKey = new HashMap<>();
        groups.forEach(g -> byKey.put(g.get("key").asText(), g));
        assertThat(byKey).containsOnlyKeys("gpt-5");
        assertThat(byKey.get("gpt-5").get("total_cost_usd").toString()).isEqualTo("4.00");
        assertThat(byKey.get("gpt-5").get("sessions").asInt()).isEqualTo(1);
        assertThat(byKey.get("gpt-5").get("tokens").get("text_output").asLong()).isEqualTo(100_000);
    }

    @Test
    void theSessionRowKeepsItsModelAndTotalsAndNamesTheModelsUsed() {
        JsonNode row = operatorGet("/v1/audit/sessions").get("sessions").get(0);
        assertThat(row.get("session_id").asText()).isEqualTo(sessionId);
        assertThat(row.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(row.get("cost_usd").toString()).isEqualTo("4.00");
        assertThat(row.get("charged_responses").asInt()).isEqualTo(2);
        assertThat(row.get("models").toString()).isEqualTo("[\"gpt-5\"]");
        String csv = http().get("/v1/audit/sessions", "Authorization", OPERATOR, "Accept", "text/csv").body();
        assertThat(csv.lines().findFirst().orElseThrow()).endsWith(",price_version,models,pauses,paused_seconds");
        assertThat(csv.lines().skip(1).findFirst().orElseThrow()).endsWith(",gpt-5,0,0.000");
    }

    @Test
    void everyChargeIsListedWithTheModelPricedItsTokensAndItsCost() {
        JsonNode body = operatorGet("/v1/audit/charges?session=" + sessionId);
        assertThat(body.get("session_id").asText()).isEqualTo(sessionId);
        assertThat(body.get("next_cursor").isNull()).isTrue();
        JsonNode charges = body.get("charges");
        JsonNode session = operatorGet("/v1/audit/sessions").get("sessions").get(0);
        List<String> keys = new ArrayList<>();
        for (JsonNode c : charges) {
            assertThat(c.get("session_id").asText()).isEqualTo(sessionId);
            assertThat(c.get("client_id").asText()).isEqualTo("198.51.100.20");
            assertThat(c.get("model").asText()).isEqualTo("gpt-5");
            assertThat(c.get("estimated").asBoolean()).isFalse();
            assertThat(c.get("price_version").asText()).isEqualTo(session.get("price_version").asText());
            assertThat(Instant.parse(c.get("at").asText())).isNotNull();
            keys.add(c.get("charge_key").asText());
        }
        assertThat(keys).doesNotHaveDuplicates().allSatisfy(k -> assertThat(k).isNotBlank());
        assertThat(List.of(charges.get(0).get("cost_usd").toString(), charges.get(1).get("cost_usd").toString()))
                .containsExactlyInAnyOrder("1.00", "3.00");
        assertThat(charges.get(0).get("tokens").get("text_input").asLong() + charges.get(1).get("tokens").get("text_input").asLong())
                .isEqualTo(100_000);

        JsonNode first = operatorGet("/v1/audit/charges?session=" + sessionId + "&limit=1");
        assertThat(first.get("charges")).hasSize(1);
        JsonNode second = operatorGet("/v1/audit/charges?session=" + sessionId + "&limit=1&cursor="
                + first.get("next_cursor").asText());
        assertThat(second.get("charges")).hasSize(1);
        assertThat(second.get("next_cursor").isNull()).isTrue();
        assertThat(List.of(first.get("charges").get(0).get("charge_key").asText(),
                second.get("charges").get(0).get("charge_key").asText())).containsExactlyElementsOf(keys);
    }

    @Test
    void theChargesQueryNeedsTheOperatorTokenAndASessionTheStoreKnows() {
        String path = "/v1/audit/charges?session=" + sessionId;
        assertThat(http().get(path).statusCode()).isEqualTo(401);
        assertThat(Http.json(http().get(path)).get("error").asText()).isEqualTo("unauthorized");
        assertThat(http().get(path, "Authorization", SERVICE).statusCode()).isEqualTo(403);
        for (String bad : List.of("", "?session=", "?session=" + "x".repeat(65), "?session=" + sessionId + "&limit=0",
                "?session=" + sessionId + "&cursor=!!!", "?session=" + sessionId + "&sesion=x")) {
            HttpResponse<String> r = http().get("/v1/audit/charges" + bad, "Authorization", OPERATOR);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(Http.json(r).get("error").asText()).as(bad).isEqualTo("invalid_request");
        }
        HttpResponse<String> unknown = http().get("/v1/audit/charges?session=sess_00000000000000000000000000000000",
                "Authorization", OPERATOR);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Http.json(unknown).get("error").asText()).isEqualTo("session_not_found");
    }

    @Test
    void theAuditCommandListsTheSessionsCharges() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            new DuckeApplication().run("audit", TestApps.configPath(), "--charges", sessionId);
        } finally {
            System.setOut(original);
        }
        String table = captured.toString(StandardCharsets.UTF_8);
        assertThat(table.lines().filter(l -> l.matches(".*\\sgpt-5\\s.*")).count()).as(table).isEqualTo(2);
        assertThat(table).containsPattern("(?m)\\s1\\.00\\s+false\\s").containsPattern("(?m)\\s3\\.00\\s+false\\s");
        assertThat(table).containsPattern("(?m)^TOTAL\\s+2 charge\\(s\\)\\s+4\\.00\\s*$");
    }
}
