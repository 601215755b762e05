package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The draining stop of one node through the admin task: not ready at once, new sessions refused
 * (503 {@code node_draining}, Retry-After), live relayed sessions go on and are charged, API sessions
 * keep reporting, and the drain is over when the last session has ended — or, at the timeout (the
 * injected clock advanced), the rest end with {@code node_shutdown}, the realtime error event and
 * close 1012, their tails charged.
 */
class DrainAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T10:00:00Z");
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private DropwizardTestSupport<DuckeConfiguration> app;

    @AfterEach
    void stopApp() {
        if (app != null) {
            app.after();
        }
    }

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    private DropwizardTestSupport<DuckeConfiguration> start() throws Exception {
        app = TestApps.support(CLOCK, "upstream.url", UPSTREAM.url(), "drainTimeout", "5m",
                "rateLimits.defaultLimit", "100000/minute", "rateLimits.websocket", "100000/minute");
        app.before();
        return app;
    }

    private Http http() {
        return Http.local(app.getLocalPort());
    }

    private HttpResponse<String> drain() {
        return Http.local(app.getAdminPort()).post("/tasks/drain", null, "Authorization", OPERATOR);
    }

    private WsClient open(String client) throws Exception {
        WsClient c = WsClient.connect(app.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    private static void assertDraining(HttpResponse<String> r) {
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("5");
        JsonNode body = Http.json(r);
        assertThat(body.get("code").asInt()).isEqualTo(503);
        assertThat(body.get("error").asText()).isEqualTo("node_draining");
    }

    private JsonNode session(String id) {
        return Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    private NodeDrain nodeDrain() {
        return ((DuckeApplication) app.getApplication()).drain();
    }

    @Test
    void aDrainRefusesNewSessionsLetsLiveOnesFinishAndIsOverWhenTheLastHasEnded() throws Exception {
        start();
        assertThat(http().get("/health/ready").statusCode()).isEqualTo(200);
        WsClient live = open("198.51.100.11");
        String liveId = live.started.get("session_id").asText();
        HttpResponse<String> api = http().post("/v1/sessions", "{\"client_id\":\"198.51.100.12\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(api.statusCode()).isEqualTo(201);
        String apiId = Http.json(api).get("session_id").asText();

        HttpResponse<String> started = drain();
        assertThat(started.statusCode()).isEqualTo(200);
        assertThat(started.body()).startsWith("drain started").contains("1 relayed session(s) live");

        assertDraining(http().get("/health/ready"));
        assertThat(Http.json(http().get("/health/ready")).get("status").asText()).isEqualTo("not_ready");
        assertDraining(WsClient.refused(app.getLocalPort(), "", "X-Forwarded-For", "198.51.100.13"));
        HttpResponse<String> refusedApi = http().post("/v1/sessions", "{\"client_id\":\"198.51.100.14\"}", "Authorization", SERVICE);
        assertDraining(refusedApi);
        // refused before any rate limit counted it
        assertThat(refusedApi.headers().firstValue("RateLimit")).isEmpty();
        assertThat(api.headers().firstValue("RateLimit")).isPresent();
        assertThat(http().get("/metrics").body()).contains("node_draining 1.0");

        // the live relayed session goes on and is charged
        live.send(RelayAppTest.script(RelayAppTest.responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(live.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        // and the API session reports and ends
        HttpResponse<String> report = http().post("/v1/sessions/" + apiId + "/usage",
                "{\"model\":\"gpt-5\",\"input_tokens\":1000,\"output_tokens\":2000}", "Authorization", SERVICE);
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(Http.json(report).get("call_cost").decimalValue()).isEqualByComparingTo("0.07");
        assertThat(http().send("DELETE", "/v1/sessions/" + apiId, "Authorization", SERVICE).statusCode()).isEqualTo(200);

        // asking again changes nothing
        HttpResponse<String> again = drain();
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).startsWith("already draining");
        assertThat(nodeDrain().drained()).isNotDone();

        live.ws.sendClose(1000, "done").join();
        assertThat(live.awaitClose()).isEqualTo(1000);
        nodeDrain().drained().get(30, TimeUnit.SECONDS);
        JsonNode ended = session(liveId);
        assertThat(ended.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo("2.00");
        assertDraining(http().get("/health/ready"));
    }

    @Test
    void atTheTimeoutTheRestEndWithNodeShutdownAndClose1012TheirTailsCharged() throws Exception {
        start();
        WsClient held = open("198.51.100.21");
        String heldId = held.started.get("session_id").asText();
        held.send("{\"type\":\"response.create\",\"test_hold\":true}");
        held.until("response.created");

        assertThat(drain().statusCode()).isEqualTo(200);
        CLOCK.advance(Duration.ofMinutes(4));
        // a second request makes the drain look at the clock again: four minutes are not five
        assertThat(drain().body()).startsWith("already draining");
        assertThat(nodeDrain().drained()).isNotDone();

        CLOCK.advance(Duration.ofMinutes(1));
        drain();
        JsonNode event = held.until("service_unavailable");
        assertThat(event.get("reason").asText()).isEqualTo("node_shutdown");
        JsonNode error = held.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("service_unavailable");
        assertThat(held.awaitClose()).isEqualTo(1012);
        nodeDrain().drained().get(30, TimeUnit.SECONDS);

        JsonNode ended = session(heldId);
        assertThat(ended.get("end_reason").asText()).isEqualTo("node_shutdown");
        // the response cut off by the end was charged what the provider billed for it
        assertThat(ended.get("charged_responses").asInt()).isEqualTo(1);
        assertThat(ended.get("cost_usd").decimalValue()).isPositive();
    }

    private HttpResponse<String> offer(String client) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + app.getLocalPort() + "/v1/realtime/calls"))
                        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/sdp").header("X-Forwarded-For", client)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(CallsAppTest.SDP)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aCallGoesOnThroughTheDrainAndIsHungUpAtTheTimeoutWithItsTailCharged() throws Exception {
        start();
        HttpResponse<String> created = offer("198.51.100.31");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();
        String sessionId = location.substring(location.lastIndexOf('/') + 1);
        String callId = created.body().lines().filter(l -> l.startsWith("a=x-test-call:")).findFirst().orElseThrow()
                .substring("a=x-test-call:".length());
        FakeUpstream.Call call = UPSTREAM.call(callId);
        ducke.testing.Poll.until("the sideband attached", Duration.ofSeconds(10), Duration.ofMillis(20), call::attached);
        call.callerSends("{\"type\":\"response.create\",\"test_hold\":true}");
        ducke.testing.Poll.until("the response in progress", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> call.events.sentTypes.contains("response.created"));
        // the sideband's events are read in order: once the guard has undone a model change sent after the
        // response started, it has seen the response start too
        call.callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"model\":\"gpt-other\"}}");
        ducke.testing.Poll.until("the guard saw the response start", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> call.events.received.stream().anyMatch(m -> m.contains("event_gw_undo")));

        assertThat(drain().statusCode()).isEqualTo(200);
        // new calls are refused like new sessions; the live one goes on
        assertDraining(offer("198.51.100.32"));
        assertThat(call.hungUp()).isFalse();
        assertThat(session(sessionId).get("status").asText()).isEqualTo("active");

        CLOCK.advance(Duration.ofMinutes(5));
        drain();
        nodeDrain().drained().get(30, TimeUnit.SECONDS);
        ducke.testing.Poll.until("the call hung up", Duration.ofSeconds(10), Duration.ofMillis(20), call::hungUp);
        JsonNode ended = session(sessionId);
        assertThat(ended.get("end_reason").asText()).isEqualTo("node_shutdown");
        // the response the end cut off was cancelled through the sideband and charged what the provider billed
        assertThat(call.events.received.stream().anyMatch(m -> m.contains("response.cancel"))).isTrue();
        assertThat(call.events.billed).hasSize(1);
        assertThat(ended.get("charged_responses").asInt()).isEqualTo(1);
        assertThat(ended.get("cost_usd").decimalValue()).isPositive();
    }
}
