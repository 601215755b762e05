package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the official SDKs need from the relay: the realtime API's path, subprotocols, client
 * secrets, endings they understand, and handshakes that leave nothing behind when refused.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RealtimeSdkCompatTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-30T10:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.clientAuth", "optional",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static String newClient() {
        return "192.0.2." + CLIENTS.incrementAndGet();
    }

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    private static JsonNode mint(String body) {
        HttpResponse<String> r = http().post("/v1/realtime/client_secrets", body, "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r);
    }

    private static FakeUpstream.Connection lastUpstream() {
        return UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);
    }

    @Test
    void theRealtimePathRelaysLikeSessionAndSelectsTheRealtimeSubprotocol() throws Exception {
        WsClient c = WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/v1/realtime?model=gpt-realtime",
                List.of("realtime", "openai-insecure-api-key.sk-not-for-upstream", "openai-beta.realtime-v1"),
                "X-Forwarded-For", newClient());
        assertThat(c.ws.getSubprotocol()).isEqualTo("realtime");
        JsonNode started = c.nextEvent();
        assertThat(started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        FakeUpstream.Connection up = lastUpstream();
        assertThat(up.authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        assertThat(up.beta).isEqualTo("realtime=v1");
        c.send("{\"type\":\"response.create\",\"test_want_output\":10}");
        c.until("usage_update");
        assertThat(up.received).noneMatch(m -> m.contains("sk-not-for-upstream"));
        c.ws.sendClose(1000, "").join();
        c.awaitClose();
        String metrics = http().get("/metrics").body();
        assertThat(PromText.value(metrics, "relay_handshakes_total", "outcome=\"accepted\"")).isPositive();
    }

    @Test
    void aClientSecretNamesTheClientItsModelAndItsBudget() throws Exception {
        JsonNode secret = mint("{\"client_id\":\"user-42\",\"expires_after_seconds\":120,\"max_cost_usd\":\"1.25\"}");
        assertThat(secret.get("value").asText()).startsWith("ek_");
        assertThat(secret.get("client_id").asText()).isEqualTo("user-42");
        assertThat(secret.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(secret.get("max_cost_usd").decimalValue()).isEqualByComparingTo("1.25");
        assertThat(secret.get("expires_at").asLong()).isEqualTo(CLOCK.millis() / 1000 + 120);
        String value = secret.get("value").asText();

        WsClient byHeader = WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/v1/realtime", List.of(),
                "X-Forwarded-For", newClient(), "Authorization", "Bearer " + value);
        JsonNode started = byHeader.nextEvent();
        assertThat(started.get("max_cost_usd").decimalValue()).isEqualByComparingTo("1.25");
        JsonNode session = Http.json(http().get("/v1/sessions/" + started.get("session_id").asText(), "Authorization", SERVICE));
        assertThat(session.get("client_id").asText()).isEqualTo("user-42");
        byHeader.until("session.created");
        assertThat(lastUpstream().authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);

        WsClient bySubprotocol = WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/session",
                List.of("realtime", "openai-insecure-api-key." + value), "X-Forwarded-For", newClient());
        JsonNode second = bySubprotocol.nextEvent();
        assertThat(Http.json(http().get("/v1/sessions/" + second.get("session_id").asText(), "Authorization", SERVICE))
                .get("client_id").asText()).isEqualTo("user-42");
        for (WsClient c : List.of(byHeader, bySubprotocol)) {
            c.ws.sendClose(1000, "").join();
            c.awaitClose();
        }
    }

    @Test
    void unknownAndExpiredSecretsAre401BeforeTheUpgrade() {
        HttpResponse<String> unknown = WsClient.refused(APP.getLocalPort(), "", "X-Forwarded-For", newClient(),
                "Authorization", "Bearer ek_never-minted");
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(Http.json(unknown).get("error").asText()).isEqualTo("unauthorized");
        String value = mint("{\"client_id\":\"user-7\",\"expires_after_seconds\":1}").get("value").asText();
        CLOCK.advance(Duration.ofSeconds(2));
        HttpResponse<String> expired = WsClient.refused(APP.getLocalPort(), "", "X-Forwarded-For", newClient(),
                "Authorization", "Bearer " + value);
        assertThat(expired.statusCode()).isEqualTo(401);
    }

    @Test
    void mintingRefusesBadRequests() {
        for (String body : List.of("{}", "{\"client_id\":\"\"}", "{\"client_id\":\"u\",\"expires_after_seconds\":0}",
                "{\"client_id\":\"u\",\"expires_after_seconds\":3601}", "{\"client_id\":\"u\",\"max_cost_usd\":\"5.01\"}",
                "{\"client_id\":\"u\",\"max_cost_usd\":\"-1\"}", "{\"client_id\":\"u\",\"model\":\"gpt-5\"}",
                "{\"client_id\":\"u\",\"max_cost_usd\":\"0.0000000001\"}", "{\"client_id\":\"bad id!\"}",
                "{\"client_id\":\"u\",\"extra\":1}", "{\"client_id\":123}", "{\"client_id\":\"u\",\"expires_after_seconds\":1.5}",
                "{\"client_id\":\"u\",\"expires_after_seconds\":\"60\"}", "{\"client_id\":\"u\",\"expires_after_seconds\":1e2}",
                "{\"client_id\":\"u\",\"max_cost_usd\":\"NaN\"}", "{\"client_id\":\"u\",\"max_cost_usd\":1e400}",
                "{\"client_id\":\"u\",\"max_cost_usd\":true}", "{\"client_id\":\"u\",\"model\":7}")) {
            HttpResponse<String> r = http().post("/v1/realtime/client_secrets", body, "Authorization", SERVICE);
            assertThat(r.statusCode()).as(body).isEqualTo(422);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(http().post("/v1/realtime/client_secrets", "{\"client_id\":\"u\"}").statusCode()).isEqualTo(401);
    }

    @Test
    void aBudgetEndingIsFollowedByARealtimeErrorEvent() throws Exception {
        String value = mint("{\"client_id\":\"user-small\",\"max_cost_usd\":\"0.25\"}").get("value").asText();
        WsClient c = WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/v1/realtime", List.of(),
                "X-Forwarded-For", newClient(), "Authorization", "Bearer " + value);
        c.nextEvent();
        c.until("session.created");
        c.send("{\"type\":\"response.create\"}");
        c.until("budget_exceeded");
        JsonNode error = c.nextEvent();
        assertThat(error.get("type").asText()).isEqualTo("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("budget_exceeded");
        assertThat(c.awaitClose()).isEqualTo(1008);
    }

    @Test
    void aBrowserThatSendsEverythingAtOnceOnATinyBudgetHearsWhyItEnded() throws Exception {
        String value = mint("{\"client_id\":\"user-tiny\",\"max_cost_usd\":\"0.01\"}").get("value").asText();
        WsClient c = WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/v1/realtime?model=gpt-realtime",
                List.of("realtime", "openai-insecure-api-key." + value, "openai-beta.realtime-v1"), "X-Forwarded-For", newClient());
        c.nextEvent();
        c.until("session.created");
        c.send("{\"type\":\"session.update\",\"session\":{\"modalities\":[\"audio\",\"text\"],\"instructions\":\"Answer in one short sentence.\"}}");
        c.send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"Why?\"}]}}");
        c.ws.sendText("{\"type\":\"response.create\",\"response\":{\"modalities\":[\"audio\",\"text\"]}}", true);
        c.until("budget_exceeded");
        assertThat(c.nextEvent().at("/error/code").asText()).isEqualTo("budget_exceeded");
        assertThat(c.awaitClose()).isEqualTo(1008);
    }

    @Test
    void badHandshakesAreRefusedPlainly() throws Exception {
        assertThat(rawHandshake("13", "not-a-key")).startsWith("HTTP/1.1 400");
        String version = rawHandshake("8", "dGhlIHNhbXBsZSBub25jZQ==");
        assertThat(version).startsWith("HTTP/1.1 426").containsIgnoringCase("Sec-WebSocket-Version: 13");
        assertThatThrownBy(() -> WsClient.connectTo(new WsClient(), APP.getLocalPort(), "/v1/realtime/nope", List.of()))
                .isInstanceOf(CompletionException.class);
    }

    private static String rawHandshake(String version, String key) throws Exception {
        try (Socket s = new Socket("127.0.0.1", APP.getLocalPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "X-Forwarded-For: " + newClient() + "\r\nSec-WebSocket-Version: " + version + "\r\nSec-WebSocket-Key: " + key
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            StringBuilder head = new StringBuilder();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                head.append(line).append('\n');
            }
            return head.toString();
        }
    }
}
