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

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code POST /v1/tools/{tool}/calls} over real HTTP with the default quotas. */
@ExtendWith(DropwizardExtensionsSupport.class)
class ToolQuotaAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T11:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP =
            new DropwizardAppExtension<>(TestApps.support(CLOCK));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private Http http;

    @BeforeEach
    void client() {
        http = Http.local(APP.getLocalPort());
    }

    private HttpResponse<String> call(String tool, String body, String authorization) {
        return authorization == null ? http.post("/v1/tools/" + tool + "/calls", body)
                : http.post("/v1/tools/" + tool + "/calls", body, "Authorization", authorization);
    }

    @Test
    void requiresAServiceToken() {
        HttpResponse<String> none = call("web_search", "{\"client_id\":\"198.51.100.1\"}", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(Http.json(none).get("error").asText()).isEqualTo("unauthorized");
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));

        assertThat(call("web_search", "{\"client_id\":\"198.51.100.1\"}", "Bearer wrong-token-wrong-token").statusCode()).isEqualTo(401);
        assertThat(call("web_search", "{\"client_id\":\"198.51.100.1\"}", "Basic " + TestApps.SERVICE_TOKEN).statusCode()).isEqualTo(401);
        assertThat(call("web_search", "{\"client_id\":\"198.51.100.1\"}", "Bearer").statusCode()).isEqualTo(401);

        HttpResponse<String> operator = call("web_search", "{\"client_id\":\"198.51.100.1\"}", "Bearer " + TestApps.OPERATOR_TOKEN);
        assertThat(operator.statusCode()).isEqualTo(403);
        assertThat(Http.json(operator).get("error").asText()).isEqualTo("forbidden");
    }

    @Test
    void webSearchAllowsFivePerHourPerClient() {
        for (int i = 1; i <= 5; i++) {
            HttpResponse<String> r = call("web_search", "{\"client_id\":\"198.51.100.2\"}", SERVICE);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode body = Http.json(r);
            assertThat(body.get("allowed").asBoolean()).isTrue();
            assertThat(body.get("remaining").asLong()).isEqualTo(5 - i);
            assertThat(body.get("limit").asText()).isEqualTo("5 per 1 hour");
            assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("5;w=3600");
        }
        HttpResponse<String> denied = call("web_search", "{\"client_id\":\"198.51.100.2\"}", SERVICE);
        assertThat(denied.statusCode()).isEqualTo(429);
        // one call frees up every 12 minutes
        assertThat(denied.headers().firstValue("Retry-After")).hasValue("720");
        JsonNode body = Http.json(denied);
        assertThat(body.get("error").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(body.get("endpoint").asText()).isEqualTo("web_search");
        assertThat(body.get("limit").asText()).isEqualTo("5 per 1 hour");
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(720);

        assertThat(call("web_search", "{\"client_id\":\"198.51.100.3\"}", SERVICE).statusCode()).isEqualTo(200);
        assertThat(call("weather", "{\"client_id\":\"198.51.100.2\"}", SERVICE).statusCode()).isEqualTo(200);
    }

    @Test
    void unknownFieldsAndNonStringIdsAre422AndUseNoQuota() {
        for (String body : List.of("{\"client_id\":\"198.51.100.9\",\"foo\":1}", "{\"client_id\":9}", "{\"client\":\"198.51.100.9\"}")) {
            HttpResponse<String> r = call("web_search", body, SERVICE);
            assertThat(r.statusCode()).as(body + ": " + r.body()).isEqualTo(422);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(Http.json(call("web_search", "{\"client_id\":\"198.51.100.9\"}", SERVICE)).get("remaining").asLong())
                .as("the refused calls used none of the quota").isEqualTo(4);
    }

    @Test
    void weatherAllowsTenPerHour() {
        for (int i = 0; i < 10; i++) {
            assertThat(call("weather", "{\"client_id\":\"client-42\"}", SERVICE).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> denied = call("weather", "{\"client_id\":\"client-42\"}", SERVICE);
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Retry-After")).hasValue("360");
    }

    @Test
    void addressClientIdsAreCanonicalSoSpellingsShareOneQuota() {
        for (int i = 0; i < 5; i++) {
            assertThat(call("web_search", "{\"client_id\":\"2001:db8::7\"}", SERVICE).statusCode()).isEqualTo(200);
        }
        assertThat(call("web_search", "{\"client_id\":\"2001:DB8:0:0:0:0:0:7\"}", SERVICE).statusCode()).isEqualTo(429);
        HttpResponse<String> sameNetwork = call("web_search", "{\"client_id\":\"2001:db8::beef:8\"}", SERVICE);
        assertThat(sameNetwork.statusCode()).as("another address of the same /64 is the same client").isEqualTo(429);
        assertThat(call("web_search", "{\"client_id\":\"2001:db8:0:1::7\"}", SERVICE).statusCode()).isEqualTo(200);
    }

    @Test
    void badInputGetsAClearError() {
        HttpResponse<String> unknownTool = call("fax", "{\"client_id\":\"198.51.100.9\"}", SERVICE);
        assertThat(unknownTool.statusCode()).isEqualTo(404);
        assertThat(Http.json(unknownTool).get("message").asText()).contains("fax");

        HttpResponse<String> missing = call("weather", "{}", SERVICE);
        assertThat(missing.statusCode()).isEqualTo(422);
        assertThat(Http.json(missing).get("error").asText()).isEqualTo("invalid_request");

        assertThat(call("weather", "", SERVICE).statusCode()).isEqualTo(422);
        assertThat(call("weather", "{\"client_id\":\"has space|pipe\"}", SERVICE).statusCode()).isEqualTo(422);
        assertThat(call("weather", "{\"client_id\":\"" + "x".repeat(200) + "\"}", SERVICE).statusCode()).isEqualTo(422);

        HttpResponse<String> notJson = call("weather", "{\"client_id\":", SERVICE);
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(Http.json(notJson).get("error").asText()).isEqualTo("invalid_request");

        HttpResponse<String> wrongType = http.post("/v1/tools/weather/calls", "[1,2]", "Authorization", SERVICE);
        assertThat(wrongType.statusCode()).isEqualTo(400);
    }
}
