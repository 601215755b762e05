package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.testing.Http;
import ducke.testing.JarNode;
import ducke.testing.Poll;
import ducke.testing.TestKeystore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The upstream over {@code wss://}, as the provider speaks it, from the real jar: the relay's reads
 * on the selector thread ({@link SelectorReads}) run beneath Jetty's TLS layer there, which no
 * in-process test covers (they use {@code ws://}). One node trusts the stand-in's certificate the
 * way an operator trusts a private CA (the JVM's {@code javax.net.ssl.trustStore}): a burst of
 * audio and items reaches the upstream whole and in order, and a response is charged exactly what
 * the stand-in billed. A second node with the JVM's own trust store refuses the same upstream: the
 * client gets {@code upstream_unavailable}, the session is not charged, and the node's log names
 * the certificate problem.
 */
class UpstreamTlsIT {

    private static final String KEY = "it-upstream-key";

    @Test
    void theRelayRunsOverTlsToTheUpstreamAndRefusesAnUntrustedCertificate(@TempDir Path dir) throws Exception {
        Path jar = JarNode.jar();
        Path baseDir = JarNode.projectDir();
        Path logDir = JarNode.logDir();
        TestKeystore keystore = TestKeystore.create(dir);
        try (FakeUpstream upstream = new FakeUpstream(keystore)) {
            assertThat(upstream.url()).startsWith("wss://");
            JarNode trusting = JarNode.launch(jar, baseDir, logDir, "upstream-tls-", "trusting", env(dir.resolve("a"), upstream,
                    "-Djavax.net.ssl.trustStore=" + keystore.path() + " -Djavax.net.ssl.trustStorePassword="
                            + keystore.password() + " -Djavax.net.ssl.trustStoreType=PKCS12"));
            JarNode untrusting = JarNode.launch(jar, baseDir, logDir, "upstream-tls-", "untrusting",
                    env(dir.resolve("b"), upstream, null));
            try {
                trusting.awaitStatus(Duration.ofSeconds(120), Duration.ofMillis(200), "serve GET /status", s -> true);
                untrusting.awaitStatus(Duration.ofSeconds(120), Duration.ofMillis(200), "serve GET /status", s -> true);
                relaysOverTls(trusting, upstream);
                refusesAnUntrustedUpstream(untrusting, upstream);
            } finally {
                JarNode.stopAll(List.of(trusting, untrusting), Duration.ofSeconds(60));
            }
            assertThat(Files.readString(trusting.log()))
                    .as("the relay's reads moved to the selector thread")
                    .doesNotContain("Relayed WebSockets are read on pool threads");
        }
    }

    private static Map<String, String> env(Path data, FakeUpstream upstream, String jvmFlags) throws Exception {
        int[] ports = JarNode.freePorts(3);
        Map<String, String> env = JarNode.portsEnv(ports[0], ports[1], ports[2]);
        env.put("DUCKE_DATA_DIR", Files.createDirectories(data).toString());
        env.put("DUCKE_SERVICE_TOKEN", "it-service-token-0123456789");
        env.put("DUCKE_OPERATOR_TOKEN", "it-operator-token-0123456789");
        env.put("UPSTREAM_URL", upstream.url());
        env.put("OPENAI_API_KEY", KEY);
        if (jvmFlags != null) {
            env.put("JAVA_TOOL_OPTIONS", jvmFlags);
        }
        return env;
    }

    private static void relaysOverTls(JarNode node, FakeUpstream upstream) throws Exception {
        int before = upstream.connections().size();
        WsClient c = WsClient.connect(node.httpPort(), "");
        c.started = c.nextEvent();
        assertThat(c.started.path("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        FakeUpstream.Connection up = upstream.connections().get(before);
        assertThat(up.authorization).isEqualTo("Bearer " + KEY);

        List<String> sent = new ArrayList<>();
        int items = 0;
        for (int i = 0; i < 300; i++) {
            String frame = i % 50 == 20
                    ? "{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\","
                            + "\"content\":[{\"type\":\"input_text\",\"text\":\"turn " + items++ + "\"}]}}"
                    : "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "QUJD".repeat(2_000) + i + "\"}";
            sent.add(frame);
            c.send(frame);
        }
        Poll.until("the upstream received every frame", Duration.ofSeconds(60), Duration.ofMillis(20),
                () -> "received " + up.received.size(),
                () -> relayed(up).size() == sent.size());
        assertThat(relayed(up)).containsExactlyElementsOf(sent);
        for (int i = 0; i < items; i++) {
            assertThat(c.until("conversation.item.created").at("/item/content/0/text").asText()).isEqualTo("turn " + i);
        }

        c.send("{\"type\":\"response.create\",\"test_want_output\":400}");
        JsonNode update = c.until("usage_update");
        long billed = 0;
        for (JsonNode usage : up.billed) {
            billed += PriceTable.defaults().price("gpt-realtime", RealtimeEvents.usage(usage)).costNanoUsd();
        }
        assertThat(billed).isPositive();
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo(Money.usd(billed));
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }

    private static List<String> relayed(FakeUpstream.Connection up) {
        return up.received.stream().filter(f -> !f.contains("\"session.update\"")).toList();
    }

    private static void refusesAnUntrustedUpstream(JarNode node, FakeUpstream upstream) throws Exception {
        int before = upstream.connections().size();
        WsClient c = WsClient.connect(node.httpPort(), "");
        c.started = c.nextEvent();
        JsonNode error = c.until("error");
        assertThat(error.at("/error/type").asText()).isEqualTo("upstream_unavailable");
        assertThat(c.awaitClose()).isEqualTo(1011);
        assertThat(upstream.connections()).as("no upgrade reached the stand-in").hasSize(before);
        String id = c.started.path("session_id").asText();
        AtomicReference<JsonNode> session = new AtomicReference<>();
        Poll.until("the session ended", Duration.ofSeconds(30), Duration.ofMillis(50), () -> "session " + session.get(),
                () -> {
                    session.set(Http.json(node.http().get("/v1/sessions/" + id,
                            "Authorization", "Bearer it-service-token-0123456789")));
                    return "upstream_error".equals(session.get().path("end_reason").asText());
                });
        assertThat(session.get().get("cost_usd").decimalValue()).isEqualByComparingTo(BigDecimal.ZERO);
        Poll.until("the log names the certificate problem", Duration.ofSeconds(30), Duration.ofMillis(50),
                node::logTail,
                () -> Files.readString(node.log()).contains("cannot be reached: ")
                        && Files.readString(node.log()).matches("(?s).*cannot be reached: \\w*(Cert|SSL|Validator)\\w*Exception.*"));
    }
}
