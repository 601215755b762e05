package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.DuckeApplication;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pause instead of cut for WebRTC calls ({@code COST_PROTECTION_ON_CAP=pause}) end to end: a real
 * HTTP client posts offers to the application, whose provider is the stand-in ({@link FakeUpstream}:
 * the calls endpoint, hang-ups, the sideband, and the caller's data channel). A call pauses by
 * reaction through the sideband: server VAD's {@code create_response} turned off, every response
 * the caller starts while paused cancelled by id and charged; a raised cap resumes it, the pause
 * timeout hangs it up.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class CallPauseAppTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T15:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.clientAuth", "required",
            "relay.callAttachTimeout", "3s",
            "relay.finalUsageWait", "1s",
            "costProtection.onCap", "pause",
            "costProtection.pauseTimeout", "60s",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String BOUNDARY = "----browserBoundaryPause0gW";
    /** The caller's session: server VAD that starts responses by itself, as a browser's call has by default. */
    private static final String CALLER_SESSION = "{\"type\":\"realtime\",\"model\":\"gpt-realtime\",\"audio\":{\"input\":"
            + "{\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5,\"create_response\":true,\"interrupt_response\":true}}}}";

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    private static RelayRegistry relayed() {
        return ((DuckeApplication) APP.getApplication()).relayed();
    }

    private record Placed(String sessionId, FakeUpstream.Call call) {
    }

    /** A call of {@code clientId} capped at {@code maxCost}, its sideband attached with the clamp. */
    private static Placed call(String clientId, String maxCost) throws Exception {
        HttpResponse<String> minted = http().post("/v1/realtime/client_secrets",
                "{\"client_id\":\"" + clientId + "\",\"max_cost_usd\":\"" + maxCost + "\"}", "Authorization", SERVICE);
        assertThat(minted.statusCode()).as(minted.body()).isEqualTo(201);
        String secret = Http.json(minted).get("value").asText();
        String body = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n" + CallsAppTest.SDP + "\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"session\"\r\n\r\n" + CALLER_SESSION + "\r\n"
                + "--" + BOUNDARY + "--\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + "/v1/realtime/calls"))
                .timeout(Duration.ofSeconds(20)).header("X-Forwarded-For", "192.0.2." + CLIENTS.incrementAndGet())
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY).header("Authorization", "Bearer " + secret)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        HttpResponse<String> r;
        try {
            r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        String sessionId = r.headers().firstValue("Location").orElseThrow().substring("/v1/realtime/calls/".length());
        String callId = r.body().lines().filter(l -> l.startsWith("a=x-test-call:")).findFirst().orElseThrow()
                .substring("a=x-test-call:".length());
        FakeUpstream.Call call = UPSTREAM.call(callId);
        Poll.until("the sideband of " + callId + " attached with the clamp", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> call.attached() && call.events.received.stream().anyMatch(m -> m.contains("event_gw_clamp")));
        return new Placed(sessionId, call);
    }

    /**
     * A call at a 0.50 cap, paused: the caller's first response (greedy: the whole clamp of 1,420
     * output tokens on 1,000 input, 0.384) leaves 0.116, less than the next response's input reserve.
     */
    private static Placed pausedCall(String clientId) throws Exception {
        double paused = metric("sessions_paused_total", "reason=\"budget_exceeded\"");
        Placed p = call(clientId, "0.50");
        p.call().callerSends("{\"type\":\"response.create\"}");
        Poll.until("the call paused", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> Boolean.TRUE.equals(relayed().pausedHere(p.sessionId())));
        assertThat(billed(p.call())).isEqualByComparingTo("0.384");
        awaitCost(p.sessionId(), new BigDecimal("0.384"));
        assertThat(metric("sessions_paused_total", "reason=\"budget_exceeded\"")).isEqualTo(paused + 1);
        return p;
    }

    private static JsonNode session(String id) {
        return Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    private static JsonNode awaitEnded(String id) throws Exception {
        Poll.until("session " + id + " ended", Duration.ofSeconds(20), Duration.ofMillis(50), () -> session(id).get("status").asText(),
                () -> "ended".equals(session(id).get("status").asText()));
        return session(id);
    }

    /** What the stand-in billed, priced with this test's own arithmetic: 100 USD per 1M input tokens, 200 per 1M output. */
    private static BigDecimal billed(FakeUpstream.Call call) {
        BigDecimal usd = BigDecimal.ZERO;
        for (JsonNode u : call.events.billed) {
            long micros = u.path("input_tokens").asLong() * 100 + u.path("output_tokens").asLong() * 200;
            usd = usd.add(BigDecimal.valueOf(micros).movePointLeft(6));
        }
        return usd;
    }

    private static BigDecimal cost(String id) {
        return session(id).get("cost_usd").decimalValue();
    }

    private static void awaitCost(String id, BigDecimal expected) throws Exception {
        Poll.until("session " + id + " charged " + expected, Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> "cost " + cost(id), () -> cost(id).compareTo(expected) == 0);
    }

    private static List<JsonNode> sent(FakeUpstream.Call call, String type) {
        return call.events.received.stream().map(CallPauseAppTest::tree).filter(e -> type.equals(e.path("type").asText())).toList();
    }

    private static JsonNode sentWithId(FakeUpstream.Call call, String eventId) throws Exception {
        AtomicReference<JsonNode> found = new AtomicReference<>();
        Poll.until("the guard sent " + eventId, Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
            call.events.received.stream().map(CallPauseAppTest::tree).filter(e -> eventId.equals(e.path("event_id").asText()))
                    .reduce((a, b) -> b).ifPresent(found::set);
            return found.get() != null;
        });
        return found.get();
    }

    private static boolean cancelled(FakeUpstream.Call call, String responseId) {
        return sent(call, "response.cancel").stream().anyMatch(e -> e.path("response_id").asText().equals(responseId));
    }

    private static JsonNode tree(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double metric(String name, String labels) {
        return PromText.value(http().get("/metrics").body(), name, labels);
    }

    private static void awaitMetric(String name, String labels, double expected) throws Exception {
        Poll.until(name + "{" + labels + "} = " + expected, Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> "was " + metric(name, labels), () -> metric(name, labels) == expected);
    }

    /**
     * An out-of-band response the caller starts on its data channel, held in progress until a
     * cancel (the stand-in then bills its input and half its output): a few input tokens of its own
     * and up to {@code maxOutput} output.
     */
    private static String callersHeldResponse(int maxOutput) {
        return "{\"type\":\"response.create\",\"response\":{\"conversation\":\"none\",\"max_output_tokens\":" + maxOutput + ","
                + "\"input\":[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"go on\"}]}]},"
                + "\"test_hold\":true,\"test_want_output\":" + maxOutput + "}";
    }

    // ---- (1) paused, not hung up; what the caller starts meanwhile is cancelled and charged ----

    @Test
    void aCallAtItsCapIsPausedAndAResponseTheCallerStartsMeanwhileIsCancelledAndCharged() throws Exception {
        Placed p = pausedCall("call-pause-1");
        // server VAD stops starting responses: the guard's own session.update through the sideband
        JsonNode td = sentWithId(p.call(), "event_gw_pause").at("/session/audio/input/turn_detection");
        assertThat(td.get("create_response").asBoolean(true)).isFalse();
        assertThat(td.get("type").asText()).as("the rest of turn detection as it was").isEqualTo("server_vad");
        assertThat(td.get("interrupt_response").asBoolean(false)).isTrue();
        assertThat(session(p.sessionId()).get("status").asText()).isEqualTo("active");
        assertThat(p.call().hungUp()).as("paused, not hung up").isFalse();

        double cancels = metric("relay_call_reactions_total", "action=\"cancel_paused\"");
        p.call().callerSends(callersHeldResponse(400));
        Poll.until("the guard cancels resp_2 by id", Duration.ofSeconds(10), Duration.ofMillis(20), () -> cancelled(p.call(), "resp_2"));
        Poll.until("resp_2 billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 2);
        BigDecimal billed = billed(p.call());
        // the cancelled response: its own few input tokens and half of its 400 output
        assertThat(billed.subtract(new BigDecimal("0.384"))).isBetween(new BigDecimal("0.04"), new BigDecimal("0.05"));
        awaitCost(p.sessionId(), billed);
        awaitMetric("relay_call_reactions_total", "action=\"cancel_paused\"", cancels + 1);
        assertThat(relayed().pausedHere(p.sessionId())).as("still paused").isTrue();
        assertThat(session(p.sessionId()).get("status").asText()).isEqualTo("active");
        assertThat(p.call().hungUp()).isFalse();

        // the caller turns response creation back on on its data channel: turned off again
        p.call().callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"input\":"
                + "{\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5,\"create_response\":true}}}}}");
        Poll.until("turned off again", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> sent(p.call(), "session.update").stream().filter(e -> e.path("event_id").asText().equals("event_gw_pause")).count() == 2);
        Poll.until("the provider's session without response creation", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> !p.call().session().at("/audio/input/turn_detection/create_response").asBoolean(true));

        p.call().callerHangsUp();
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed(p.call()));
    }

    // ---- (2) a raised cap resumes the call ----

    @Test
    void aRaisedCapResumesThePausedCallAndTheCallersNextResponseRunsToItsEnd() throws Exception {
        Placed p = pausedCall("call-pause-2");
        sentWithId(p.call(), "event_gw_pause");
        double resumed = metric("sessions_resumed_total", "");
        HttpResponse<String> raised = http().patch("/v1/sessions/" + p.sessionId(), "{\"max_cost_usd\":\"2.00\"}",
                "Authorization", SERVICE);
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        assertThat(Http.json(raised).get("paused").asBoolean(true)).as("resumed by the time the answer was written").isFalse();
        assertThat(Http.json(raised).get("max_cost_usd").decimalValue()).isEqualByComparingTo("2.00");
        assertThat(relayed().pausedHere(p.sessionId())).isFalse();
        assertThat(metric("sessions_resumed_total", "")).isEqualTo(resumed + 1);
        // server VAD starts responses again, as before the pause
        JsonNode td = sentWithId(p.call(), "event_gw_resume").at("/session/audio/input/turn_detection");
        assertThat(td.get("create_response").asBoolean(false)).isTrue();
        assertThat(td.get("type").asText()).isEqualTo("server_vad");
        Poll.until("the provider's session starts responses again", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().session().at("/audio/input/turn_detection/create_response").asBoolean(false));

        // the caller's next response runs to its end: 2,420 input (the context), 100 output
        p.call().callerSends("{\"type\":\"response.create\",\"test_want_output\":100}");
        Poll.until("resp_2 billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 2);
        assertThat(p.call().events.billed.get(1).get("output_tokens").asLong()).isEqualTo(100);
        assertThat(sent(p.call(), "response.cancel")).as("nothing cancelled after the resume").isEmpty();
        // 0.10 + 0.284, then 0.242 + 0.02
        BigDecimal billed = billed(p.call());
        assertThat(billed).isEqualByComparingTo("0.646");
        awaitCost(p.sessionId(), billed);
        assertThat(session(p.sessionId()).get("status").asText()).isEqualTo("active");

        p.call().callerHangsUp();
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), billed)).isEqualByComparingTo(billed);
    }

    // ---- (3) a pause that times out hangs the call up as the cap would have ----

    @Test
    void aPausedCallThatTimesOutIsHungUpWithBudgetExceededAndItsPauseInTheAuditRow() throws Exception {
        Placed p = pausedCall("call-pause-3");
        assertThat(p.call().hungUp()).isFalse();
        CLOCK.advance(Duration.ofSeconds(61));
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("budget_exceeded");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        assertThat(p.call().ended()).isTrue();
        BigDecimal billed = billed(p.call());
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed).isEqualByComparingTo("0.384");

        AtomicReference<JsonNode> row = new AtomicReference<>();
        Poll.until("the audit row with its pause", Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
            for (JsonNode r : Http.json(http().get("/v1/audit/sessions", "Authorization", OPERATOR)).get("sessions")) {
                if (r.get("session_id").asText().equals(p.sessionId()) && r.path("pauses").asInt() == 1) {
                    row.set(r);
                }
            }
            return row.get() != null;
        });
        assertThat(row.get().get("end_reason").asText()).isEqualTo("budget_exceeded");
        assertThat(row.get().get("paused_seconds").decimalValue()).isEqualByComparingTo("61.000");
    }

    // ---- (4) a caller that keeps starting responses while paused is hung up ----

    @Test
    void aCallerThatKeepsStartingResponsesWhilePausedIsHungUpWithThePausesReason() throws Exception {
        Placed p = pausedCall("call-pause-4");
        int limit = RelaySession.MAX_CALLER_CANCELS;
        for (int i = 0; i <= limit; i++) {
            p.call().callerSends(callersHeldResponse(20));
        }
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("budget_exceeded");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        for (int i = 2; i <= limit + 2; i++) {
            assertThat(cancelled(p.call(), "resp_" + i)).as("resp_" + i + " cancelled by id").isTrue();
        }
        Poll.until("every response billed", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().events.billed.size() == limit + 2);
        BigDecimal billed = billed(p.call());
        awaitCost(p.sessionId(), billed);
        assertThat(billed).isLessThan(new BigDecimal("0.50"));
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), billed)).isEqualByComparingTo(billed);
    }

    // ---- (5) at its own cap, a response with the whole context reaches the cap: the call ends ----

    @Test
    void aResponseTheCallerStartsWhilePausedThatReachesTheCapEndsTheCall() throws Exception {
        Placed p = pausedCall("call-pause-5");
        // in the conversation: its input is the whole context (2,420 tokens, 0.242), more than the 0.116 left
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":400}");
        Poll.until("the guard cancels resp_2 by id", Duration.ofSeconds(10), Duration.ofMillis(20), () -> cancelled(p.call(), "resp_2"));
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("budget_exceeded");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        // 0.384, then 0.242 of input and half of the 400 output wanted (the clamp allows less): billed past the cap, all charged
        BigDecimal billed = billed(p.call());
        assertThat(billed).isGreaterThan(new BigDecimal("0.50"));
        awaitCost(p.sessionId(), billed);
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), billed)).isEqualByComparingTo(billed);
    }
}
