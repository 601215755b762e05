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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client is its network and has an hourly budget, over real HTTP with X-Forwarded-For from the
 * trusted loopback proxy, on the default limits: rotating addresses inside one IPv6 /64 hits the
 * same buckets, slots and spend cap; a client over $10 in the hour gets 429 client_budget_exceeded
 * for new sessions, on the API and the realtime handshake alike.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ClientNetworkAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T22:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            // the backend's own API calls all come from one address; that route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final HttpClient WS = HttpClient.newHttpClient();

    private Http http;

    @BeforeEach
    void client() {
        http = Http.local(APP.getLocalPort());
    }

    private HttpResponse<String> startAs(String forwardedFor) {
        return http.post("/v1/sessions", "{\"model\":\"gpt-5\"}", "Authorization", SERVICE, "X-Forwarded-For", forwardedFor);
    }

    private JsonNode charge(String id, long in, long out) {
        HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage",
                "{\"input_tokens\":" + in + ",\"output_tokens\":" + out + "}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r);
    }

    /** The refusal of a /session handshake, or null when it was upgraded (then closed at once). */
    private static HttpResponse<?> handshake(String forwardedFor) {
        try {
            WS.newWebSocketBuilder().header("X-Forwarded-For", forwardedFor).connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create("ws://127.0.0.1:" + APP.getLocalPort() + "/session"), new WebSocket.Listener() {
                    }).join().abort();
            return null;
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
            return ((WebSocketHandshakeException) e.getCause()).getResponse();
        }
    }

    @Test
    void rotatingAddressesInsideASlash64ShareOneRateLimitBucket() {
        for (int i = 1; i <= 60; i++) {
            String rotated = "2001:db8:a:1:" + Integer.toHexString(i) + "::" + Integer.toHexString(i * 7);
            assertThat(http.get("/status", "X-Forwarded-For", rotated).statusCode()).as("request %d", i).isEqualTo(200);
        }
        HttpResponse<String> denied = http.get("/status", "X-Forwarded-For", "2001:db8:a:1:ffff:ffff:ffff:ffff");
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Retry-After")).isPresent();
        assertThat(http.get("/status", "X-Forwarded-For", "2001:db8:a:2::1").statusCode()).as("the next /64").isEqualTo(200);

        HttpResponse<String> reset = Http.local(APP.getAdminPort()).post("/tasks/reset-rate-limits?client=2001:db8:a:1::99", null);
        assertThat(reset.statusCode()).isEqualTo(200);
        assertThat(reset.body()).contains("2001:db8:a:1::/64");
        assertThat(http.get("/status", "X-Forwarded-For", "2001:db8:a:1::5").statusCode()).isEqualTo(200);
    }

    @Test
    void rotatingAddressesInsideASlash64ShareTheConcurrentSessionSlots() {
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> r = startAs("2001:db8:b:1::" + i);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            assertThat(Http.json(r).get("client_id").asText()).isEqualTo("2001:db8:b:1::/64");
        }
        HttpResponse<String> fourth = startAs("2001:db8:b:1:dead:beef:0:1");
        assertThat(fourth.statusCode()).isEqualTo(429);
        assertThat(Http.json(fourth).get("error").asText()).isEqualTo("concurrent_session_limit");
        assertThat(startAs("2001:db8:b:2::1").statusCode()).isEqualTo(201);
        HttpResponse<String> named = http.post("/v1/sessions", "{\"client_id\":\"2001:db8:b:1::77\"}", "Authorization", SERVICE);
        assertThat(named.statusCode()).as("a backend naming an address in the /64 names the same client").isEqualTo(429);
    }

    @Test
    void aClientOverItsHourlyBudgetIsRefusedNewSessionsWithARealRetryAfter() {
        String network = "2001:db8:c:1::";
        // start on a minute boundary, whatever the other tests did with the clock
        CLOCK.advance(Duration.ofMillis(Math.floorMod(-CLOCK.millis(), 60_000L)));
        // $5.00 + $5.00 from two addresses of one /64: each session ends at its cap, the client is at $10
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> r = startAs(network + i);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            charge(Http.json(r).get("session_id").asText(), 200_000, 100_000);
        }
        CLOCK.advance(Duration.ofMinutes(10));

        HttpResponse<String> refused = startAs(network + "abcd");
        assertThat(refused.statusCode()).isEqualTo(429);
        JsonNode body = Http.json(refused);
        assertThat(body.get("error").asText()).isEqualTo("client_budget_exceeded");
        assertThat(body.get("client_hourly_cost_usd").toString()).isEqualTo("10.00");
        assertThat(body.get("max_client_hourly_cost_usd").toString()).isEqualTo("10.00");
        // charged at the start of a minute: that minute leaves the rolling hour 61 minutes later, 51 from now
        assertThat(refused.headers().firstValue("Retry-After")).hasValue(Long.toString(Duration.ofMinutes(51).toSeconds()));
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(Duration.ofMinutes(51).toSeconds());

        HttpResponse<?> handshake = handshake(network + "ffff");
        assertThat(handshake).as("the realtime handshake is refused before any upgrade").isNotNull();
        assertThat(handshake.statusCode()).isEqualTo(429);
        assertThat(handshake.headers().firstValue("Retry-After")).hasValue(Long.toString(Duration.ofMinutes(51).toSeconds()));
        assertThat(String.valueOf(handshake.body())).contains("client_budget_exceeded");

        assertThat(startAs("2001:db8:c:2::1").statusCode()).as("another /64 is another client").isEqualTo(201);
        assertThat(PromText.value(http.get("/metrics").body(), "budget_exceeded_total", "limit=\"client_hourly\""))
                .isGreaterThanOrEqualTo(2.0);

        CLOCK.advance(Duration.ofMinutes(51).minusSeconds(1));
        assertThat(startAs(network + "abcd").statusCode()).isEqualTo(429);
        CLOCK.advance(Duration.ofSeconds(1));
        assertThat(startAs(network + "abcd").statusCode()).isEqualTo(201);
    }

    /**
     * With the defaults one client alone cannot open the $100 breaker, nor reach the $50 hourly cap:
     * it gets new sessions only while under $10, and the sessions it then holds can each add at
     * most their $5 cap. Bound: client cap + concurrent sessions × session cap = $10 + 3 × $5 = $25.
     */
    @Test
    void oneClientAloneCannotOpenTheBreaker() {
        String client = "198.51.100.201";
        String[] live = new String[3];
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = startAs(client);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            live[i] = Http.json(r).get("session_id").asText();
            // $0.99 + $3.99: $4.98, live, just under the session cap
            charge(live[i], 99_000, 133_000);
        }
        for (int i = 0; i < 3; i++) {
            // a final $0.02 each: the sessions reach their cap and end
            assertThat(charge(live[i], 2_000, 0).get("session_ended").asBoolean()).isTrue();
        }
        for (int attempt = 0; attempt < 20; attempt++) {
            HttpResponse<String> r = startAs(client);
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("client_budget_exceeded");
            assertThat(handshake(client).statusCode()).isEqualTo(429);
            CLOCK.advance(Duration.ofSeconds(30));
        }
        JsonNode status = Http.json(http.get("/status"));
        assertThat(status.get("circuit_breaker").asText()).isEqualTo("closed");
        assertThat(status.get("hourly_cost_usd").decimalValue()).isLessThanOrEqualTo(new java.math.BigDecimal("50.00"));
    }
}
