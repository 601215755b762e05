package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pings on both legs of a relayed session (RFC 6455 5.5.2: a ping is answered with a pong of its
 * payload). Jetty answers none for endpoints that take raw frames, so the relay does: the client's
 * pings get pongs (also between the fragments of a message, which still arrives whole), the
 * provider's pings get pongs, and a client that floods pings without reading is stalled like one
 * that never reads its events.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RelayPingAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-30T20:00:00Z"),
            "upstream.url", UPSTREAM.url(),
            "relay.maxBufferedBytes", "64KiB",
            "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", "100000/minute"));

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static WsClient open(String forwardedFor) throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", forwardedFor);
        c.started = c.nextEvent();
        c.until("session.created");
        return c;
    }

    @Test
    void theClientsPingsAreAnsweredWithTheirPayloadAlsoBetweenFragments() throws Exception {
        WsClient c = open("198.51.100.91");
        c.ws.sendPing(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8))).join();
        assertThat(c.pongs.poll(20, TimeUnit.SECONDS)).isEqualTo("abc");
        c.ws.sendPing(ByteBuffer.allocate(0)).join();
        assertThat(c.pongs.poll(20, TimeUnit.SECONDS)).isEmpty();

        // a ping between the two parts of one message: answered, and the message still arrives whole
        c.ws.sendText("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\",", false).join();
        c.ws.sendPing(ByteBuffer.wrap("mid".getBytes(StandardCharsets.UTF_8))).join();
        c.ws.sendText("\"content\":[{\"type\":\"input_text\",\"text\":\"whole\"}]}}", true).join();
        assertThat(c.pongs.poll(20, TimeUnit.SECONDS)).isEqualTo("mid");
        assertThat(c.until("conversation.item.created").at("/item/content/0/text").asText()).isEqualTo("whole");
        assertThat(c.pongs).isEmpty();
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    @Test
    void theUpstreamsPingsAreAnswered() throws Exception {
        int before = UPSTREAM.connections().size();
        WsClient c = open("198.51.100.92");
        FakeUpstream.Connection up = UPSTREAM.connections().get(before);
        c.send("{\"type\":\"input_audio_buffer.clear\",\"test_ping\":\"from-provider\"}");
        Poll.until("the upstream heard its pong", Duration.ofSeconds(20), Duration.ofMillis(10),
                () -> "pongs " + up.pongs, () -> up.pongs.contains("from-provider"));
        assertThat(up.pongs).containsExactly("from-provider");
        assertThat(up.open()).isTrue();
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    /**
     * A raw client with a tiny receive window reads its session id, then sends pings and never reads
     * again: the pongs pile up behind the socket until the relay's bound for unread frames
     * (64 KiB here) ends the session.
     */
    @Test
    void aClientThatFloodsPingsWithoutReadingIsStalled() throws Exception {
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(1024);
            socket.connect(new InetSocketAddress("127.0.0.1", APP.getLocalPort()), 10_000);
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /session HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "X-Forwarded-For: 198.51.100.93\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertThat(head(in)).startsWith("HTTP/1.1 101");
            String id = sessionId(in);

            // pings of the largest control payload (125 bytes): the kernel's send buffer toward the
            // client, which grows to a few MiB, fills sooner than with empty ones
            int frame = 2 + 4 + 125;
            byte[] pings = new byte[frame * 4_000];
            for (int i = 0; i < pings.length; i += frame) {
                pings[i] = (byte) 0x89; // FIN + ping
                pings[i + 1] = (byte) (0x80 | 125); // masked; the mask key and the payload stay 0
            }
            AtomicReference<JsonNode> session = new AtomicReference<>();
            Http http = Http.local(APP.getLocalPort());
            try {
                for (int round = 0; round < 200 && !ended(http, id, session); round++) {
                    out.write(pings);
                    out.flush();
                }
            } catch (IOException closedByTheGateway) {
                // the relay ended the session and closed the socket while pings were still being written
            }
            Poll.until("the flooding client's session ended", Duration.ofSeconds(30), Duration.ofMillis(20),
                    () -> "session " + session.get(), () -> ended(http, id, session));
            assertThat(session.get().get("end_reason").asText()).isEqualTo("client_closed");
        }
    }

    private static boolean ended(Http http, String id, AtomicReference<JsonNode> session) {
        session.set(Http.json(http.get("/v1/sessions/" + id, "Authorization", "Bearer " + TestApps.SERVICE_TOKEN)));
        return "ended".equals(session.get().path("status").asText());
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the handshake's answer ended early: %s", head).isNotNegative();
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** Reads server frames (unmasked, text) until the gateway's session_started; returns its session id. */
    private static String sessionId(DataInputStream in) throws IOException {
        Pattern idPattern = Pattern.compile("\"session_id\"\\s*:\\s*\"([^\"]+)\"");
        while (true) {
            int first = in.readUnsignedByte();
            long length = in.readUnsignedByte() & 0x7F;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            byte[] payload = new byte[(int) length];
            in.readFully(payload);
            String text = new String(payload, StandardCharsets.UTF_8);
            Matcher m = idPattern.matcher(text);
            if ((first & 0x0F) == 1 && text.contains("\"session_started\"") && m.find()) {
                return m.group(1);
            }
        }
    }
}
