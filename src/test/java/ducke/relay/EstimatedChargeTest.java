package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Never under: a response the provider bills is in the ledger even when its usage never reaches the
 * guard — the upstream breaks mid-response, its usage cannot be read, the wait for it runs out, or
 * its event is larger than the guard reads. Such a response is charged what was reserved for it
 * (its estimated input and its output clamp at the dearest rate), at least what the provider can
 * have billed, and counted as estimated. The bill is priced here with this test's own arithmetic.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class EstimatedChargeTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T08:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.finalUsageWait", "300ms",
            "relay.maxUpstreamFrameSize", "1MiB",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.maxClientCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    /** The stand-in's context before anything is added: what its first response bills as input. */
    private static final long STAND_IN_CONTEXT = 1_000;

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static WsClient open() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100." + CLIENTS.incrementAndGet());
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output tokens. */
    private static BigDecimal billedUsd(long inputTokens, long outputTokens) {
        return BigDecimal.valueOf(inputTokens * 100 + outputTokens * 200).movePointLeft(6);
    }

    private static JsonNode session(WsClient c) {
        return Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + c.started.get("session_id").asText(),
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
    }

    private static double estimatedCharges() {
        return PromText.value(Http.local(APP.getLocalPort()).get("/metrics").body(), "estimated_charges_total",
                "model=\"gpt-realtime\"");
    }

    private static FakeUpstream.Connection lastUpstream() {
        return UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
    }

    /** Waits for the session's end and returns its ledger as the API shows it. */
    private static JsonNode ended(WsClient c) throws Exception {
        JsonNode[] last = new JsonNode[1];
        Poll.until("the session's end", Duration.ofSeconds(10), Duration.ofMillis(20), () -> last[0] == null ? "" : last[0].toString(),
                () -> "ended".equals((last[0] = session(c)).path("status").asText()));
        return last[0];
    }

    /**
     * A line for bench/hostile-clients.sh: what the stand-in billed (or the most it can have billed),
     * the ledger, the session's charge rows in the audit store, and the overspend past the session cap.
     */
    private static void measured(WsClient c, BigDecimal ledger, CostIntegrity billed, String usage) {
        String id = c.started.get("session_id").asText();
        billed.ledger(ledger).audit(CostIntegrity.audited(Http.local(APP.getLocalPort()), List.of(id), ledger))
                .cap("session", c.started.get("max_cost_usd").decimalValue()).usage(usage).print();
    }

    /** The output limit the guard gave the last response.create it forwarded upstream. */
    private static long forwardedClamp() throws Exception {
        String create = lastUpstream().received.stream().filter(m -> m.contains("\"response.create\"")).reduce((a, b) -> b).orElseThrow();
        return WsClient.parse(create).at("/response/max_output_tokens").asLong();
    }

    @Test
    void aResponseCutOffByTheUpstreamIsChargedItsReservation() throws Exception {
        double before = estimatedCharges();
        WsClient c = open();
        c.send("{\"type\":\"response.create\",\"test_hold\":true}");
        JsonNode created = c.until("response.created");
        long clamp = created.at("/response/max_output_tokens").asLong();
        assertThat(clamp).isPositive();
        lastUpstream().drop();
        JsonNode s = ended(c);
        assertThat(s.get("end_reason").asText()).isEqualTo("upstream_error");
        // whatever the provider billed for it, at most its whole context and its whole output limit
        assertThat(s.get("cost_usd").decimalValue()).isGreaterThanOrEqualTo(billedUsd(STAND_IN_CONTEXT, clamp));
        assertThat(estimatedCharges()).isEqualTo(before + 1);
        measured(c, s.get("cost_usd").decimalValue(),
                CostIntegrity.attack("upstream socket reset mid-response").billedAtMost(billedUsd(STAND_IN_CONTEXT, clamp)), "estimated");
    }

    @Test
    void anOversizedRetrieveDropsTheEventNotTheSessionAndTheResponseIsChargedExactly() throws Exception {
        WsClient c = open();
        c.send("{\"type\":\"response.create\",\"test_hold\":true}");
        c.until("response.created");
        // the provider answers with the item's audio whole: 1.3 MB, over the 1 MiB upstream limit here
        c.send("{\"type\":\"conversation.item.retrieve\",\"item_id\":\"item_audio_1\"}");
        JsonNode error = c.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("upstream_event_too_large");
        assertThat(error.at("/error/message").asText()).contains("conversation.item.retrieved");
        // the session goes on: the held response is cancelled by the client, done, and charged its real usage
        c.send("{\"type\":\"response.cancel\"}");
        JsonNode done = c.until("response.done");
        JsonNode usage = done.at("/response/usage");
        JsonNode update = c.until("usage_update");
        assertThat(update.get("session_cost").decimalValue())
                .isEqualByComparingTo(billedUsd(usage.get("input_tokens").asLong(), usage.get("output_tokens").asLong()));
        assertThat(session(c).get("status").asText()).isEqualTo("active");
        c.ws.sendClose(1000, "bye").join();
        measured(c, update.get("session_cost").decimalValue(),
                CostIntegrity.attack("oversized conversation.item.retrieve mid-response")
                        .billed(billedUsd(usage.get("input_tokens").asLong(), usage.get("output_tokens").asLong())), "arrived");
    }

    @Test
    void anOversizedResponseDoneIsChargedItsReservation() throws Exception {
        double before = estimatedCharges();
        WsClient c = open();
        String huge = "{\"type\":\"response.done\",\"event_id\":\"event_big\",\"response\":{\"object\":\"realtime.response\","
                + "\"id\":\"resp_big\",\"status\":\"completed\",\"output\":[],\"usage\":{\"total_tokens\":2000,\"input_tokens\":1000,"
                + "\"output_tokens\":1000}},\"test_pad\":1200000}";
        c.send("{\"type\":\"response.create\",\"test_script\":[{\"type\":\"response.created\",\"event_id\":\"event_c\","
                + "\"response\":{\"id\":\"resp_big\",\"object\":\"realtime.response\",\"status\":\"in_progress\",\"output\":[]}},"
                + huge + "]}");
        JsonNode error = c.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("upstream_event_too_large");
        JsonNode update = c.until("usage_update");
        // unread, the usage (0.30 here) is not known: the reservation is charged, and it covers it
        assertThat(update.get("session_cost").decimalValue()).isGreaterThanOrEqualTo(billedUsd(1000, 1000));
        assertThat(estimatedCharges()).isEqualTo(before + 1);
        c.ws.sendClose(1000, "bye").join();
        measured(c, update.get("session_cost").decimalValue(),
                CostIntegrity.attack("oversized response.done").billed(billedUsd(1000, 1000)), "estimated");
    }

    @Test
    void aResponseDoneWithUnreadableUsageIsChargedItsReservation() throws Exception {
        double before = estimatedCharges();
        WsClient c = open();
        c.send("{\"type\":\"response.create\",\"test_script\":[{\"type\":\"response.done\",\"event_id\":\"event_d\",\"response\":"
                + "{\"object\":\"realtime.response\",\"id\":\"resp_bad\",\"status\":\"completed\",\"output\":[],\"usage\":"
                + "{\"total_tokens\":-1,\"input_tokens\":-500,\"output_tokens\":900}}}]}");
        JsonNode update = c.until("usage_update");
        // the provider billed at least the 900 output tokens it names and the context it read
        assertThat(update.get("session_cost").decimalValue()).isGreaterThanOrEqualTo(billedUsd(STAND_IN_CONTEXT, 900));
        assertThat(estimatedCharges()).isEqualTo(before + 1);
        c.ws.sendClose(1000, "bye").join();
        measured(c, update.get("session_cost").decimalValue(), CostIntegrity.attack("malformed usage")
                .billedAtMost(billedUsd(STAND_IN_CONTEXT, forwardedClamp())).note("usage named -500 input and 900 output tokens"), "estimated");
    }

    @Test
    void aLastResponseWhoseUsageNeverArrivesIsChargedItsReservation() throws Exception {
        double before = estimatedCharges();
        WsClient c = open();
        // the stand-in answers no cancel: the usage of the response in progress never comes
        c.send("{\"type\":\"response.create\",\"test_hold\":true,\"test_deaf\":true}");
        long clamp = c.until("response.created").at("/response/max_output_tokens").asLong();
        c.ws.sendClose(1000, "bye").join();
        JsonNode s = ended(c);
        assertThat(s.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(s.get("cost_usd").decimalValue()).isGreaterThanOrEqualTo(billedUsd(STAND_IN_CONTEXT, clamp));
        assertThat(estimatedCharges()).isEqualTo(before + 1);
        measured(c, s.get("cost_usd").decimalValue(),
                CostIntegrity.attack("a tail that never arrives").billedAtMost(billedUsd(STAND_IN_CONTEXT, clamp)), "estimated");
    }
}
