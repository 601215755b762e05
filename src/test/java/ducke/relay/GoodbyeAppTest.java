package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spoken goodbye ({@code RELAY_GOODBYE_INSTRUCTIONS}) end to end: a session ending for its cost
 * cap or its duration cap first hears the model's goodbye, which is reserved out of the cap and
 * charged like any response, then ends as without one.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class GoodbyeAppTest {

    private static final String INSTRUCTIONS = "Say a short goodbye: this conversation has reached its limit.";
    private static final long RESERVE = 200;
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T16:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.goodbyeInstructions", INSTRUCTIONS,
            "relay.goodbyeReserveTokens", Long.toString(RESERVE),
            "relay.finalUsageWait", "500ms",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.maxClientCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    @AfterEach
    void plainStandIn() {
        UPSTREAM.neverFinishesInstructed = false;
    }

    private static WsClient open() throws Exception {
        UPSTREAM.speaks = true;
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "192.0.2." + CLIENTS.incrementAndGet());
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    private static FakeUpstream.Connection lastUpstream() {
        return UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
    }

    /** What the stand-in billed, priced as config.yml prices gpt-realtime: 100 USD per 1M input tokens, 200 per 1M output. */
    private static BigDecimal billedUsd(List<JsonNode> billed) {
        long micro = 0;
        for (JsonNode u : billed) {
            micro += u.get("input_tokens").asLong() * 100 + u.get("output_tokens").asLong() * 200;
        }
        return BigDecimal.valueOf(micro).movePointLeft(6);
    }

    /** The guard's goodbye as the stand-in received it. */
    private static JsonNode goodbyeCreate(FakeUpstream.Connection up) throws Exception {
        List<JsonNode> found = new ArrayList<>();
        for (String m : up.received) {
            JsonNode e = WsClient.parse(m);
            if (e.path("event_id").asText().equals(Goodbye.EVENT_ID)) {
                found.add(e);
            }
        }
        assertThat(found).as("one goodbye response.create").hasSize(1);
        return found.get(0);
    }

    /** Every event the client got until the close; the close code last, as a number. */
    private static List<JsonNode> untilClosed(WsClient c, boolean askForMore) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        while (true) {
            WsClient.Received r = c.next();
            if (r.text() == null && r.binary() == null) {
                events.add(WsClient.parse(Integer.toString(r.closeCode())));
                return events;
            }
            if (r.text() == null) {
                continue;
            }
            JsonNode e = WsClient.parse(r.text());
            events.add(e);
            if (askForMore && e.path("type").asText().equals("usage_update")) {
                c.sendIfOpen("{\"type\":\"response.create\"}");
            }
        }
    }

    private static int indexOf(List<JsonNode> events, String type, int from) {
        for (int i = from; i < events.size(); i++) {
            if (events.get(i).path("type").asText().equals(type)) {
                return i;
            }
        }
        return -1;
    }

    private static JsonNode ended(WsClient c) throws Exception {
        Http http = Http.local(APP.getLocalPort());
        AtomicReference<JsonNode> s = new AtomicReference<>();
        Poll.until("the session ended", Duration.ofSeconds(30), Duration.ofMillis(20), () -> "session " + s.get(), () -> {
            s.set(Http.json(http.get("/v1/sessions/" + c.started.get("session_id").asText(),
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN)));
            return s.get().get("status").asText().equals("ended");
        });
        return s.get();
    }

    private static double goodbyes(String outcome) {
        return PromText.value(Http.local(APP.getLocalPort()).get("/metrics").body(), "relay_goodbyes_total",
                "outcome=\"" + outcome + "\"");
    }

    /**
     * The client asks for responses until the session's budget ends it: the model's goodbye (its
     * audio, its response.done) reaches the client before {@code budget_exceeded} and the close
     * 1008; it was asked for with the instructions and an output limit within the reserve, and the
     * session's total is what the stand-in billed, within the cap.
     */
    @Test
    void atTheSessionCapTheModelSaysGoodbyeWithinTheCap() throws Exception {
        double done = goodbyes("done");
        WsClient c = open();
        FakeUpstream.Connection up = lastUpstream();
        c.send("{\"type\":\"response.create\"}");
        List<JsonNode> events = untilClosed(c, true);

        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1008);
        int exceeded = indexOf(events, "budget_exceeded", 0);
        assertThat(exceeded).isPositive();
        JsonNode create = goodbyeCreate(up);
        assertThat(create.at("/response/instructions").asText()).isEqualTo(INSTRUCTIONS);
        assertThat(create.at("/response/tool_choice").asText()).isEqualTo("none");
        long limit = create.at("/response/max_output_tokens").asLong();
        assertThat(limit).isBetween(1L, RESERVE);
        // the goodbye is the last response: its announcement, its audio and its end come before budget_exceeded
        String goodbyeId = null;
        for (int i = exceeded; i >= 0; i--) {
            if (events.get(i).path("type").asText().equals("response.created")) {
                goodbyeId = events.get(i).at("/response/id").asText();
                break;
            }
        }
        assertThat(goodbyeId).isNotNull();
        String id = goodbyeId;
        assertThat(events.subList(0, exceeded)).anyMatch(e -> e.path("type").asText().equals("response.output_audio.delta")
                && e.path("response_id").asText().equals(id));
        assertThat(events.subList(0, exceeded)).anyMatch(e -> e.path("type").asText().equals("response.done")
                && e.at("/response/id").asText().equals(id) && e.at("/response/usage/output_tokens").asLong() == limit);
        assertThat(events.get(exceeded + 1).at("/error/code").asText()).isEqualTo("budget_exceeded");

        JsonNode session = ended(c);
        assertThat(session.get("end_reason").asText()).isEqualTo("budget_exceeded");
        BigDecimal cost = session.get("cost_usd").decimalValue();
        assertThat(cost).isEqualByComparingTo(billedUsd(up.billed));
        assertThat(cost).isLessThanOrEqualTo(new BigDecimal("5.00"));
        assertThat(goodbyes("done")).isEqualTo(done + 1);
    }

    /**
     * At the duration cap the model says goodbye too (its whole reserve is affordable: the budget is
     * far from spent), then {@code session_timeout} and close 1008; it is charged like any response.
     */
    @Test
    void atTheDurationCapTheModelSaysGoodbye() throws Exception {
        WsClient c = open();
        FakeUpstream.Connection up = lastUpstream();
        c.send("{\"type\":\"response.create\",\"test_want_output\":300}");
        c.until("usage_update");
        CLOCK.advance(Duration.ofMinutes(30));
        List<JsonNode> events = untilClosed(c, false);

        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1008);
        int timeout = indexOf(events, "session_timeout", 0);
        assertThat(timeout).isNotNegative();
        int audio = indexOf(events, "response.output_audio.delta", 0);
        assertThat(audio).as("the goodbye's audio before session_timeout").isBetween(0, timeout);
        JsonNode create = goodbyeCreate(up);
        assertThat(create.at("/response/max_output_tokens").asLong()).isEqualTo(RESERVE);
        assertThat(up.billed).hasSize(2);

        JsonNode session = ended(c);
        assertThat(session.get("end_reason").asText()).isEqualTo("session_timeout");
        Poll.until("the goodbye is charged", Duration.ofSeconds(10), Duration.ofMillis(20), () -> "billed " + up.billed,
                () -> ended(c).get("cost_usd").decimalValue().compareTo(billedUsd(up.billed)) == 0);
    }

    /**
     * A goodbye whose response.done never comes is cancelled after the tail wait and charged what it
     * reserved (estimated): its input as the guard estimates it (the context the last report showed
     * and the instructions, a token per byte) and its whole output limit; the session still ends.
     */
    @Test
    void aGoodbyeWhoseUsageNeverComesIsChargedItsReservation() throws Exception {
        double cancelled = goodbyes("cancelled");
        UPSTREAM.neverFinishesInstructed = true;
        WsClient c = open();
        FakeUpstream.Connection up = lastUpstream();
        c.send("{\"type\":\"response.create\",\"test_want_output\":300}");
        c.until("usage_update");
        CLOCK.advance(Duration.ofMinutes(30));
        List<JsonNode> events = untilClosed(c, false);

        assertThat(events.get(events.size() - 1).asInt()).isEqualTo(1008);
        assertThat(indexOf(events, "session_timeout", 0)).isNotNegative();
        assertThat(goodbyeCreate(up).at("/response/max_output_tokens").asLong()).isEqualTo(RESERVE);
        assertThat(up.received).as("the goodbye was cancelled").anyMatch(m -> m.contains("response.cancel"));
        assertThat(up.billed).hasSize(1);
        JsonNode first = up.billed.get(0);
        long context = first.get("input_tokens").asLong() + first.get("output_tokens").asLong();
        BigDecimal estimate = BigDecimal.valueOf((context + INSTRUCTIONS.length()) * 100 + RESERVE * 200).movePointLeft(6);
        JsonNode session = ended(c);
        assertThat(session.get("end_reason").asText()).isEqualTo("session_timeout");
        Poll.until("the goodbye is charged its reservation", Duration.ofSeconds(10), Duration.ofMillis(20), () -> "billed " + up.billed,
                () -> ended(c).get("cost_usd").decimalValue().compareTo(billedUsd(up.billed).add(estimate)) == 0);
        assertThat(goodbyes("cancelled")).isEqualTo(cancelled + 1);
    }
}
