package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.DuckeConfiguration;
import ducke.relay.FakeUpstream;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import ducke.testing.TestKeystore;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The optional HTTPS connector: the same API and the same metered relay over https:// and wss://. */
@ExtendWith(DropwizardExtensionsSupport.class)
class TlsAppTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TestKeystore KEYSTORE = TestKeystore.create(tempDir());
    private static final int TLS_PORT = FreePorts.next();
    private static final FakeUpstream UPSTREAM = upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T18:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "tls.port", Integer.toString(TLS_PORT),
            "tls.bindHost", "127.0.0.1",
            "tls.keystorePath", KEYSTORE.path().toString(),
            "tls.keystorePassword", KEYSTORE.password()));
    private static final HttpClient TRUSTING = HttpClient.newBuilder().sslContext(KEYSTORE.trustingContext())
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    @Test
    void statusIsServedOverHttpsAndPlainHttpStillWorks() {
        HttpResponse<String> secure = new Http("https://127.0.0.1:" + TLS_PORT, TRUSTING).get("/status");
        assertThat(secure.statusCode()).isEqualTo(200);
        assertThat(Http.json(secure).get("status").asText()).isEqualTo("ok");
        assertThat(secure.version()).isIn(HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2);
        assertThat(Http.local(APP.getLocalPort()).get("/status").statusCode()).isEqualTo(200);
    }

    @Test
    void clientsThatDoNotTrustTheCertificateAreRefused() {
        Http untrusting = new Http("https://127.0.0.1:" + TLS_PORT, HttpClient.newHttpClient());
        assertThatThrownBy(() -> untrusting.get("/status"))
                .isInstanceOf(UncheckedIOException.class).hasCauseInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void theRelayIsMeteredOverWss() throws Exception {
        Listener client = new Listener();
        WebSocket ws = TRUSTING.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("wss://127.0.0.1:" + TLS_PORT + "/session"), client).join();
        assertThat(client.next().get("type").asText()).isEqualTo("session_started");
        assertThat(client.until("session.created").path("session").path("id").asText()).isEqualTo("sess_up");

        ws.sendText("""
                {"type":"response.create","test_script":[{"type":"response.done","response":{"id":"resp_1",
                 "status":"completed","output":[],"usage":{"total_tokens":1500,"input_tokens":1000,"output_tokens":500,
                 "input_token_details":{"text_tokens":0,"audio_tokens":1000,"cached_tokens":0},
                 "output_token_details":{"text_tokens":0,"audio_tokens":500}}}}]}""", true).join();
        JsonNode update = client.until("usage_update");
        // 1000 input tokens at 100 USD and 500 output tokens at 200 USD per 1M
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo("0.20");
        assertThat(UPSTREAM.connections()).anySatisfy(c -> assertThat(c.authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("ducke-tls");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FakeUpstream upstream() {
        try {
            return new FakeUpstream();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Records the text messages of one connection. */
    private static final class Listener implements WebSocket.Listener {
        private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        JsonNode next() throws Exception {
            String text = texts.poll(10, TimeUnit.SECONDS);
            assertThat(text).as("a message within 10 s").isNotNull();
            return JSON.readTree(text);
        }

        JsonNode until(String type) throws Exception {
            JsonNode event = next();
            while (!event.path("type").asText().equals(type)) {
                event = next();
            }
            return event;
        }
    }
}
