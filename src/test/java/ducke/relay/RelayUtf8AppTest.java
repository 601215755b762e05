package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Frames are relayed as bytes: large messages of multi-byte UTF-8 (CJK, emoji, escapes), whole
 * and fragmented, pass both ways unchanged, and the usage around them is charged exactly.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RelayUtf8AppTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T18:00:00Z"),
            "upstream.url", UPSTREAM.url(),
            // text is estimated at a token a byte: these messages need room in the session's budget
            "costProtection.maxSessionCostUsd", "100",
            // and in the client's hour, where every response is reserved too
            "costProtection.maxClientCostPerHourUsd", "1000",
            "relay.maxUpstreamFrameSize", "1MiB",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    /** Three, four and two bytes a character, escapes and a line break: 41 UTF-8 bytes a round. */
    private static final String TEXT = "こんにちは世界 🦆🎙 \" \\ ünï\n";

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static String jsonString(String s) throws Exception {
        return JSON.writeValueAsString(s);
    }

    private static String itemCreate(String eventId, String text) throws Exception {
        return "{\"type\":\"conversation.item.create\",\"event_id\":\"" + eventId + "\",\"item\":{\"type\":\"message\","
                + "\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":" + jsonString(text) + "}]}}";
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** A cut that does not split a surrogate pair (the JDK client encodes each fragment on its own). */
    private static int cut(String s, int at) {
        return Character.isLowSurrogate(s.charAt(at)) ? at + 1 : at;
    }

    @Test
    void largeMultiByteMessagesPassUnchangedBothWaysAndUsageIsChargedExactly() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100.7");
        c.started = c.nextEvent();
        c.until("session.created");
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);

        // client → upstream: one frame of more than 64 KiB
        String whole = itemCreate("evt_whole", TEXT.repeat(1_700));
        assertThat(utf8(whole)).isGreaterThan(64 * 1024);
        c.send(whole);
        RelayAppTest.awaitReceived(up, whole);
        JsonNode created = c.until("conversation.item.created");
        assertThat(created.at("/item/content/0/text").asText()).isEqualTo(TEXT.repeat(1_700));

        // client → upstream: one message in three fragments, cut inside the text
        String fragmented = itemCreate("evt_fragments", "🦆".repeat(3) + TEXT.repeat(700));
        int first = cut(fragmented, 40);
        int second = cut(fragmented, fragmented.length() / 2 + 1);
        c.ws.sendText(fragmented.substring(0, first), false).join();
        c.ws.sendText(fragmented.substring(first, second), false).join();
        c.ws.sendText(fragmented.substring(second), true).join();
        RelayAppTest.awaitReceived(up, fragmented);
        c.until("conversation.item.created");

        // upstream → client: a transcript delta of more than 128 KiB, then the usage
        String delta = "{\"type\":\"response.output_audio_transcript.delta\",\"event_id\":\"event_td\",\"response_id\":\"resp_1\","
                + "\"item_id\":\"item_1\",\"output_index\":0,\"content_index\":0,\"delta\":" + jsonString(TEXT.repeat(3_500)) + "}";
        assertThat(utf8(delta)).isGreaterThan(128 * 1024);
        // gpt-realtime at 100/200 per 1M: 5k text + 5k audio in, 2.5k + 2.5k out = 1.00 + 1.00 = 2.00
        String done = RelayAppTest.responseDone(5_000, 5_000, 2_500, 2_500);
        c.send(RelayAppTest.script(delta, done));
        String sentByUpstream = JSON.readTree(delta).toString();
        String received = null;
        while (received == null) {
            String text = c.next().text();
            if (text != null && text.startsWith("{\"type\":\"response.output_audio_transcript.delta\"")) {
                received = text;
            }
        }
        assertThat(received).isEqualTo(sentByUpstream);
        assertThat(c.nextEvent().get("type").asText()).isEqualTo("response.done");
        JsonNode update = c.nextEvent();
        assertThat(update.get("type").asText()).isEqualTo("usage_update");
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo("2.00");
        assertThat(update.get("call_cost").decimalValue()).isEqualByComparingTo("2.00");

        String metrics = Http.local(APP.getLocalPort()).get("/metrics").body();
        assertThat(PromText.value(metrics, "relay_bytes_total", "direction=\"client_to_upstream\""))
                .as("client bytes counted as UTF-8").isGreaterThanOrEqualTo(utf8(whole) + utf8(fragmented));
        assertThat(PromText.value(metrics, "relay_bytes_total", "direction=\"upstream_to_client\""))
                .isGreaterThanOrEqualTo(utf8(sentByUpstream));
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    @Test
    void aClientMessageOverTheLimitClosesTheSessionWith1009() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100.8");
        c.started = c.nextEvent();
        c.until("session.created");
        String tooLarge = itemCreate("evt_large", "🦆".repeat(300_000));
        assertThat(utf8(tooLarge)).isGreaterThan(1024 * 1024);
        try {
            c.ws.sendText(tooLarge.substring(0, 100), false).join();
            c.ws.sendText(tooLarge.substring(100), true).join();
        } catch (java.util.concurrent.CompletionException closedMeanwhile) {
            // the gateway may close before the client has sent the rest
        }
        assertThat(c.awaitClose()).isEqualTo(1009);
        JsonNode s = Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + c.started.get("session_id").asText(),
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        long deadline = System.currentTimeMillis() + 10_000;
        while (!"ended".equals(s.get("status").asText())) {
            assertThat(System.currentTimeMillis()).as("session ended").isLessThan(deadline);
            s = Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + c.started.get("session_id").asText(),
                    "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
        }
        assertThat(s.get("end_reason").asText()).isEqualTo("client_closed");
    }

    @Test
    void anUpstreamMessageOverTheLimitIsDroppedAndTheSessionGoesOn() throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100.9");
        c.started = c.nextEvent();
        c.until("session.created");
        // over RELAY_MAX_UPSTREAM_FRAME_SIZE (1 MiB here): dropped, the client told, the session kept
        c.send("{\"type\":\"response.create\",\"test_flood\":{\"size\":1100000,\"count\":1}}");
        JsonNode error = c.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("upstream_event_too_large");
        assertThat(error.at("/error/message").asText()).contains("response.output_audio.delta");
        c.send(itemCreate("evt_after", TEXT));
        assertThat(c.until("conversation.item.created").at("/item/content/0/text").asText()).isEqualTo(TEXT);
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }
}
