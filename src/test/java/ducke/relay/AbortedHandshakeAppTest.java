package ducke.relay;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import ducke.DuckeConfiguration;
import ducke.core.cost.SessionSlots;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.RawHttp;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Handshakes the client gives up on — reset right after the request, as a flaky mobile network
 * does — leave no slot behind: the client can still open its full share of sessions.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class AbortedHandshakeAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final String CLUSTER = "aborted-handshakes-" + java.util.UUID.randomUUID();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T21:00:00Z"),
            "upstream.url", UPSTREAM.url(),
            "hazelcast.clusterName", CLUSTER,
            // more handshakes per client than the default 5/minute: this test counts slots, not handshakes
            "rateLimits.websocket", "100/minute"));

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    /** A valid upgrade request, then a reset (SO_LINGER 0) without reading a byte of the answer. */
    private static void resetAfterRequest(String client) throws Exception {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), APP.getLocalPort());
        OutputStream out = s.getOutputStream();
        out.write(("GET /session HTTP/1.1\r\nHost: 127.0.0.1:" + APP.getLocalPort() + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "X-Forwarded-For: " + client + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        s.setSoLinger(true, 0);
        s.close();
    }

    private static int slotsHeld(String client) {
        HazelcastInstance hz = Hazelcast.getAllHazelcastInstances().stream()
                .filter(h -> h.getConfig().getClusterName().equals(CLUSTER)).findFirst().orElseThrow();
        SessionSlots slots = hz.<String, SessionSlots>getMap("ducke-session-slots").get(client);
        return slots == null ? 0 : slots.size();
    }

    private static double handshakesHandled(Http http) {
        String metrics = http.get("/metrics").body();
        return metrics.lines().filter(l -> l.startsWith("relay_handshakes_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void handshakesResetAfterTheRequestLeaveNoSlot() throws Exception {
        Http http = Http.local(APP.getLocalPort());
        String client = "10.71.0.1";
        double before = handshakesHandled(http);
        int upstreamsBefore = UPSTREAM.connections().size();
        for (int i = 0; i < 3; i++) {
            resetAfterRequest(client);
        }
        Poll.until("the three handshakes handled", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> handshakesHandled(http) >= before + 3);
        Poll.until("no slot held by the reset handshakes", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> "slots held: " + slotsHeld(client), () -> slotsHeld(client) == 0);
        CostIntegrity.attack("3 handshakes reset after the request").billed(java.math.BigDecimal.ZERO)
                .field("slots_left", Integer.toString(slotsHeld(client)))
                .field("upstreams_opened", Integer.toString(UPSTREAM.connections().size() - upstreamsBefore)).print();

        // the client's full share of sessions opens, and the limit still holds for real sessions
        List<WsClient> sessions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
            assertThat(c.nextEvent().get("type").asText()).isEqualTo("session_started");
            sessions.add(c);
        }
        assertThat(slotsHeld(client)).isEqualTo(3);
        HttpResponse<String> fourth = WsClient.refused(APP.getLocalPort(), "", "X-Forwarded-For", client);
        assertThat(fourth.statusCode()).isEqualTo(429);
        assertThat(fourth.body()).contains("concurrent_session_limit");
        for (WsClient c : sessions) {
            c.ws.sendClose(1000, "").join();
            c.awaitClose();
        }
        Poll.until("the sessions' slots given back", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> "slots held: " + slotsHeld(client), () -> slotsHeld(client) == 0);
    }

    @Test
    void anUpgradeJettyRefusesAfterTheGatesLeavesNoSlot() throws Exception {
        String client = "10.71.0.2";
        // passes the gates (a valid key, version 13), then Jetty cannot parse the offered extensions
        RawHttp.Answer answer = RawHttp.send(APP.getLocalPort(), "GET /session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: \"\r\nX-Forwarded-For: " + client, "");
        assertThat(answer.status()).isEqualTo(400);
        Poll.until("no slot held by the refused upgrade", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> "slots held: " + slotsHeld(client), () -> slotsHeld(client) == 0);
    }
}
