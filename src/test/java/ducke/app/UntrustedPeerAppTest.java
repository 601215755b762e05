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

/** The test client (loopback) is not a trusted proxy here, and not allowed to read metrics. */
@ExtendWith(DropwizardExtensionsSupport.class)
class UntrustedPeerAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(
            TestApps.support(MutableClock.at("2026-11-27T12:00:00Z"),
                    "clientIdentity.trustedProxies", "10.99.0.0/16",
                    "rateLimits.status", "5/minute",
                    "metrics.allowFrom", "10.0.0.0/8"));

    @Test
    void spoofedForwardedForFromAnUntrustedPeerChangesNothing() {
        Http http = Http.local(APP.getLocalPort());
        for (int i = 1; i <= 5; i++) {
            HttpResponse<String> r = http.get("/status", "X-Forwarded-For", "203.0.113." + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(5 - i));
        }
        assertThat(http.get("/status", "X-Forwarded-For", "203.0.113.100").statusCode()).isEqualTo(429);
        assertThat(http.get("/status", "X-Forwarded-For", ", 9.9.9.9").statusCode()).isEqualTo(429);
        assertThat(http.get("/status").statusCode()).isEqualTo(429);
    }

    @Test
    void metricsAnswerOnlyAllowedNetworks() {
        HttpResponse<String> r = Http.local(APP.getLocalPort()).get("/metrics", "X-Forwarded-For", "10.1.2.3");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(Http.json(r).get("error").asText()).isEqualTo("forbidden");
    }
}
