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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster-wide limits over real HTTP, with a clock the test moves: the duration cap, the
 * rolling hourly cap and the circuit breaker. One story, so the steps run in order.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CostLimitsAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T16:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "costProtection.sweepInterval", "50ms",
            "upstream.allowedModels", "gpt-realtime,gpt-5,gpt-5-mini",
            // these tests poll the API from one address; its route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute",
            "costProtection.circuitBreakerThresholdUsd", "100.00",
            "costProtection.maxTotalCostPerHourUsd", "50.00"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private static String liveSession;
    private Http http;
    private Http admin;

    @BeforeEach
    void clients() {
        http = Http.local(APP.getLocalPort());
        admin = Http.local(APP.getAdminPort());
    }

    private HttpResponse<String> start(String client) {
        return http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
    }

    private String started(String client) {
        HttpResponse<String> r = start(client);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    /** gpt-5, 200k in + 100k out: exactly $5.00, which also ends the session at its cap. */
    private void spendFive(String id) {
        HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage", "{\"input_tokens\":200000,\"output_tokens\":100000}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private JsonNode session(String id) {
        return Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    private JsonNode awaitEnded(String id) {
        long deadline = System.currentTimeMillis() + 20_000;
        JsonNode s = session(id);
        while (!"ended".equals(s.get("status").asText())) {
            assertThat(System.currentTimeMillis()).as("session %s ended in time", id).isLessThan(deadline);
            s = session(id);
        }
        return s;
    }

    @Test
    @Order(1)
    void durationCapEndsASessionAtThirtyMinutesWithoutAnyUsage() {
        String id = started("198.51.100.1");
        CLOCK.advance(Duration.ofMinutes(29));
        assertThat(session(id).get("status").asText()).isEqualTo("active");
        CLOCK.advance(Duration.ofMinutes(1));
        JsonNode ended = awaitEnded(id);
        assertThat(ended.get("end_reason").asText()).isEqualTo("session_timeout");
        assertThat(ended.get("duration_seconds").decimalValue()).isEqualByComparingTo("1800");
    }

    @Test
    @Order(2)
    void hourlyCapRefusesNewSessionsUntilSpendAgesOut() {
        for (int i = 0; i < 10; i++) {
            spendFive(started("198.51.100.1" + i));
        }
        HttpResponse<String> refused = start("198.51.100.50");
        assertThat(refused.statusCode()).isEqualTo(503);
        JsonNode body = Http.json(refused);
        assertThat(body.get("error").asText()).isEqualTo("hourly_limit_exceeded");
        assertThat(body.get("hourly_cost_usd").toString()).isEqualTo("50.00");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue(Long.toString(Duration.ofMinutes(61).toSeconds()));
        assertThat(Http.json(http.get("/status")).get("hourly_cost_usd").toString()).isEqualTo("50.00");

        CLOCK.advance(Duration.ofMinutes(61));
        assertThat(start("198.51.100.50").statusCode()).isEqualTo(201);
    }

    @Test
    @Order(3)
    void breakerOpensAtItsThresholdEndsLiveSessionsAndAnswers503WhileStatusAndMetricsWork() {
        // twenty sessions open while spend is low; then each spends $5: the twentieth opens the breaker
        String live = started("198.51.100.60");
        List<String> spenders = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            spenders.add(started("198.51.100." + (100 + i)));
        }
        for (int i = 0; i < 19; i++) {
            spendFive(spenders.get(i));
        }
        assertThat(Http.json(http.get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
        HttpResponse<String> tripping = http.post("/v1/sessions/" + spenders.get(19) + "/usage",
                "{\"input_tokens\":200000,\"output_tokens\":100000}", "Authorization", SERVICE);
        assertThat(tripping.statusCode()).isEqualTo(200);
        assertThat(Http.json(tripping).get("circuit_breaker_active").asBoolean()).isTrue();
        assertThat(Http.json(tripping).get("warnings").toString()).contains("System-wide circuit breaker is active");
        // every API call is refused while the breaker is open, so watch the end through the metrics
        long deadline = System.currentTimeMillis() + 20_000;
        while (PromText.value(http.get("/metrics").body(), "session_duration_seconds_count", "status=\"circuit_breaker\"") < 1) {
            assertThat(System.currentTimeMillis()).as("live session ended by the breaker in time").isLessThan(deadline);
        }
        liveSession = live;

        HttpResponse<String> api = http.post("/v1/tools/weather/calls", "{\"client_id\":\"198.51.100.90\"}", "Authorization", SERVICE);
        assertThat(api.statusCode()).isEqualTo(503);
        JsonNode body = Http.json(api);
        assertThat(body.get("error").asText()).isEqualTo("circuit_breaker_open");
        assertThat(body.get("resets_at").asText()).isNotBlank();
        assertThat(api.headers().firstValue("Retry-After")).hasValue("3600");
        assertThat(start("198.51.100.91").statusCode()).isEqualTo(503);

        HttpResponse<String> status = http.get("/status");
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(Http.json(status).get("circuit_breaker").asText()).isEqualTo("open");
        HttpResponse<String> metrics = http.get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(PromText.value(metrics.body(), "circuit_breaker_open", "")).isEqualTo(1.0);
        assertThat(PromText.value(metrics.body(), "budget_exceeded_total", "limit=\"circuit_breaker\"")).isGreaterThanOrEqualTo(1.0);
        assertThat(admin.get("/healthcheck").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(4)
    void breakerClosesByItselfAfterTheCooldown() {
        CLOCK.advance(Duration.ofMinutes(60).minusSeconds(1));
        assertThat(Http.json(http.get("/status")).get("circuit_breaker").asText()).isEqualTo("open");
        CLOCK.advance(Duration.ofSeconds(1));
        assertThat(Http.json(http.get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
        assertThat(session(liveSession).get("end_reason").asText()).isEqualTo("circuit_breaker");
        // the spend that opened it still fills the rolling hour for another minute
        assertThat(Http.json(start("198.51.100.92")).get("error").asText()).isEqualTo("hourly_limit_exceeded");
        CLOCK.advance(Duration.ofMinutes(1));
        assertThat(start("198.51.100.92").statusCode()).isEqualTo(201);
    }

    @Test
    @Order(5)
    void tripAndResetTasksWorkFromTheAdminPort() {
        HttpResponse<String> trip = admin.post("/tasks/trip-circuit-breaker?reason=drill", null);
        assertThat(trip.statusCode()).isEqualTo(200);
        assertThat(trip.body()).contains("admin: drill");
        assertThat(start("198.51.100.93").statusCode()).isEqualTo(503);

        assertThat(admin.post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);
        assertThat(start("198.51.100.93").statusCode()).isEqualTo(201);
        assertThat(Http.json(http.get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
    }

    @Test
    @Order(6)
    void endSessionTaskEndsASessionAndRefusesBadIds() {
        String id = started("198.51.100.94");
        HttpResponse<String> ended = admin.post("/tasks/end-session?id=" + id, null);
        assertThat(ended.statusCode()).isEqualTo(200);
        assertThat(session(id).get("end_reason").asText()).isEqualTo("admin_ended");
        assertThat(admin.post("/tasks/end-session?id=" + id, null).body()).contains("already ended");
        assertThat(admin.post("/tasks/end-session", null).statusCode()).isEqualTo(400);
        assertThat(admin.post("/tasks/end-session?id=nonsense", null).statusCode()).isEqualTo(400);
        assertThat(admin.post("/tasks/end-session?id=sess_00000000000000000000000000000000", null).statusCode()).isEqualTo(400);
    }
}
