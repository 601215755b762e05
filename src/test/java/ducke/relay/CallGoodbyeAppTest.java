package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spoken goodbye on a WebRTC call: at the duration cap the guard sends the goodbye's
 * {@code response.create} through the sideband, charges it like any response, then hangs up.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class CallGoodbyeAppTest {

    private static final String INSTRUCTIONS = "Say goodbye in one short sentence.";
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T17:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.clientAuth", "required",
            "relay.goodbyeInstructions", INSTRUCTIONS,
            "relay.finalUsageWait", "1s",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    private static JsonNode session(String id) {
        return Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output. */
    private static BigDecimal billed(FakeUpstream.Call call) {
        long micros = 0;
        for (JsonNode u : call.events.billed) {
            micros += u.path("input_tokens").asLong() * 100 + u.path("output_tokens").asLong() * 200;
        }
        return BigDecimal.valueOf(micros).movePointLeft(6);
    }

    private static List<JsonNode> goodbyes(FakeUpstream.Call call) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        for (String m : call.events.received) {
            JsonNode e = WsClient.parse(m);
            if (e.path("event_id").asText().equals(Goodbye.EVENT_ID)) {
                found.add(e);
            }
        }
        return found;
    }

    @Test
    void atTheDurationCapTheCallHearsTheGoodbyeThenIsHungUp() throws Exception {
        UPSTREAM.speaks = true;
        HttpResponse<String> minted = http().post("/v1/realtime/client_secrets", "{\"client_id\":\"goodbye-call\"}",
                "Authorization", SERVICE);
        assertThat(minted.statusCode()).as(minted.body()).isEqualTo(201);
        HttpResponse<String> offer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + APP.getLocalPort() + "/v1/realtime/calls"))
                .header("Content-Type", "application/sdp").header("X-Forwarded-For", "198.51.100.77")
                .header("Authorization", "Bearer " + Http.json(minted).get("value").asText())
                .POST(HttpRequest.BodyPublishers.ofString(CallsAppTest.SDP, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(offer.statusCode()).as(offer.body()).isEqualTo(201);
        String sessionId = offer.headers().firstValue("Location").orElseThrow().substring("/v1/realtime/calls/".length());
        FakeUpstream.Call call = UPSTREAM.lastCall();
        Poll.until("the sideband attached with the clamp", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> call.attached() && call.events.received.stream().anyMatch(m -> m.contains("event_gw_clamp")));
        call.callerSends("{\"type\":\"response.create\",\"test_want_output\":300}");
        Poll.until("the caller's response charged", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> session(sessionId).get("cost_usd").decimalValue().compareTo(billed(call)) == 0
                        && call.events.billed.size() == 1);

        CLOCK.advance(Duration.ofMinutes(31));
        Poll.until("session " + sessionId + " ended", Duration.ofSeconds(20), Duration.ofMillis(50),
                () -> "ended".equals(session(sessionId).get("status").asText()));
        assertThat(session(sessionId).get("end_reason").asText()).isEqualTo("session_timeout");
        // the reaper may end the ledger at the cap before the call's node has asked for the goodbye (then charged late)
        Poll.until("the goodbye asked for and billed", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> goodbyes(call).size() == 1 && call.events.billed.size() == 2);
        List<JsonNode> goodbyes = goodbyes(call);
        assertThat(goodbyes).hasSize(1);
        assertThat(goodbyes.get(0).at("/response/instructions").asText()).isEqualTo(INSTRUCTIONS);
        assertThat(goodbyes.get(0).at("/response/max_output_tokens").asLong()).isEqualTo(200);
        assertThat(call.events.billed).as("the caller's response and the goodbye").hasSize(2);
        assertThat(call.events.billed.get(1).path("output_tokens").asLong()).isEqualTo(200);
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), call::hungUp);
        BigDecimal billed = billed(call);
        Poll.until("the goodbye charged", Duration.ofSeconds(10), Duration.ofMillis(20), () -> "cost " + session(sessionId),
                () -> session(sessionId).get("cost_usd").decimalValue().compareTo(billed) == 0);
    }
}
