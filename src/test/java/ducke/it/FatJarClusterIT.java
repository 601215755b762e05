package ducke.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.testing.JarNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Runs the shaded jar exactly as an operator would ({@code java -jar target/duck-e.jar server config.yml},
 * configured only through environment variables) twice, side by side, and checks that the two nodes
 * form one Hazelcast cluster, share one rate limit and stop cleanly on SIGTERM.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FatJarClusterIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration JOIN_DEADLINE = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL_PAUSE = Duration.ofMillis(250);
    private static final int STATUS_LIMIT = 10;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private static JarNode nodeA;
    private static JarNode nodeB;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        Path jar = JarNode.jar();
        Path baseDir = JarNode.projectDir();
        Path logDir = JarNode.logDir();

        int[] ports = JarNode.freePorts(6);
        String clusterName = "ducke-it-" + UUID.randomUUID().toString().substring(0, 8);
        String members = "127.0.0.1:" + ports[2] + ",127.0.0.1:" + ports[5];

        // both processes first, then wait for both: the members find each other while they boot
        nodeA = launch(jar, baseDir, logDir, "node-a", ports[0], ports[1], ports[2], clusterName, members);
        nodeB = launch(jar, baseDir, logDir, "node-b", ports[3], ports[4], ports[5], clusterName, members);
        System.out.println("[FatJarClusterIT] cluster '" + clusterName + "': " + nodeA.describe() + "; " + nodeB.describe());

        long started = System.nanoTime();
        awaitStatus(nodeA, START_DEADLINE, "serve GET /status", status -> true);
        awaitStatus(nodeB, START_DEADLINE, "serve GET /status", status -> true);
        for (JarNode n : List.of(nodeA, nodeB)) {
            // ready: the new cluster's spend state is rebuilt from the audit store
            n.awaitStatus(START_DEADLINE, POLL_PAUSE, "be ready", s -> true, forwardedFor -> n.http().get("/health/ready"));
        }
        System.out.printf("[FatJarClusterIT] both nodes serving after %d ms%n", JarNode.millisSince(started));
    }

    @AfterAll
    static void stopNodes() throws Exception {
        List<String> problems = stopAll();
        if (!problems.isEmpty()) {
            fail(String.join("\n\n", problems));
        }
    }

    @Test
    @Order(1)
    void twoJarsListingEachOtherFormOneCluster() throws Exception {
        long started = System.nanoTime();
        JsonNode a = awaitClusterOfTwo(nodeA);
        JsonNode b = awaitClusterOfTwo(nodeB);
        System.out.printf("[FatJarClusterIT] both nodes see 2 members after %d ms more%n", JarNode.millisSince(started));

        assertThat(a.path("node").asText()).isEqualTo("node-a");
        assertThat(b.path("node").asText()).isEqualTo("node-b");
        assertThat(a.path("cluster").asText()).isEqualTo(b.path("cluster").asText()).startsWith("ducke-it-");
        assertThat(a.path("cluster_healthy").asBoolean()).as("node-a cluster_healthy").isTrue();
        assertThat(b.path("cluster_healthy").asBoolean()).as("node-b cluster_healthy").isTrue();
    }

    @Test
    @Order(2)
    void bothNodesShareOneRateLimit() throws Exception {
        awaitClusterOfTwo(nodeA);
        awaitClusterOfTwo(nodeB);

        // warm the grid path on both nodes with a client of its own, so that no first-call latency
        // makes a check time out (and fail open) during the counted sequence
        for (JarNode node : List.of(nodeA, nodeB)) {
            HttpResponse<String> warm = status(node, "203.0.113.250");
            assertThat(warm.statusCode()).as("warm-up on %s: %s", node.name(), warm.body()).isEqualTo(200);
            assertThat(warm.headers().firstValue("RateLimit")).as("RateLimit header on warm-up").isPresent();
        }

        String client = "203.0.113.7";
        int attempts = 2 * STATUS_LIMIT + 4;
        List<Integer> codes = new ArrayList<>();
        List<Long> remaining = new ArrayList<>();
        List<String> trace = new ArrayList<>();
        Map<String, Integer> deniedPerNode = new HashMap<>();
        for (int i = 0; i < attempts; i++) {
            JarNode node = i % 2 == 0 ? nodeA : nodeB;
            HttpResponse<String> r = status(node, client);
            String rateLimit = r.headers().firstValue("RateLimit").orElse(null);
            codes.add(r.statusCode());
            trace.add("#" + (i + 1) + " " + node.name() + " -> " + r.statusCode() + " RateLimit=" + rateLimit
                    + " Retry-After=" + r.headers().firstValue("Retry-After").orElse(null));
            if (r.statusCode() == 200) {
                assertThat(rateLimit).as("RateLimit on a 200 (no header = the bucket was not consulted)\n%s",
                        String.join("\n", trace)).isNotNull().contains("limit=" + STATUS_LIMIT);
                remaining.add(remainingOf(rateLimit));
            } else if (r.statusCode() == 429) {
                deniedPerNode.merge(node.name(), 1, Integer::sum);
                String retryAfter = r.headers().firstValue("Retry-After").orElse(null);
                assertThat(retryAfter).as("Retry-After on a 429 from %s", node.name()).isNotNull().matches("[0-9]+");
                assertThat(Long.parseLong(retryAfter)).as("Retry-After seconds").isPositive().isLessThanOrEqualTo(60);
                assertThat(rateLimit).as("RateLimit on a 429 from %s", node.name()).isNotNull()
                        .contains("limit=" + STATUS_LIMIT).contains("remaining=0");
                assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("rate_limit_exceeded");
            }
        }
        String sequence = String.join("\n", trace);

        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < attempts; i++) {
            expected.add(i < STATUS_LIMIT ? 200 : 429);
        }
        assertThat(codes).as("one limit of %d shared by both nodes, requests alternating A/B:\n%s",
                STATUS_LIMIT, sequence).isEqualTo(expected);
        List<Long> expectedRemaining = new ArrayList<>();
        for (long left = STATUS_LIMIT - 1; left >= 0; left--) {
            expectedRemaining.add(left);
        }
        assertThat(remaining).as("remaining counts down across both nodes:\n%s", sequence).isEqualTo(expectedRemaining);
        assertThat(deniedPerNode).as("429 answered by both nodes").containsKeys("node-a", "node-b");

        // another client has its own bucket, on both nodes
        for (JarNode node : List.of(nodeA, nodeB)) {
            HttpResponse<String> other = status(node, "203.0.113.8");
            assertThat(other.statusCode()).as("a different client on %s: %s", node.name(), other.body()).isEqualTo(200);
        }
    }

    @Test
    @Order(3)
    void sigtermStopsBothNodes() throws Exception {
        List<String> problems = stopAll();
        assertThat(problems).as("every node exits within %s of SIGTERM", STOP_TIMEOUT).isEmpty();
        assertThat(nodeA.process().isAlive()).isFalse();
        assertThat(nodeB.process().isAlive()).isFalse();
        System.out.printf("[FatJarClusterIT] exit codes after SIGTERM: node-a %d, node-b %d%n",
                nodeA.process().exitValue(), nodeB.process().exitValue());
    }

    // ---------------------------------------------------------------- processes

    private static JarNode launch(Path jar, Path baseDir, Path logDir, String name, int httpPort, int adminPort,
                                  int hazelcastPort, String clusterName, String members) throws IOException {
        Map<String, String> env = JarNode.portsEnv(httpPort, adminPort, hazelcastPort);
        env.put("HAZELCAST_MEMBERS", members);
        env.put("HAZELCAST_CLUSTER_NAME", clusterName);
        env.put("HAZELCAST_INTERFACES", "127.0.0.1");
        // a cluster needs tokens shared by its nodes
        env.put("DUCKE_SERVICE_TOKEN", "it-service-token-0123456789");
        env.put("DUCKE_OPERATOR_TOKEN", "it-operator-token-0123456789");
        env.put("RATE_LIMIT_STATUS", STATUS_LIMIT + "/minute");
        // two nodes share a working directory: never let them share a data directory
        env.put("DUCKE_DATA_DIR", baseDir.resolve("target/it-data/" + name).toString());
        return JarNode.launch(jar, baseDir, logDir, "", name, env);
    }

    /** SIGTERM to every live node at once, then wait; stragglers are killed and reported. */
    private static synchronized List<String> stopAll() throws InterruptedException {
        List<JarNode> nodes = new ArrayList<>();
        for (JarNode n : new JarNode[] {nodeA, nodeB}) {
            if (n != null) {
                nodes.add(n);
            }
        }
        return JarNode.stopAll(nodes, STOP_TIMEOUT);
    }

    // ---------------------------------------------------------------- polling

    private static JsonNode awaitClusterOfTwo(JarNode node) throws Exception {
        return awaitStatus(node, JOIN_DEADLINE, "report cluster_members 2",
                status -> status.path("cluster_members").asInt() == 2);
    }

    private static JsonNode awaitStatus(JarNode node, Duration within, String what, Predicate<JsonNode> condition)
            throws Exception {
        return node.awaitStatus(within, POLL_PAUSE, what, condition, forwardedFor -> status(node, forwardedFor));
    }

    private static HttpResponse<String> status(JarNode node, String forwardedFor) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(node.uri("/status"))
                .timeout(Duration.ofSeconds(5))
                .header("X-Forwarded-For", forwardedFor)
                .GET()
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static final Pattern REMAINING = Pattern.compile("remaining=(\\d+)");

    private static long remainingOf(String rateLimitHeader) {
        Matcher m = REMAINING.matcher(rateLimitHeader);
        assertThat(m.find()).as("remaining= in RateLimit: %s", rateLimitHeader).isTrue();
        return Long.parseLong(m.group(1));
    }
}
