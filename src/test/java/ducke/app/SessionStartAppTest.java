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
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Opening and ending sessions through the API: what a start may name, the headers of the limit it
 * counts against (on success and on refusal), and the final record DELETE returns.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SessionStartAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T09:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.allowedModels", "gpt-realtime,gpt-5"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private Http http;

    @BeforeEach
    void client() {
        http = Http.local(APP.getLocalPort());
    }

    private HttpResponse<String> start(String json) {
        return http.post("/v1/sessions", json, "Authorization", SERVICE);
    }

    @Test
    void unknownFieldsAreRefusedWith422InsteadOfIgnored() {
        HttpResponse<String> r = start("{\"client\":\"198.51.100.1\"}");
        assertThat(r.statusCode()).isEqualTo(422);
        JsonNode body = Http.json(r);
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("message").asText()).contains("'client'").contains("client_id");
        assertThat(start("{\"client_id\":\"198.51.100.1\",\"max_cost_usd\":1000}").statusCode()).isEqualTo(422);
    }

    @Test
    void onlyAllowedModelsMayBeAskedFor() {
        // allowed: the relay's models and every model with a price (backends talk to those themselves)
        HttpResponse<String> refused = start("{\"client_id\":\"198.51.100.2\",\"model\":\"gpt-4o-unpriced\"}");
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(Http.json(refused).get("message").asText()).contains("gpt-4o-unpriced").contains("allowed: gpt-5, gpt-5-mini, gpt-realtime");
        assertThat(Http.json(refused).get("allowed_models").toString()).isEqualTo("[\"gpt-5\",\"gpt-5-mini\",\"gpt-realtime\"]");
        HttpResponse<String> allowed = start("{\"client_id\":\"198.51.100.2\",\"model\":\"gpt-5\"}");
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(201);
        assertThat(Http.json(allowed).get("model").asText()).isEqualTo("gpt-5");
        assertThat(Http.json(start("{\"client_id\":\"198.51.100.2\"}")).get("model").asText()).isEqualTo("gpt-realtime");
    }

    @Test
    void aStartCarriesTheHeadersOfTheSessionStartLimitNotOfTheRoute() {
        HttpResponse<String> r = start("{\"client_id\":\"198.51.100.3\"}");
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("5;w=60");
        assertThat(r.headers().firstValue("RateLimit")).hasValueSatisfying(v -> assertThat(v).startsWith("limit=5, remaining=4"));
        assertThat(r.headers().firstValue("X-RateLimit-Limit")).hasValue("5");
    }

    @Test
    void theConcurrentLimitAnswersWithTheSameLimitHeadersAndARealWait() {
        for (int i = 0; i < 3; i++) {
            assertThat(start("{\"client_id\":\"198.51.100.4\"}").statusCode()).isEqualTo(201);
            CLOCK.advance(Duration.ofMinutes(1));
        }
        HttpResponse<String> refused = start("{\"client_id\":\"198.51.100.4\"}");
        assertThat(refused.statusCode()).isEqualTo(429);
        JsonNode body = Http.json(refused);
        assertThat(body.get("error").asText()).isEqualTo("concurrent_session_limit");
        assertThat(refused.headers().firstValue("RateLimit-Policy")).hasValue("5;w=60");
        assertThat(refused.headers().firstValue("X-RateLimit-Limit")).hasValue("5");
        // the first of the three reaches its 30-minute cap 27 minutes from now
        assertThat(refused.headers().firstValue("Retry-After")).hasValue(Long.toString(Duration.ofMinutes(27).toSeconds()));
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(Duration.ofMinutes(27).toSeconds());
    }

    @Test
    void deleteAnswersWithTheFinalRecordGetShowsFromThenOn() {
        String id = Http.json(start("{\"client_id\":\"198.51.100.5\"}")).get("session_id").asText();
        CLOCK.advance(Duration.ofSeconds(42));
        JsonNode live = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(live.get("paused")).as("a live session says whether it is paused: %s", live).isNotNull();
        assertThat(live.get("paused").asBoolean(true)).isFalse();
        HttpResponse<String> deleted = http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE);
        assertThat(deleted.statusCode()).isEqualTo(200);
        JsonNode ended = Http.json(deleted);
        assertThat(ended.get("status").asText()).isEqualTo("ended");
        assertThat(ended.get("end_reason").asText()).isEqualTo("api_ended");
        assertThat(ended.get("duration_seconds").decimalValue()).isEqualByComparingTo("42");
        assertThat(Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE))).as("no paused on a final record")
                .isEqualTo(ended);
    }
}
