package ducke.app;

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

/** {@code RATE_LIMIT_ENABLED=false}: nothing is limited and no rate-limit headers are sent. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RateLimitingDisabledAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(
            TestApps.support(MutableClock.at("2026-11-27T13:00:00Z"),
                    "rateLimits.enabled", "false",
                    "rateLimits.status", "2/minute",
                    "rateLimits.webSearch", "1/hour"));

    @Test
    void statusIsNeverLimited() {
        Http http = Http.local(APP.getLocalPort());
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = http.get("/status");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("RateLimit")).isEmpty();
        }
        assertThat(Http.json(http.get("/status")).get("rate_limiting_enabled").asBoolean()).isFalse();
    }

    @Test
    void toolQuotasAreNotEnforced() {
        Http http = Http.local(APP.getLocalPort());
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = http.post("/v1/tools/web_search/calls", "{\"client_id\":\"198.51.100.5\"}",
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(Http.json(r).get("rate_limiting_enabled").asBoolean()).isFalse();
        }
    }
}
