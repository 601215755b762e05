package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Money that was spent is always recorded, over real HTTP with the real audit store: usage for an
 * ended session and usage while the breaker is open are charged to the ledger, the hourly spend,
 * the metrics and the audit row, and answered 200 saying so.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class UsageRecordedAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T20:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "costProtection.sweepInterval", "50ms",
            // these tests poll the API from one address; its route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;

    private Http http;
    private Http admin;

    @BeforeEach
    void clients() {
        http = Http.local(APP.getLocalPort());
        admin = Http.local(APP.getAdminPort());
    }

    private String start(String client) {
        HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private JsonNode usage(String id, long in, long out) {
        HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage",
                "{\"input_tokens\":" + in + ",\"output_tokens\":" + out + "}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r);
    }

    /** The session's audit row once it shows {@code charges} charged responses. */
    private JsonNode auditRow(String id, int charges) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            for (JsonNode row : Http.json(http.get("/v1/audit/sessions", "Authorization", OPERATOR)).get("sessions")) {
                if (row.get("session_id").asText().equals(id) && row.get("charged_responses").asInt() == charges) {
                    return row;
                }
            }
            assertThat(System.currentTimeMillis()).as("audit row of %s with %d charges in time", id, charges).isLessThan(deadline);
        }
    }

    @Test
    void usageForAnEndedSessionIsChargedAndReachesItsAuditRow() {
        String id = start("198.51.100.31");
        usage(id, 100_000, 0);
        assertThat(http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        JsonNode atEnd = auditRow(id, 1);
        assertThat(atEnd.get("cost_usd").toString()).isEqualTo("1.00");
        BigDecimal costBefore = BigDecimal.valueOf(PromText.value(http.get("/metrics").body(), "api_cost_total_usd", "model=\"gpt-5\""));
        BigDecimal hourlyBefore = Http.json(http.get("/status")).get("hourly_cost_usd").decimalValue();

        JsonNode late = usage(id, 0, 100_000);
        assertThat(late.get("call_cost").toString()).isEqualTo("3.00");
        assertThat(late.get("session_cost").toString()).isEqualTo("4.00");
        assertThat(late.get("session_ended").asBoolean()).isTrue();
        assertThat(late.get("end_reason").asText()).isEqualTo("api_ended");

        JsonNode row = auditRow(id, 2);
        assertThat(row.get("cost_usd").toString()).isEqualTo("4.00");
        assertThat(row.get("end_reason").asText()).isEqualTo("api_ended");
        assertThat(row.get("ended_at").asText()).isEqualTo(atEnd.get("ended_at").asText());
        assertThat(row.get("tokens").get("text_output").asLong()).isEqualTo(100_000);
        assertThat(Http.json(http.get("/v1/audit/sessions?client=198.51.100.31", "Authorization", OPERATOR)).get("sessions"))
                .as("one row, replaced, not a second one").hasSize(1);
        assertThat(BigDecimal.valueOf(PromText.value(http.get("/metrics").body(), "api_cost_total_usd", "model=\"gpt-5\""))
                .subtract(costBefore)).isEqualByComparingTo("3.00");
        assertThat(Http.json(http.get("/status")).get("hourly_cost_usd").decimalValue().subtract(hourlyBefore))
                .isEqualByComparingTo("3.00");
        assertThat(Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE)).get("cost_usd").toString())
                .isEqualTo("4.00");
    }

    @Test
    void usageWhileTheBreakerIsOpenIsChargedOnlyNewSessionsAreRefused() {
        String id = start("198.51.100.32");
        assertThat(admin.post("/tasks/trip-circuit-breaker?reason=usage-drill", null).statusCode()).isEqualTo(200);
        try {
            HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage", "{\"input_tokens\":10000,\"output_tokens\":0}",
                    "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode u = Http.json(r);
            assertThat(u.get("call_cost").toString()).isEqualTo("0.10");
            assertThat(u.get("circuit_breaker_active").asBoolean()).isTrue();
            assertThat(u.get("warnings").toString()).contains("System-wide circuit breaker is active");

            HttpResponse<String> refused = http.post("/v1/sessions", "{\"client_id\":\"198.51.100.33\"}", "Authorization", SERVICE);
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(Http.json(refused).get("error").asText()).isEqualTo("circuit_breaker_open");
            assertThat(http.get("/v1/sessions/" + id, "Authorization", SERVICE).statusCode())
                    .as("other API calls stay refused").isEqualTo(503);
        } finally {
            assertThat(admin.post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);
        }
        // the breaker ended the session; its record carries the charge made while the breaker was open
        JsonNode row = auditRow(id, 1);
        assertThat(row.get("cost_usd").toString()).isEqualTo("0.10");
    }
}
