package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static ducke.relay.RelayAppTest.responseDone;
import static ducke.relay.RelayAppTest.script;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A session paused because its client's budget refused its next reservation, and resumed through
 * {@link RelayRegistry#resumePausedFor} once the client's budget has room again (here: its spend
 * aged out of the hour).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class PauseClientBudgetAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-28T12:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "upstream.allowedModels", "gpt-realtime",
            "costProtection.onCap", "pause",
            "costProtection.pauseTimeout", "24h",
            "costProtection.maxSessionCostUsd", "20.00",
            "costProtection.maxSessionDurationMinutes", "1440",
            "costProtection.maxClientCostPerHourUsd", "5.00",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    @Test
    void aSessionPausedByItsClientsBudgetResumesWhenTheBudgetHasRoomAgain() throws Exception {
        String client = "192.0.2.41";
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        c.until("usage_update");
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        // 1.00 left of the client's 5.00 hour: less than the next response's input
        JsonNode paused = c.until("session_paused");
        assertThat(paused.get("reason").asText()).isEqualTo("client_budget_exceeded");
        assertThat(paused.get("resume_timeout_seconds").asLong()).isEqualTo(86_400);
        c.send("{\"type\":\"response.create\",\"event_id\":\"evt_refused\"}");
        assertThat(c.nextEvent().at("/error/code").asText()).isEqualTo("session_paused");

        RelayRegistry relayed = ((DuckeApplication) APP.getApplication()).relayed();
        assertThat(relayed.resumePausedFor(client)).as("the client's hour is still full").isZero();
        assertThat(relayed.resumePausedFor("192.0.2.42")).as("another client's sessions").isZero();
        assertThat(relayed.pausedHere(c.started.get("session_id").asText())).isTrue();

        CLOCK.advance(Duration.ofMinutes(61));
        assertThat(relayed.resumePausedFor(client)).isEqualTo(1);
        JsonNode resumed = c.until("session_resumed");
        assertThat(resumed.get("max_cost_usd").decimalValue()).isEqualByComparingTo("20.00");
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("6.00");
        assertThat(up.received).noneMatch(m -> m.contains("evt_refused"));
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    /**
     * The same for a backend's day budget: paused when the day cannot pay the next response, resumed
     * when the backend raises it ({@code PUT /v1/clients/{id}/budget} announces the change to every node).
     */
    @Test
    void aSessionPausedByItsClientsDayBudgetResumesWhenTheBackendRaisesIt() throws Exception {
        String client = "192.0.2.43";
        ducke.testing.Http http = ducke.testing.Http.local(APP.getLocalPort());
        String service = "Bearer " + TestApps.SERVICE_TOKEN;
        assertThat(http.put("/v1/clients/" + client + "/budget", "{\"day_usd\":\"2.20\"}", "Authorization", service).statusCode())
                .isEqualTo(200);
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        c.until("session.created");
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        JsonNode paused = c.until("session_paused");
        assertThat(paused.get("reason").asText()).isEqualTo("client_budget_exceeded");
        assertThat(http.put("/v1/clients/" + client + "/budget", "{\"day_usd\":\"4.50\"}", "Authorization", service).statusCode())
                .isEqualTo(200);
        c.until("session_resumed");
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        JsonNode budget = ducke.testing.Http.json(http.get("/v1/clients/" + client + "/budget", "Authorization", service));
        assertThat(budget.at("/day/spent_usd").decimalValue()).isEqualByComparingTo("4.00");
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }
}
