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

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole application over real HTTP, on the default limits, with loopback as the trusted proxy. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RateLimitAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T10:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP =
            new DropwizardAppExtension<>(TestApps.support(CLOCK));

    private Http http;
    private Http admin;

    @BeforeEach
    void clients() {
        http = Http.local(APP.getLocalPort());
        admin = Http.local(APP.getAdminPort());
    }

    private HttpResponse<String> status(String forwardedFor) {
        return http.get("/status", "X-Forwarded-For", forwardedFor);
    }

    private void exhaustStatus(String forwardedFor) {
        for (int i = 0; i < 60; i++) {
            assertThat(status(forwardedFor).statusCode()).as("request %d", i + 1).isEqualTo(200);
        }
    }

    @Test
    void statusAnswersSixtyTimesThenRejectsWithRetryAfterAndRateLimitHeaders() {
        for (int i = 1; i <= 60; i++) {
            HttpResponse<String> r = status("203.0.113.1");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("60;w=60");
            assertThat(r.headers().firstValue("X-RateLimit-Limit")).hasValue("60");
            assertThat(r.headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(60 - i));
            assertThat(r.headers().firstValue("RateLimit")).hasValue("limit=60, remaining=" + (60 - i) + ", reset=" + i);
            assertThat(r.headers().firstValue("X-RateLimit-Reset"))
                    .hasValue(Long.toString(CLOCK.instant().getEpochSecond() + i));
        }
        HttpResponse<String> denied = status("203.0.113.1");
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(denied.headers().firstValue("RateLimit")).hasValue("limit=60, remaining=0, reset=60");
        assertThat(denied.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode body = Http.json(denied);
        assertThat(body.get("code").asInt()).isEqualTo(429);
        assertThat(body.get("error").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(body.get("limit").asText()).isEqualTo("60 per 1 minute");
        assertThat(body.get("endpoint").asText()).isEqualTo("status");
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(1);
        assertThat(body.get("message").asText()).contains("60 per 1 minute");
    }

    @Test
    void rejectedClientIsAllowedAgainOnceItsRetryAfterHasPassed() {
        exhaustStatus("203.0.113.9");
        HttpResponse<String> denied = status("203.0.113.9");
        assertThat(denied.statusCode()).isEqualTo(429);
        // the second rejection is answered from the node's denial cache; it must say the same
        assertThat(status("203.0.113.9").headers().firstValue("Retry-After")).hasValue("1");
        CLOCK.advance(Duration.ofSeconds(1));
        assertThat(status("203.0.113.9").statusCode()).isEqualTo(200);
        assertThat(status("203.0.113.9").statusCode()).isEqualTo(429);
    }

    @Test
    void anotherClientIsUnaffected() {
        exhaustStatus("203.0.113.2");
        assertThat(status("203.0.113.2").statusCode()).isEqualTo(429);
        HttpResponse<String> other = status("203.0.113.3");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.headers().firstValue("X-RateLimit-Remaining")).hasValue("59");
    }

    @Test
    void trustedProxyChainIdentifiesTheClientWhateverItPutsOnTheLeft() {
        exhaustStatus("198.51.100.7");
        assertThat(status("6.6.6.6, 198.51.100.7").statusCode()).isEqualTo(429);
        assertThat(status("198.51.100.7, 127.0.0.1").statusCode()).isEqualTo(429);
        assertThat(http.get("/status", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "198.51.100.7").statusCode())
                .isEqualTo(429);
    }

    @Test
    void emptyFirstEntryBypassOfTheOriginalServiceIdentifiesTheRealClient() {
        exhaustStatus(", 9.9.9.9");
        assertThat(status("9.9.9.9").statusCode()).isEqualTo(429);
        assertThat(status(" , ,9.9.9.9").statusCode()).isEqualTo(429);
    }

    @Test
    void ipv6ClientsAreKeyedByTheirSlash64() {
        exhaustStatus("2001:db8::42");
        assertThat(status("2001:DB8:0:0:0:0:0:42").statusCode()).isEqualTo(429);
        assertThat(status("[2001:db8::42]:5555").statusCode()).isEqualTo(429);
        assertThat(status("2001:db8::43").statusCode()).as("the same /64").isEqualTo(429);
        assertThat(status("2001:db8:0:1::42").statusCode()).as("the next /64").isEqualTo(200);
    }

    @Test
    void garbageForwardedForNeverBecomesAKey() {
        HttpResponse<String> first = status("garbage");
        HttpResponse<String> second = status("<script>, , unknown");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(second.statusCode()).isEqualTo(200);
        // both counted against the direct peer: one bucket, not two fresh ones
        int remainingFirst = Integer.parseInt(first.headers().firstValue("X-RateLimit-Remaining").orElseThrow());
        int remainingSecond = Integer.parseInt(second.headers().firstValue("X-RateLimit-Remaining").orElseThrow());
        assertThat(remainingSecond).isEqualTo(remainingFirst - 1);
    }

    @Test
    void metricsShowTheCountersMovingWithoutClientAddresses() {
        String before = http.get("/metrics").body();
        exhaustStatus("203.0.113.77");
        status("203.0.113.77");
        status("203.0.113.77");
        String after = http.get("/metrics").body();
        assertThat(PromText.value(after, "rate_limit_exceeded_total", "endpoint=\"status\""))
                .isEqualTo(PromText.value(before, "rate_limit_exceeded_total", "endpoint=\"status\"") + 2);
        assertThat(PromText.value(after, "rate_limit_local_rejections_total", "endpoint=\"status\""))
                .isGreaterThan(PromText.value(before, "rate_limit_local_rejections_total", "endpoint=\"status\""));
        assertThat(PromText.value(after, "rate_limit_check_duration_seconds_count", "endpoint=\"status\""))
                .isEqualTo(PromText.value(before, "rate_limit_check_duration_seconds_count", "endpoint=\"status\"") + 62);
        assertThat(after).contains("rate_limit_check_duration_seconds_bucket{endpoint=\"status\",le=\"1.0E-5\"}");
        assertThat(PromText.value(after, "cluster_members", "")).isEqualTo(1.0);
        assertThat(after).doesNotContain("203.0.113");
    }

    @Test
    void metricsAreNeverRateLimited() {
        for (int i = 0; i < 150; i++) {
            assertThat(http.get("/metrics").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void resetTaskClearsTheClientIncludingTheCachedDenial() {
        exhaustStatus("203.0.113.50");
        assertThat(status("203.0.113.50").statusCode()).isEqualTo(429);
        assertThat(status("203.0.113.50").statusCode()).isEqualTo(429);
        HttpResponse<String> reset = admin.post("/tasks/reset-rate-limits?client=203.0.113.50&endpoint=status", null);
        assertThat(reset.statusCode()).isEqualTo(200);
        assertThat(reset.body()).contains("1 bucket(s) cleared");
        HttpResponse<String> again = status("203.0.113.50");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("X-RateLimit-Remaining")).hasValue("59");
    }

    @Test
    void resetTaskRefusesMissingClientAndUnknownEndpoint() {
        HttpResponse<String> missing = admin.post("/tasks/reset-rate-limits", null);
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).contains("parameter 'client' is required");
        HttpResponse<String> unknown = admin.post("/tasks/reset-rate-limits?client=1.2.3.4&endpoint=nope", null);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("unknown endpoint 'nope'");
    }

    @Test
    void statusReportsNodeAndCluster() {
        JsonNode s = Http.json(status("203.0.113.60"));
        assertThat(s.get("status").asText()).isEqualTo("ok");
        assertThat(s.get("message").asText()).isEqualTo("DUCK-E Server is running!");
        assertThat(s.get("node").asText()).isNotBlank();
        assertThat(s.get("cluster_members").asInt()).isEqualTo(1);
        assertThat(s.get("cluster_healthy").asBoolean()).isTrue();
        assertThat(s.get("rate_limiting_enabled").asBoolean()).isTrue();
    }

    @Test
    void homePageIsHtmlWithLiveStatusAndItsOwnLimit() {
        HttpResponse<String> r = http.get("/", "X-Forwarded-For", "203.0.113.61");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(r.body()).contains("DUCK-E Guard").contains("Cluster members");
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("30;w=60");
    }

    @Test
    void healthCheckReportsTheCluster() {
        HttpResponse<String> r = admin.get("/healthcheck");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Http.json(r).get("cluster").get("healthy").asBoolean()).isTrue();
        assertThat(Http.json(r).get("cluster").get("message").asText()).contains("1 member(s)");
    }

    @Test
    void unknownRoutesAndMethodsGetTheErrorBodyAndCountAgainstTheDefaultLimit() {
        HttpResponse<String> notFound = http.get("/no/such/thing", "X-Forwarded-For", "203.0.113.62");
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(Http.json(notFound).get("error").asText()).isEqualTo("invalid_request");
        assertThat(notFound.headers().firstValue("RateLimit-Policy")).hasValue("100;w=60");
        HttpResponse<String> wrongMethod = http.post("/status", "{}", "X-Forwarded-For", "203.0.113.62");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(Http.json(wrongMethod).get("code").asInt()).isEqualTo(405);
    }

    @Test
    void oversizedHeadersGetAJsonErrorNotAnHtmlPage() {
        HttpResponse<String> r = status("1.2.3.4, ".repeat(3000) + "203.0.113.63");
        assertThat(r.statusCode()).isEqualTo(431);
        assertThat(Http.json(r).get("code").asInt()).isEqualTo(431);
        assertThat(r.body()).doesNotContain("<html");
    }
}
