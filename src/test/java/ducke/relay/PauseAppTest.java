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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static ducke.relay.RelayAppTest.responseDone;
import static ducke.relay.RelayAppTest.script;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pause instead of cut ({@code COST_PROTECTION_ON_CAP=pause}) end to end: a real WebSocket client,
 * the application, the stand-in upstream, and {@code PATCH /v1/sessions/{id}}.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class PauseAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-28T09:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "upstream.allowedModels", "gpt-realtime",
            "costProtection.onCap", "pause",
            "costProtection.pauseTimeout", "60s",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    /**
     * A session whose 5.00 cap is paused: two responses of 2.00 (gpt-realtime at 100/200 per 1M: 5k
     * text + 5k audio in, 2.5k + 2.5k out) leave less than the next one's input.
     */
    private record Paused(WsClient c, String id, FakeUpstream.Connection up, JsonNode event) {
    }

    private static Paused pausedSession(String... firstScriptExtra) throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100." + CLIENTS.incrementAndGet());
        c.started = c.nextEvent();
        String id = c.started.get("session_id").asText();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        String[] first = new String[firstScriptExtra.length + 1];
        System.arraycopy(firstScriptExtra, 0, first, 0, firstScriptExtra.length);
        first[firstScriptExtra.length] = responseDone(5_000, 5_000, 2_500, 2_500);
        c.send(script(first));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("budget_warning");
        JsonNode paused = c.nextEvent();
        assertThat(paused.get("type").asText()).as("paused, not ended: %s", paused).isEqualTo("session_paused");
        return new Paused(c, id, up, paused);
    }

    private static HttpResponse<String> patch(String id, String body) {
        return http().patch("/v1/sessions/" + id, body, "Authorization", SERVICE);
    }

    private static double metric(String name, String labels) {
        return PromText.value(http().get("/metrics").body(), name, labels);
    }

    @Test
    void aSessionAtItsCapIsPausedAndARaisedCapResumesItOnTheSameUpstream() throws Exception {
        double resumedBefore = metric("sessions_resumed_total", "");
        int connections = UPSTREAM.connections().size();
        Paused p = pausedSession();
        assertThat(p.event().get("reason").asText()).isEqualTo("budget_exceeded");
        assertThat(p.event().get("session_id").asText()).isEqualTo(p.id());
        assertThat(p.event().get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        assertThat(p.event().get("max_cost_usd").decimalValue()).isEqualByComparingTo("5.00");
        assertThat(p.event().get("resume_timeout_seconds").asLong()).isEqualTo(60);
        assertThat(metric("sessions_paused_total", "reason=\"budget_exceeded\"")).isGreaterThanOrEqualTo(1.0);

        JsonNode whilePaused = Http.json(http().get("/v1/sessions/" + p.id(), "Authorization", SERVICE));
        assertThat(whilePaused.get("paused").asBoolean(false)).as(whilePaused.toString()).isTrue();
        assertThat(whilePaused.get("status").asText()).isEqualTo("active");
        HttpResponse<String> raised = patch(p.id(), "{\"max_cost_usd\":\"10.00\"}");
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        JsonNode view = Http.json(raised);
        assertThat(view.get("session_id").asText()).isEqualTo(p.id());
        assertThat(view.get("status").asText()).isEqualTo("active");
        assertThat(view.get("max_cost_usd").decimalValue()).isEqualByComparingTo("10.00");
        assertThat(view.get("cost_usd").decimalValue()).isEqualByComparingTo("4.00");
        assertThat(view.get("paused").asBoolean()).as("resumed by the time the answer was written").isFalse();

        JsonNode resumed = p.c().until("session_resumed");
        assertThat(resumed.get("session_id").asText()).isEqualTo(p.id());
        assertThat(Http.json(http().get("/v1/sessions/" + p.id(), "Authorization", SERVICE)).get("paused").asBoolean(true))
                .isFalse();
        assertThat(resumed.get("max_cost_usd").decimalValue()).isEqualByComparingTo("10.00");
        assertThat(metric("sessions_resumed_total", "")).isEqualTo(resumedBefore + 1);

        String next = script(responseDone(5_000, 5_000, 2_500, 2_500));
        p.c().send(next);
        assertThat(p.c().until("response.done").get("type").asText()).isEqualTo("response.done");
        JsonNode charged = p.c().nextEvent();
        assertThat(charged.get("type").asText()).isEqualTo("usage_update");
        assertThat(charged.get("session_cost").decimalValue()).isEqualByComparingTo("6.00");
        assertThat(charged.get("remaining_budget_usd").decimalValue()).isEqualByComparingTo("4.00");
        assertThat(UPSTREAM.connections()).as("no reconnect").hasSize(connections + 1);
        assertThat(p.up().received.stream().filter(m -> m.contains("test_script")))
                .as("the third response went up on the session's one connection").hasSize(3);
        assertThat(Http.json(http().get("/v1/sessions/" + p.id(), "Authorization", SERVICE)).get("max_cost_usd").decimalValue())
                .isEqualByComparingTo("10.00");
        p.c().ws.sendClose(1000, "bye").join();
        assertThat(p.c().awaitClose()).isEqualTo(1000);
    }

    @Test
    void eventsThatWouldStartAResponseAreRefusedWhilePausedAndNeverReachTheUpstream() throws Exception {
        Paused p = pausedSession();
        int before = p.up().received.size();
        p.c().send("{\"type\":\"response.create\",\"event_id\":\"evt_while_paused\"}");
        JsonNode error = p.c().nextEvent();
        assertThat(error.get("type").asText()).isEqualTo("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("session_paused");
        assertThat(error.at("/error/event_id").asText()).isEqualTo("evt_while_paused");
        p.c().send("{\"type\":\"input_audio_buffer.commit\",\"event_id\":\"evt_commit\",\"test_vad\":true}");
        assertThat(p.c().nextEvent().at("/error/code").asText()).isEqualTo("session_paused");
        p.c().send("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "QUJD".repeat(100) + "\"}");
        assertThat(p.c().nextEvent().at("/error/code").asText()).as("the first dropped append is told").isEqualTo("session_paused");
        p.c().send("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "QUJD".repeat(100) + "\"}");
        // an event that starts nothing still passes
        p.c().send("{\"type\":\"input_audio_buffer.clear\",\"event_id\":\"evt_clear\"}");
        RelayAppTest.awaitReceived(p.up(), "{\"type\":\"input_audio_buffer.clear\",\"event_id\":\"evt_clear\"}");
        assertThat(p.up().received.subList(before, p.up().received.size()))
                .as("only the clear reached the upstream")
                .containsExactly("{\"type\":\"input_audio_buffer.clear\",\"event_id\":\"evt_clear\"}");
        assertThat(metric("relay_client_events_refused_total", "code=\"session_paused\"")).isGreaterThanOrEqualTo(4.0);
        p.c().ws.abort();
    }

    @Test
    void theClientEventThatFindsTheBudgetSpentPausesTheSessionAndIsRefused() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100." + CLIENTS.incrementAndGet());
        c.started = c.nextEvent();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        c.send(script(responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("remaining_budget_usd").decimalValue()).isEqualByComparingTo("3.00");
        // 40,000 bytes of text the next response would read: more than the 3.00 left can pay
        String item = "{\"type\":\"conversation.item.create\",\"event_id\":\"evt_big\",\"item\":{\"type\":\"message\","
                + "\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"" + "x".repeat(40_000) + "\"}]}}";
        c.send(item);
        JsonNode paused = c.nextEvent();
        assertThat(paused.get("type").asText()).isEqualTo("session_paused");
        assertThat(paused.get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        JsonNode error = c.nextEvent();
        assertThat(error.at("/error/code").asText()).isEqualTo("session_paused");
        assertThat(error.at("/error/event_id").asText()).isEqualTo("evt_big");
        assertThat(up.received).noneMatch(m -> m.contains("evt_big"));
        c.ws.abort();
    }

    @Test
    void theResponseInFlightWhenTheSessionPausesFinishesAndIsCharged() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100." + CLIENTS.incrementAndGet());
        c.started = c.nextEvent();
        String id = c.started.get("session_id").asText();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
        c.send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":2000}");
        c.until("response.created");
        // 60,000 bytes of text: more than the whole 5.00 could pay
        c.send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\","
                + "\"content\":[{\"type\":\"input_text\",\"text\":\"" + "y".repeat(60_000) + "\"}]}}");
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("session_paused");
        assertThat(c.nextEvent().at("/error/code").asText()).isEqualTo("session_paused");
        assertThat(up.received).as("the pause cancels nothing").noneMatch(m -> m.contains("response.cancel"));
        // the response goes on until it ends (here: the client stops it; the provider bills what it made)
        c.send("{\"type\":\"response.cancel\"}");
        JsonNode done = c.until("response.done");
        assertThat(done.at("/response/status").asText()).isEqualTo("cancelled");
        JsonNode charged = c.nextEvent();
        assertThat(charged.get("type").asText()).isEqualTo("usage_update");
        assertThat(charged.get("call_cost").decimalValue()).isPositive();
        assertThat(Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE)).get("charged_responses").asInt()).isEqualTo(1);
        assertThat(((ducke.DuckeApplication) APP.getApplication()).relayed().pausedHere(id)).as("still paused").isTrue();
        c.ws.abort();
    }

    @Test
    void withServerVadThePauseTurnsResponseCreationOffUpstreamAndTheResumeBackOn() throws Exception {
        // the upstream reports its turn detection (as the provider does in session.created/updated)
        Paused p = pausedSession("""
                {"type":"session.updated","event_id":"event_su1","session":{"type":"realtime","audio":{"input":
                 {"turn_detection":{"type":"server_vad","threshold":0.5,"create_response":true}}}}}""");
        String off = awaitContaining(p.up(), "event_gw_pause");
        JsonNode update = WsClient.parse(off);
        assertThat(update.get("type").asText()).isEqualTo("session.update");
        JsonNode td = update.at("/session/audio/input/turn_detection");
        assertThat(td.get("create_response").asBoolean(true)).isFalse();
        assertThat(td.get("type").asText()).as("the rest of turn detection as it was").isEqualTo("server_vad");
        assertThat(td.get("threshold").asDouble()).isEqualTo(0.5);

        assertThat(patch(p.id(), "{\"max_cost_usd\":12}").statusCode()).isEqualTo(200);
        p.c().until("session_resumed");
        String on = awaitContaining(p.up(), "event_gw_resume");
        assertThat(WsClient.parse(on).at("/session/audio/input/turn_detection/create_response").asBoolean(false)).isTrue();
        p.c().ws.abort();
    }

    private static String awaitContaining(FakeUpstream.Connection up, String part) {
        AtomicReference<String> found = new AtomicReference<>();
        Poll.until("upstream received " + part, 10_000, () -> {
            up.received.stream().filter(m -> m.contains(part)).findFirst().ifPresent(found::set);
            return found.get() != null;
        });
        return found.get();
    }

    @Test
    void aPauseThatTimesOutEndsTheSessionAsTheCapWouldHaveWithItsPauseInTheAuditRow() throws Exception {
        Paused p = pausedSession();
        CLOCK.advance(Duration.ofSeconds(61));
        JsonNode exceeded = p.c().until("budget_exceeded");
        assertThat(exceeded.get("session_cost").decimalValue()).isEqualByComparingTo("4.00");
        JsonNode error = p.c().nextEvent();
        assertThat(error.at("/error/code").asText()).isEqualTo("budget_exceeded");
        assertThat(p.c().awaitClose()).isEqualTo(1008);
        JsonNode session = Http.json(http().get("/v1/sessions/" + p.id(), "Authorization", SERVICE));
        assertThat(session.get("end_reason").asText()).isEqualTo("budget_exceeded");

        AtomicReference<JsonNode> row = new AtomicReference<>();
        Poll.until("the audit row with its pause", Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
            for (JsonNode r : Http.json(http().get("/v1/audit/sessions", "Authorization", OPERATOR)).get("sessions")) {
                if (r.get("session_id").asText().equals(p.id()) && r.path("pauses").asInt() == 1) {
                    row.set(r);
                }
            }
            return row.get() != null;
        });
        assertThat(row.get().get("end_reason").asText()).isEqualTo("budget_exceeded");
        assertThat(row.get().get("paused_seconds").decimalValue()).isEqualByComparingTo("61.000");
        String csv = http().get("/v1/audit/sessions", "Authorization", OPERATOR, "Accept", "text/csv").body();
        assertThat(csv.lines().filter(l -> l.startsWith(p.id())).findFirst().orElseThrow()).endsWith(",1,61.000");
        // a PATCH after the end is refused
        HttpResponse<String> late = patch(p.id(), "{\"max_cost_usd\":\"20\"}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(Http.json(late).get("error").asText()).isEqualTo("session_ended");
    }

    @Test
    void patchSetsTheCapOfAnApiSessionAndRefusesWhatItCannotTake() throws Exception {
        HttpResponse<String> started = http().post("/v1/sessions", "{\"client_id\":\"192.0.2.77\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(started.statusCode()).isEqualTo(201);
        String id = Http.json(started).get("session_id").asText();
        // gpt-5 100k in / 200k out = 7.00? too much for 5.00: 10k / 20k = 0.70
        assertThat(http().post("/v1/sessions/" + id + "/usage", "{\"input_tokens\":10000,\"output_tokens\":20000}",
                "Authorization", SERVICE).statusCode()).isEqualTo(200);

        HttpResponse<String> raised = patch(id, "{\"max_cost_usd\":20.5}");
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        assertThat(Http.json(raised).get("max_cost_usd").decimalValue()).isEqualByComparingTo("20.5");
        assertThat(Http.json(raised).get("paused").asBoolean(true)).isFalse();
        assertThat(Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE)).get("remaining_budget_usd").decimalValue())
                .isEqualByComparingTo("19.80");
        HttpResponse<String> lowered = patch(id, "{\"max_cost_usd\":\"1.00\"}");
        assertThat(lowered.statusCode()).isEqualTo(200);
        assertThat(Http.json(lowered).get("max_cost_usd").decimalValue()).isEqualByComparingTo("1.00");

        for (String bad : new String[]{"{\"max_cost_usd\":\"0.70\"}", "{\"max_cost_usd\":\"0.5\"}", "{\"max_cost_usd\":-1}",
                "{\"max_cost_usd\":0}", "{\"max_cost_usd\":\"abc\"}", "{\"max_cost_usd\":\"NaN\"}", "{\"max_cost_usd\":true}",
                "{\"max_cost_usd\":\"0.0000000001\"}", "{}", "{\"max_cost_usd\":\"2\",\"max_duration\":60}"}) {
            HttpResponse<String> r = patch(id, bad);
            assertThat(r.statusCode()).as(bad + " → " + r.body()).isEqualTo(422);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE)).get("max_cost_usd").decimalValue())
                .as("nothing refused changed the cap").isEqualByComparingTo("1.00");

        HttpResponse<String> unknown = patch("sess_" + "0".repeat(32), "{\"max_cost_usd\":\"2\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Http.json(unknown).get("error").asText()).isEqualTo("session_not_found");
        HttpResponse<String> anonymous = http().patch("/v1/sessions/" + id, "{\"max_cost_usd\":\"2\"}");
        assertThat(anonymous.statusCode()).isEqualTo(401);

        assertThat(http().send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        HttpResponse<String> ended = patch(id, "{\"max_cost_usd\":\"2\"}");
        assertThat(ended.statusCode()).isEqualTo(409);
        assertThat(Http.json(ended).get("end_reason").asText()).isEqualTo("api_ended");
    }
}
