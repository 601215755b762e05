package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage reports with an idempotency key over real HTTP: a repeat charges nothing and gets the first
 * answer, byte for byte; the key with another report is refused; malformed keys are refused before
 * anything is charged.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class IdempotentUsageAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T14:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.allowedModels", "gpt-realtime,gpt-5",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String REPORT = "{\"model\":\"gpt-5\",\"input_tokens\":100000,\"output_tokens\":200000}";
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private Http http;

    @BeforeEach
    void client() {
        http = Http.local(APP.getLocalPort());
    }

    private String start() {
        HttpResponse<String> r = http.post("/v1/sessions",
                "{\"client_id\":\"198.51.100." + CLIENTS.incrementAndGet() + "\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private HttpResponse<String> usage(String id, String json, String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Authorization";
        all[1] = SERVICE;
        System.arraycopy(headers, 0, all, 2, headers.length);
        return http.post("/v1/sessions/" + id + "/usage", json, all);
    }

    private JsonNode session(String id) {
        return Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    private static void assertCost(JsonNode session, String usd, int charges) {
        assertThat(session.get("cost_usd").decimalValue()).isEqualByComparingTo(new BigDecimal(usd));
        assertThat(session.get("charged_responses").asInt()).isEqualTo(charges);
    }

    @Test
    void aReportSentAgainWithItsKeyChargesOnceAndGetsTheFirstAnswer() {
        String id = start();
        HttpResponse<String> first = usage(id, REPORT, "Idempotency-Key", "9b2c7e1a-6a0f-4c55-8f3d-2f1f0b6f4d10");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(Http.json(first).get("call_cost").toString()).isEqualTo("7.00");
        long remaining = Http.json(first).get("remaining_duration_seconds").asLong();

        CLOCK.advance(Duration.ofSeconds(30));
        HttpResponse<String> again = usage(id, REPORT, "Idempotency-Key", "9b2c7e1a-6a0f-4c55-8f3d-2f1f0b6f4d10");
        HttpResponse<String> asField = usage(id, REPORT.replace("{", "{\"report_id\":\"9b2c7e1a-6a0f-4c55-8f3d-2f1f0b6f4d10\","));

        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).as("the first answer, as it was then").isEqualTo(first.body());
        assertThat(Http.json(again).get("remaining_duration_seconds").asLong()).isEqualTo(remaining);
        assertThat(asField.statusCode()).isEqualTo(200);
        assertThat(asField.body()).as("report_id is the same key").isEqualTo(first.body());
        assertCost(session(id), "7.00", 1);
        assertThat(usage(id, REPORT, "Idempotency-Key", "another").statusCode()).as("a new key is a new report").isEqualTo(200);
        assertCost(session(id), "14.00", 2);
    }

    @Test
    void keysBelongToTheirSession() {
        String a = start();
        String b = start();
        assertThat(usage(a, REPORT, "Idempotency-Key", "k-1").statusCode()).isEqualTo(200);
        assertThat(usage(b, REPORT, "Idempotency-Key", "k-1").statusCode()).isEqualTo(200);
        assertCost(session(a), "7.00", 1);
        assertCost(session(b), "7.00", 1);
    }

    @Test
    void theKeyOfOneReportSentWithAnotherIsRefusedAndChargesNothing() {
        String id = start();
        assertThat(usage(id, REPORT, "Idempotency-Key", "k-1").statusCode()).isEqualTo(200);
        HttpResponse<String> reused = usage(id, "{\"model\":\"gpt-5\",\"input_tokens\":1,\"output_tokens\":2}",
                "Idempotency-Key", "k-1");
        assertThat(reused.statusCode()).isEqualTo(422);
        JsonNode body = Http.json(reused);
        assertThat(body.get("code").asInt()).isEqualTo(422);
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("report_id").asText()).isEqualTo("k-1");
        assertThat(body.get("message").asText()).contains("different usage report");
        assertCost(session(id), "7.00", 1);
    }

    @Test
    void malformedKeysAreRefusedBeforeAnythingIsCharged() {
        String id = start();
        assertBadRequest(usage(id, REPORT, "Idempotency-Key", "two words"));
        assertBadRequest(usage(id, REPORT, "Idempotency-Key", "k".repeat(256)));
        assertBadRequest(usage(id, REPORT, "Idempotency-Key", "a", "Idempotency-Key", "b"));
        assertBadRequest(usage(id, REPORT.replace("{", "{\"report_id\":\"\",")));
        assertBadRequest(usage(id, REPORT.replace("{", "{\"report_id\":\"cl\u00e9\",")));
        assertBadRequest(usage(id, REPORT.replace("{", "{\"report_id\":42,")));
        assertBadRequest(usage(id, REPORT.replace("{", "{\"report_id\":\"k-2\","), "Idempotency-Key", "k-1"));
        assertCost(session(id), "0.00", 0);
        assertThat(usage(id, REPORT, "Idempotency-Key", "k".repeat(255)).statusCode()).isEqualTo(200);
        assertThat(usage(id, REPORT.replace("{", "{\"report_id\":\"k-1\","), "Idempotency-Key", "k-1").statusCode())
                .as("the same key in both").isEqualTo(200);
    }

    private static void assertBadRequest(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode body = Http.json(r);
        assertThat(body.get("code").asInt()).isEqualTo(400);
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("message").asText()).isNotBlank();
    }
}
