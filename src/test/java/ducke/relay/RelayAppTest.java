package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.Poll;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The realtime relay end to end: a real WebSocket client, the application, and a local upstream. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RelayAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T18:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "upstream.allowedModels", "gpt-realtime,gpt-realtime-mini",
            "relay.allowedOrigins", "https://duck-e.example",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            // the API calls of these tests all come from one address; its route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static String newClient() {
        return "203.0.113." + CLIENTS.incrementAndGet();
    }

    private static WsClient open(String client) throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        return c;
    }

    private static final java.util.concurrent.atomic.AtomicLong SCRIPTED = new java.util.concurrent.atomic.AtomicLong();

    /** A {@code response.done} in the real shape, with realtime token details. */
    static String responseDone(long textIn, long audioIn, long textOut, long audioOut) {
        return """
                {"type":"response.done","event_id":"event_9","response":{"object":"realtime.response","id":"resp_1",
                 "status":"completed","output":[],"usage":{"total_tokens":%d,"input_tokens":%d,"output_tokens":%d,
                 "input_token_details":{"text_tokens":%d,"audio_tokens":%d,"cached_tokens":0},
                 "output_token_details":{"text_tokens":%d,"audio_tokens":%d}}}}"""
                .formatted(textIn + audioIn + textOut + audioOut, textIn + audioIn, textOut + audioOut, textIn, audioIn, textOut, audioOut)
                // every response has its own id, as the provider's do (a charge is keyed by it)
                .replace("\"resp_1\"", "\"resp_s" + SCRIPTED.incrementAndGet() + "\"");
    }

    static String script(String... events) {
        return "{\"type\":\"response.create\",\"test_script\":[" + String.join(",", events) + "]}";
    }

    @Test
    void clientEventsAndUpstreamEventsPassUnchanged() throws Exception {
        WsClient c = open(newClient());
        JsonNode created = c.nextEvent();
        assertThat(created.get("type").asText()).isEqualTo("session.created");
        String item = "{\"type\":\"conversation.item.create\",\"event_id\":\"evt_1\",\"item\":{\"type\":\"message\",\"role\":\"user\","
                + "\"content\":[{\"type\":\"input_text\",\"text\":\"héllo \\u00e9 " + "x".repeat(5000) + "\"}]}}";
        c.send(item);
        String back = c.next().text();
        assertThat(back).startsWith("{\"type\":\"conversation.item.created\"").contains("x".repeat(5000));
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        assertThat(up.authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        assertThat(up.model).isEqualTo("gpt-realtime");
        assertThat(up.received).contains(item);
        String audio = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "QUJD".repeat(2000) + "\"}";
        c.send(audio);
        c.send("{\"type\":\"input_audio_buffer.commit\"}");
        awaitReceived(up, "{\"type\":\"input_audio_buffer.commit\"}");
        assertThat(up.received).contains(audio);
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    static void awaitReceived(FakeUpstream.Connection up, String frame) {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!up.received.contains(frame)) {
            assertThat(System.currentTimeMillis()).as("upstream received %s", frame).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aResponseDoneWithAKeyWrittenTwiceIsStillCharged() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        String create = script(responseDone(5_000, 5_000, 2_500, 2_500));
        c.send(create.substring(0, create.length() - 1) + ",\"test_keys_twice\":true}");
        JsonNode update = c.until("usage_update");
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        c.ws.sendClose(1000, "bye").join();
    }

    @Test
    void usageIsChargedExactlyWithUpdatesWarningAndExceededInOrder() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        // gpt-realtime at 100/200 per 1M: 5k text + 5k audio in, 2.5k + 2.5k out = 1.00 + 1.00 = 2.00
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.done");
        JsonNode update = c.nextEvent();
        assertThat(update.get("type").asText()).isEqualTo("usage_update");
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        assertThat(update.get("remaining_budget_usd").decimalValue()).isEqualByComparingTo("3.00");

        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.done");
        assertThat(c.nextEvent().get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("budget_warning");
        // the next response's input alone (a context of 15k tokens, 1.50) is more than the 1.00 left
        JsonNode exceeded = c.nextEvent();
        assertThat(exceeded.get("type").asText()).isEqualTo("budget_exceeded");
        assertThat(exceeded.get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        JsonNode error = c.nextEvent();
        assertThat(error.get("type").asText()).as("the realtime error event the SDKs listen for").isEqualTo("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("budget_exceeded");
        assertThat(c.next().closeCode()).isEqualTo(1008);
        JsonNode session = Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + c.started.get("session_id").asText(),
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        assertThat(session.get("end_reason").asText()).isEqualTo("budget_exceeded");
    }

    @Test
    void transcriptionUsageIsCharged() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        c.send(script("""
                {"type":"conversation.item.input_audio_transcription.completed","event_id":"e2","item_id":"item_1",
                 "content_index":0,"transcript":"hello","usage":{"type":"tokens","total_tokens":1500,"input_tokens":1000,
                 "input_token_details":{"text_tokens":0,"audio_tokens":1000},"output_tokens":500}}"""));
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("conversation.item.input_audio_transcription.completed");
        JsonNode update = c.nextEvent();
        assertThat(update.get("type").asText()).isEqualTo("usage_update");
        // 1000 audio in at 100 + 500 out at 200 per 1M
        assertThat(update.get("call_cost").decimalValue()).isEqualByComparingTo("0.20");
        c.ws.abort();
    }

    @Test
    void durationBilledTranscriptionIsChargedPerMinute() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        c.send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"input\":{\"transcription\":{\"model\":\"gpt-4o-mini-transcribe\"}}}}}");
        c.send(script("""
                {"type":"conversation.item.input_audio_transcription.completed","event_id":"e3","item_id":"item_2",
                 "content_index":0,"transcript":"hello","usage":{"type":"duration","seconds":30}}"""));
        c.until("conversation.item.input_audio_transcription.completed");
        JsonNode update = c.nextEvent();
        assertThat(update.get("type").asText()).isEqualTo("usage_update");
        // priced by the session's transcription model: 0.003 a minute for 30 s
        assertThat(update.get("call_cost").decimalValue()).isEqualByComparingTo("0.0015");
        c.ws.abort();
    }

    /** A session whose input audio is transcribed (gpt-4o-mini-transcribe), and its upstream connection. */
    private record Transcribing(WsClient c, String id, FakeUpstream.Connection up) {
    }

    private static Transcribing transcribing() throws Exception {
        WsClient c = open(newClient());
        String id = c.started.get("session_id").asText();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        c.send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"input\":{\"transcription\":"
                + "{\"model\":\"gpt-4o-mini-transcribe\"}}}}}");
        return new Transcribing(c, id, up);
    }

    /** Commits audio whose transcription the stand-in holds, closes the client, and returns the ended session. */
    private static JsonNode commitAndLeave(Transcribing t) throws Exception {
        t.c().send("{\"type\":\"input_audio_buffer.commit\",\"test_transcribe\":{\"seconds\":30,\"hold\":true}}");
        t.c().until("input_audio_buffer.committed");
        t.c().ws.sendClose(1000, "bye").join();
        assertThat(t.c().awaitClose()).isEqualTo(1000);
        Http http = Http.local(APP.getLocalPort());
        AtomicReference<JsonNode> ended = new AtomicReference<>();
        Poll.until("the session ended", Duration.ofSeconds(30), Duration.ofMillis(20), () -> "session " + ended.get(), () -> {
            ended.set(Http.json(http.get("/v1/sessions/" + t.id(), "Authorization", "Bearer " + TestApps.SERVICE_TOKEN)));
            return ended.get().get("status").asText().equals("ended");
        });
        return ended.get();
    }

    /**
     * The client commits audio that the session transcribes and leaves before the transcription is
     * done: the provider bills it anyway, so the end waits for its completion (as for a response in
     * flight) and charges it; the gateway's cancel, which found no response, is not the client's.
     */
    @Test
    void aTranscriptionStillRunningWhenTheClientLeavesIsAwaitedAndCharged() throws Exception {
        Transcribing t = transcribing();
        JsonNode session = commitAndLeave(t);
        assertThat(session.get("end_reason").asText()).isEqualTo("client_closed");
        // billed by the provider: 30 s at 0.003 a minute
        assertThat(t.up().billed).hasSize(1);
        assertThat(session.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0015");
        assertThat(t.c().received).noneMatch(m -> m.text() != null && m.text().contains("response_cancel_not_active"));
    }

    /** With transcription turned off again, committed audio is not transcribed: nothing to wait for at the end. */
    @Test
    void aSessionThatStoppedTranscribingDoesNotWaitForTranscriptions() throws Exception {
        Transcribing t = transcribing();
        t.c().send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"input\":{\"transcription\":null}}}}");
        // the stand-in is told to commit and hold a transcription, which a provider with transcription off would not start
        commitAndLeave(t);
        assertThat(t.up().received).as("no cancel: nothing was in flight").noneMatch(m -> m.contains("response.cancel"));
    }

    @Test
    void durationCapClosesTheSessionWithoutAnyUsage() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        CLOCK.advance(Duration.ofMinutes(30));
        JsonNode timeout = c.until("session_timeout");
        assertThat(timeout.get("max_duration_seconds").asLong()).isEqualTo(1800);
        assertThat(c.awaitClose()).isEqualTo(1008);
    }

    @Test
    void adminEndSessionClosesTheRelayedSession() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        String id = c.started.get("session_id").asText();
        HttpResponse<String> ended = Http.local(APP.getAdminPort()).post("/tasks/end-session?id=" + id, null);
        assertThat(ended.statusCode()).isEqualTo(200);
        JsonNode event = c.until("session_ended");
        assertThat(event.get("reason").asText()).isEqualTo("admin_ended");
        assertThat(c.awaitClose()).isEqualTo(1008);
    }

    @Test
    void theOperatorApiListsARelayedSessionAsRelayAndEndsIt() throws Exception {
        String client = newClient();
        WsClient c = open(client);
        c.until("session.created");
        String id = c.started.get("session_id").asText();
        Http http = Http.local(APP.getLocalPort());
        String operator = "Bearer " + TestApps.OPERATOR_TOKEN;
        JsonNode listed = null;
        for (JsonNode s : Http.json(http.get("/v1/operator/sessions", "Authorization", operator))) {
            listed = id.equals(s.get("session_id").asText()) ? s : listed;
        }
        assertThat(listed).as("session %s listed", id).isNotNull();
        assertThat(listed.get("kind").asText()).isEqualTo("relay");
        assertThat(listed.get("client_id").asText()).isEqualTo(client);
        HttpResponse<String> ended = http.post("/v1/operator/sessions/" + id + "/end", null, "Authorization", operator);
        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
        assertThat(Http.json(ended).get("end_reason").asText()).isEqualTo("admin_ended");
        assertThat(c.until("session_ended").get("reason").asText()).isEqualTo("admin_ended");
        assertThat(c.awaitClose()).isEqualTo(1008);
        assertThat(http.get("/v1/operator/sessions", "Authorization", operator).body()).doesNotContain(id);
    }

    @Test
    void unreachableUpstreamGivesAnErrorEventAndClose1011() throws Exception {
        String client = newClient();
        var refusedUpstream = UPSTREAM.connections().size();
        WsClient c = WsClient.connect(APP.getLocalPort(), "?model=gpt-realtime-mini", "X-Forwarded-For", client);
        JsonNode started = c.nextEvent();
        assertThat(started.get("model").asText()).isEqualTo("gpt-realtime-mini");
        c.until("session.created");
        UPSTREAM.connections().get(refusedUpstream).drop();
        JsonNode error = c.until("error");
        assertThat(error.get("error").get("type").asText()).isEqualTo("upstream_unavailable");
        assertThat(c.awaitClose()).isEqualTo(1011);
        String id = started.get("session_id").asText();
        JsonNode session = Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + id,
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        assertThat(session.get("end_reason").asText()).isEqualTo("upstream_error");
    }

    @Test
    void handshakeGatesAnswerPlainHttpWithoutUpgrading() {
        int port = APP.getLocalPort();
        HttpResponse<String> plain = Http.local(port).get("/session", "X-Forwarded-For", newClient());
        assertThat(plain.statusCode()).isEqualTo(426);
        assertThat(Http.json(plain).get("error").asText()).isEqualTo("invalid_request");

        HttpResponse<String> origin = WsClient.refused(port, "", "X-Forwarded-For", newClient(), "Origin", "https://evil.example");
        assertThat(origin.statusCode()).isEqualTo(403);
        assertThat(origin.body()).contains("\"error\":\"forbidden\"");

        HttpResponse<String> model = WsClient.refused(port, "?model=gpt-5", "X-Forwarded-For", newClient());
        assertThat(model.statusCode()).isEqualTo(400);

        String client = newClient();
        for (int i = 0; i < 5; i++) {
            WsClient.refused(port, "?model=nope", "X-Forwarded-For", client);
        }
        HttpResponse<String> limited = WsClient.refused(port, "", "X-Forwarded-For", client);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).isPresent();
        assertThat(limited.body()).contains("\"endpoint\":\"websocket\"");
    }

    @Test
    void allowedOriginAndFourthConcurrentSession() throws Exception {
        String client = newClient();
        WsClient a = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client, "Origin", "https://duck-e.example");
        WsClient b = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        WsClient d = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        HttpResponse<String> fourth = WsClient.refused(APP.getLocalPort(), "", "X-Forwarded-For", client);
        assertThat(fourth.statusCode()).isEqualTo(429);
        assertThat(fourth.body()).contains("concurrent_session_limit");
        for (WsClient c : new WsClient[]{a, b, d}) {
            c.ws.sendClose(1000, "").join();
            c.awaitClose();
        }
    }

    static String functionCallEvents(String itemId, String callId, String name) {
        String item = "{\"id\":\"%s\",\"object\":\"realtime.item\",\"type\":\"function_call\",\"status\":\"completed\",\"name\":\"%s\",\"call_id\":\"%s\",\"arguments\":\"{\\\"query\\\":\\\"duck\\\"}\"}"
                .formatted(itemId, name, callId);
        return String.join(",",
                "{\"type\":\"response.output_item.added\",\"event_id\":\"e1\",\"response_id\":\"resp_2\",\"output_index\":0,\"item\":" + item + "}",
                "{\"type\":\"response.function_call_arguments.delta\",\"event_id\":\"e2\",\"response_id\":\"resp_2\",\"item_id\":\"" + itemId
                        + "\",\"output_index\":0,\"call_id\":\"" + callId + "\",\"delta\":\"{\\\"query\"}",
                "{\"type\":\"response.function_call_arguments.done\",\"event_id\":\"e3\",\"response_id\":\"resp_2\",\"item_id\":\"" + itemId
                        + "\",\"output_index\":0,\"call_id\":\"" + callId + "\",\"name\":\"" + name + "\",\"arguments\":\"{}\"}",
                "{\"type\":\"response.output_item.done\",\"event_id\":\"e4\",\"response_id\":\"resp_2\",\"output_index\":0,\"item\":" + item + "}",
                "{\"type\":\"response.done\",\"event_id\":\"e5\",\"response\":{\"id\":\"resp_2\",\"status\":\"completed\",\"output\":[" + item
                        + "],\"usage\":{\"input_tokens\":100,\"output_tokens\":10,\"input_token_details\":{\"text_tokens\":100,\"audio_tokens\":0},\"output_token_details\":{\"text_tokens\":10,\"audio_tokens\":0}}}}");
    }

    @Test
    void aSpentWebSearchQuotaIsAnsweredUpstreamAndHiddenFromTheClient() throws Exception {
        String client = newClient();
        Http http = Http.local(APP.getLocalPort());
        for (int i = 0; i < 5; i++) {
            assertThat(http.post("/v1/tools/web_search/calls", "{\"client_id\":\"" + client + "\"}",
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN).statusCode()).isEqualTo(200);
        }
        WsClient c = open(client);
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        c.send(script(functionCallEvents("item_fc1", "call_blocked_1", "web_search")));
        JsonNode done = c.nextEvent();
        assertThat(done.get("type").asText()).isEqualTo("response.done");
        assertThat(done.get("response").get("output")).isEmpty();
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("usage_update");
        c.send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\",\"marker\":1}}");
        JsonNode created = c.until("conversation.item.created");
        while (!created.get("item").has("marker")) {
            created = c.until("conversation.item.created");
        }
        assertThat(created.get("item").get("marker").asInt()).isEqualTo(1);

        long deadline = System.currentTimeMillis() + 10_000;
        while (up.received.stream().noneMatch(m -> m.contains("\"response.create\"") && !m.contains("test_script"))) {
            assertThat(System.currentTimeMillis()).as("the gateway answered upstream").isLessThan(deadline);
        }
        String answer = up.received.stream().filter(m -> m.contains("function_call_output")).findFirst().orElseThrow();
        JsonNode item = new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer).get("item");
        assertThat(item.get("call_id").asText()).isEqualTo("call_blocked_1");
        assertThat(item.get("output").asText()).contains("rate_limited").contains("retry_after_seconds");
        String metrics = http.get("/metrics").body();
        assertThat(PromText.value(metrics, "relay_tool_calls_blocked_total", "tool=\"web_search\"")).isGreaterThanOrEqualTo(1);
        c.ws.abort();
    }

    @Test
    void aToolCallWithinQuotaReachesTheClient() throws Exception {
        WsClient c = open(newClient());
        c.until("session.created");
        c.send(script(functionCallEvents("item_fc2", "call_ok_2", "get_current_weather")));
        JsonNode added = c.nextEvent();
        assertThat(added.get("type").asText()).isEqualTo("response.output_item.added");
        assertThat(added.get("item").get("call_id").asText()).isEqualTo("call_ok_2");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.function_call_arguments.delta");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.function_call_arguments.done");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.output_item.done");
        assertThat(c.nextEvent().get("response").get("output")).hasSize(1);
        c.ws.abort();
    }

    @Test
    void aStalledClientIsClosedInsteadOfBufferedWithoutBound() throws Exception {
        WsClient stalled = new WsClient();
        stalled.stalls = true;
        WsClient.connect(stalled, APP.getLocalPort(), "", "X-Forwarded-For", newClient());
        String id = stalled.nextEvent().get("session_id").asText();
        // 32 MiB of audio toward a client that reads nothing: far beyond socket buffers and the 4 MiB bound
        stalled.send("{\"type\":\"response.create\",\"test_flood\":{\"count\":512,\"size\":65536}}");
        Http http = Http.local(APP.getLocalPort());
        long deadline = System.currentTimeMillis() + 30_000;
        JsonNode session = Http.json(http.get("/v1/sessions/" + id, "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        while (!"ended".equals(session.get("status").asText())) {
            assertThat(System.currentTimeMillis()).as("stalled session closed in time").isLessThan(deadline);
            session = Http.json(http.get("/v1/sessions/" + id, "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        }
        assertThat(session.get("end_reason").asText()).isEqualTo("client_closed");
        stalled.ws.abort();
    }

    @Test
    void metricsCountHandshakesAndFrames() {
        String m = Http.local(APP.getLocalPort()).get("/metrics").body();
        assertThat(m).contains("relay_handshakes_total{outcome=\"accepted\"}");
        assertThat(PromText.value(m, "relay_frames_total", "direction=\"upstream_to_client\"")).isPositive();
        assertThat(m).contains("relay_sessions_live");
    }
}
