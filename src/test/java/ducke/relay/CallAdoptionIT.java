package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.testing.Http;
import ducke.testing.JarNode;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A WebRTC call outlives the node that created it, with real processes: two fat jars form one
 * cluster (a quorum of one, so the survivor may reap), node a creates a call and meters a response
 * through its sideband, then dies (SIGKILL: no drain, no hang-up). Node b, reaping the call's
 * ledger, takes the session over and re-attaches the sideband with the provider's call id; the
 * caller's next response is charged by b, exactly, and the {@code end-session} task on b hangs the
 * call up. The stand-in provider ({@link FakeUpstream}) runs in the test's JVM.
 */
class CallAdoptionIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration POLL_PAUSE = Duration.ofMillis(200);
    private static final String SERVICE_TOKEN = "it-service-token-0123456789";
    private static final String OPERATOR_TOKEN = "it-operator-token-0123456789";
    /** config.yml's gpt-realtime prices, USD per 1M tokens: the test's own arithmetic. */
    private static final BigDecimal INPUT_PER_M = new BigDecimal("100.00");
    private static final BigDecimal OUTPUT_PER_M = new BigDecimal("200.00");

    private static FakeUpstream upstream;
    private final List<JarNode> nodes = new ArrayList<>();

    @BeforeAll
    static void startUpstream() throws Exception {
        upstream = new FakeUpstream();
    }

    @AfterAll
    static void stopUpstream() throws Exception {
        upstream.close();
    }

    @AfterEach
    void stopNodes() throws Exception {
        List<String> problems = JarNode.stopAll(nodes, Duration.ofSeconds(30));
        if (!problems.isEmpty()) {
            fail(String.join("\n\n", problems));
        }
    }

    private JarNode launch(String name, int[] ports, String members, String cluster) throws Exception {
        Map<String, String> env = JarNode.portsEnv(ports[0], ports[1], ports[2]);
        env.put("HAZELCAST_INTERFACES", "127.0.0.1");
        env.put("HAZELCAST_CLUSTER_NAME", cluster);
        env.put("HAZELCAST_MEMBERS", members);
        env.put("HAZELCAST_MIN_CLUSTER_SIZE", "1");
        env.put("HAZELCAST_MAX_NO_HEARTBEAT", "5s");
        env.put("UPSTREAM_URL", upstream.url());
        env.put("OPENAI_API_KEY", ducke.testing.TestApps.UPSTREAM_KEY);
        env.put("RELAY_CLIENT_AUTH", "required");
        env.put("DUCKE_SERVICE_TOKEN", SERVICE_TOKEN);
        env.put("DUCKE_OPERATOR_TOKEN", OPERATOR_TOKEN);
        env.put("DUCKE_DATA_DIR", JarNode.projectDir().resolve("target/it-data/calls-" + name + "-" + UUID.randomUUID()).toString());
        Path logDir = JarNode.logDir();
        JarNode node = JarNode.launch(JarNode.jar(), JarNode.projectDir(), logDir, "CallAdoptionIT-", name, env);
        nodes.add(node);
        return node;
    }

    private static BigDecimal priced(JsonNode usage) {
        return BigDecimal.valueOf(usage.path("input_tokens").asLong()).multiply(INPUT_PER_M)
                .add(BigDecimal.valueOf(usage.path("output_tokens").asLong()).multiply(OUTPUT_PER_M))
                .divide(BigDecimal.valueOf(1_000_000));
    }

    private static JsonNode session(JarNode n, String id) {
        return Http.json(n.http().get("/v1/sessions/" + id, "Authorization", "Bearer " + SERVICE_TOKEN));
    }

    @Test
    void aCallWhoseNodeDiesIsTakenOverByAnotherNodeAndStaysMeteredAndCapped() throws Exception {
        int[] pa = JarNode.freePorts(3);
        int[] pb = JarNode.freePorts(3);
        String members = "127.0.0.1:" + pa[2] + ",127.0.0.1:" + pb[2];
        String cluster = "ducke-it-calls-" + UUID.randomUUID().toString().substring(0, 8);
        JarNode a = launch("calls-a", pa, members, cluster);
        JarNode b = launch("calls-b", pb, members, cluster);
        for (JarNode n : List.of(a, b)) {
            n.awaitStatus(START_DEADLINE, POLL_PAUSE, "report two members", s -> s.path("cluster_members").asInt() == 2);
            n.awaitStatus(START_DEADLINE, POLL_PAUSE, "be ready", s -> true, forwardedFor -> n.http().get("/health/ready"));
        }

        // a call created on a, with a secret minted there
        HttpResponse<String> minted = a.http().post("/v1/realtime/client_secrets", "{\"client_id\":\"caller-1\"}",
                "Authorization", "Bearer " + SERVICE_TOKEN);
        assertThat(minted.statusCode()).as(minted.body()).isEqualTo(201);
        String secret = Http.json(minted).path("value").asText();
        HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(a.uri("/v1/realtime/calls"))
                        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/sdp")
                        .header("Authorization", "Bearer " + secret)
                        .POST(HttpRequest.BodyPublishers.ofString(CallsAppTest.SDP)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();
        String sessionId = location.substring(location.lastIndexOf('/') + 1);
        FakeUpstream.Call call = upstream.lastCall();
        Poll.until("the sideband attached from a", Duration.ofSeconds(20), POLL_PAUSE, call::attached);

        // a response through a
        call.callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_a\",\"test_want_output\":300}");
        Poll.until("the first response charged", Duration.ofSeconds(20), POLL_PAUSE, a::logTail,
                () -> session(b, sessionId).path("charged_responses").asInt() == 1);

        // a dies: no drain, no hang-up, its sideband drops with it
        a.process().destroyForcibly();
        assertThat(a.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        nodes.remove(a);
        long died = System.nanoTime();
        Poll.until("b re-attached the call's sideband", Duration.ofSeconds(60), POLL_PAUSE, b::logTail,
                () -> call.attaches.size() >= 2 && call.attached());
        long tookOverMillis = JarNode.millisSince(died);
        assertThat(call.hungUp()).as("the call goes on").isFalse();
        JsonNode live = session(b, sessionId);
        assertThat(live.path("status").asText()).isEqualTo("active");

        // the caller's next response is metered by b
        call.callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_b\",\"test_want_output\":200}");
        Poll.until("the second response charged", Duration.ofSeconds(20), POLL_PAUSE, b::logTail,
                () -> session(b, sessionId).path("charged_responses").asInt() == 2);
        BigDecimal billed = BigDecimal.ZERO;
        for (JsonNode usage : call.events.billed) {
            billed = billed.add(priced(usage));
        }
        assertThat(call.events.billed).hasSize(2);
        assertThat(session(b, sessionId).path("cost_usd").decimalValue()).isEqualByComparingTo(billed);

        // and an operator ends it from b: hung up at the provider
        HttpResponse<String> ended = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + b.adminPort() + "/tasks/end-session?id=" + sessionId))
                        .header("Authorization", "Bearer " + OPERATOR_TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
        Poll.until("the call hung up", Duration.ofSeconds(20), POLL_PAUSE, b::logTail, call::hungUp);
        JsonNode last = session(b, sessionId);
        assertThat(last.path("end_reason").asText()).isEqualTo("admin_ended");
        assertThat(last.path("cost_usd").decimalValue()).isEqualByComparingTo(billed);
        System.out.printf("calls|node death → sideband re-attached by another node in %d ms; billed %s = ledger %s%n",
                tookOverMillis, billed.toPlainString(), last.path("cost_usd").decimalValue().toPlainString());
    }
}
