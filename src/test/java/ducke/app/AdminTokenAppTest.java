package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** An admin port bound beyond loopback: its tasks need the operator token. */
@ExtendWith(DropwizardExtensionsSupport.class)
class AdminTokenAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-30T12:00:00Z"), "server.adminConnectors[0].bindHost", "0.0.0.0"));

    private final Http admin = Http.local(APP.getAdminPort());

    @Test
    void tasksWithoutATokenAreRefused401() {
        HttpResponse<String> r = admin.post("/tasks/trip-circuit-breaker?reason=intruder", null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        JsonNode body = Http.json(r);
        assertThat(body.get("error").asText()).isEqualTo("unauthorized");
        assertThat(body.get("code").asInt()).isEqualTo(401);
        assertThat(admin.post("/tasks/reset-rate-limits?client=1.2.3.4", null, "Authorization", "Bearer wrong-token-0123456789")
                .statusCode()).isEqualTo(401);
        // the refused trip did not happen
        assertThat(Http.json(Http.local(APP.getLocalPort()).get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
    }

    @Test
    void theServiceTokenIsNotEnough() {
        HttpResponse<String> r = admin.post("/tasks/reset-rate-limits?client=1.2.3.4", null,
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(Http.json(r).get("error").asText()).isEqualTo("forbidden");
    }

    @Test
    void theOperatorTokenRunsTasks() {
        HttpResponse<String> r = admin.post("/tasks/reset-rate-limits?client=1.2.3.4", null,
                "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(admin.post("/tasks/end-session?id=nonsense", null, "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN)
                .statusCode()).as("bad input is still 400 once authorised").isEqualTo(400);
        assertThat(admin.get("/healthcheck").statusCode()).as("health checks stay open to load balancers").isIn(200, 500);
    }

    @Test
    void theOperatorTokenNextToAnotherAuthorizationIsRefused400() {
        ducke.testing.RawHttp.Answer a = ducke.testing.RawHttp.send(APP.getAdminPort(),
                "POST /tasks/trip-circuit-breaker?reason=twice HTTP/1.1\r\nHost: test\r\n"
                        + "Authorization: Bearer " + TestApps.OPERATOR_TOKEN + "\r\nAuthorization: Bearer wrong-token-0123456789", "");
        assertThat(a.status()).as(a.body()).isEqualTo(400);
        assertThat(a.body()).contains("Authorization given more than once");
        assertThat(Http.json(Http.local(APP.getLocalPort()).get("/status")).get("circuit_breaker").asText()).isEqualTo("closed");
    }
}
