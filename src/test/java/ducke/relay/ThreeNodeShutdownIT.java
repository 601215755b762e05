package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.testing.Http;
import ducke.testing.JarNode;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Issue 6, end to end with real processes: three fat jars ({@code java -jar target/duck-e.jar server
 * config.yml}, configured only through the environment) form one cluster and share one PostgreSQL
 * audit store. Node c relays two realtime sessions and is stopped with SIGTERM. Its clients get
 * {@code service_unavailable} / {@code node_shutdown} and a 1012 close (a drain of zero: SIGTERM ends live
 * sessions at once; {@code DrainSigtermIT} tests a drain that waits), the sessions' ledgers and
 * audit rows say {@code node_shutdown}, and a tool quota and an API session ledger that live in the
 * grid are unchanged on the two remaining nodes.
 */
class ThreeNodeShutdownIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration AUDIT_DEADLINE = Duration.ofSeconds(20);
    private static final Duration POLL_PAUSE = Duration.ofMillis(200);

    private static final String SERVICE_TOKEN = "it-service-token-0123456789";
    private static final String OPERATOR_TOKEN = "it-operator-token-0123456789";
    private static final String SERVICE = "Bearer " + SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + OPERATOR_TOKEN;
    private static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String PG_USER = "postgres";

    private static final String QUOTA_CLIENT = "198.51.100.77";
    private static final String API_CLIENT = "198.51.100.80";
    private static final String WS_CLIENT_1 = "198.51.100.71";
    private static final String WS_CLIENT_2 = "198.51.100.72";

    private static FakeUpstream upstream;
    private static String schema;
    private static final List<JarNode> NODES = new ArrayList<>();
    private static JarNode a;
    private static JarNode b;
    private static JarNode c;

    @BeforeAll
    static void startThreeNodes() throws Exception {
        long started = System.nanoTime();
        Path jar = JarNode.jar();
        Path baseDir = JarNode.projectDir();
        Path logDir = JarNode.logDir();

        upstream = new FakeUpstream();
        // Flyway creates the schema named by currentSchema when the first node starts
        schema = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection db = DriverManager.getConnection(PG_URL, PG_USER, "")) {
            assertThat(db.isValid(5)).as("PostgreSQL at %s", PG_URL).isTrue();
        }

        int[] ports = JarNode.freePorts(9);
        String clusterName = "ducke-it-shutdown-" + UUID.randomUUID().toString().substring(0, 8);
        String members = "127.0.0.1:" + ports[2] + ",127.0.0.1:" + ports[5] + ",127.0.0.1:" + ports[8];
        String dbUrl = PG_URL + "?currentSchema=" + schema;

        // all three processes first, then wait: the members find each other while they boot
        a = launch(jar, baseDir, logDir, "node-a", ports[0], ports[1], ports[2], clusterName, members, dbUrl);
        b = launch(jar, baseDir, logDir, "node-b", ports[3], ports[4], ports[5], clusterName, members, dbUrl);
        c = launch(jar, baseDir, logDir, "node-c", ports[6], ports[7], ports[8], clusterName, members, dbUrl);
        log("cluster '%s', audit schema %s, upstream %s:%n  %s%n  %s%n  %s", clusterName, schema, upstream.url(),
                a.describe(), b.describe(), c.describe());

        for (JarNode n : List.of(a, b, c)) {
            awaitStatus(n, START_DEADLINE, "report cluster_members 3", s -> s.path("cluster_members").asInt() == 3);
        }
        for (JarNode n : List.of(a, b, c)) {
            // ready: the new cluster's spend state is rebuilt from the audit store
            n.awaitStatus(START_DEADLINE, POLL_PAUSE, "be ready", s -> true, forwardedFor -> n.http().get("/health/ready"));
        }
        log("three nodes serving, cluster of 3, after %d ms", JarNode.millisSince(started));
    }

    @AfterAll
    static void stopEverything() throws Exception {
        List<String> problems = new ArrayList<>(JarNode.stopAll(NODES, STOP_TIMEOUT));
        if (upstream != null) {
            upstream.close();
        }
        if (schema != null) {
            try (Connection db = DriverManager.getConnection(PG_URL, PG_USER, ""); Statement s = db.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            } catch (SQLException e) {
                problems.add("could not drop schema " + schema + ": " + e);
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n\n", problems));
        }
    }

    @Test
    void sigtermOnOneOfThreeNodesEndsItsSessionsWithNodeShutdownAndTheClusterKeepsItsState() throws Exception {
        long testStarted = System.nanoTime();
        // warm the grid path of each node with clients of its own, so that no first-call latency
        // makes a limit check time out (and fail open) during the counted sequences
        int warmClient = 20;
        for (JarNode n : List.of(a, b, c)) {
            HttpResponse<String> warm = toolCall(n, "203.0.113." + warmClient++);
            assertThat(warm.statusCode()).as("warm-up on %s: %s", n.name(), warm.body()).isEqualTo(200);
        }

        // ---- 1. state held by the cluster: a spent tool quota (via a) and an API session's ledger (via b)
        long quotaSpent = System.nanoTime();
        for (int i = 1; i <= 5; i++) {
            HttpResponse<String> r = toolCall(a, QUOTA_CLIENT);
            assertThat(r.statusCode()).as("web_search call %d of 5 on node-a: %s", i, r.body()).isEqualTo(200);
            assertThat(Http.json(r).path("remaining").asInt()).as("remaining after call %d", i).isEqualTo(5 - i);
        }
        HttpResponse<String> sixth = toolCall(a, QUOTA_CLIENT);
        assertThat(sixth.statusCode()).as("6th web_search call on node-a: %s", sixth.body()).isEqualTo(429);
        assertThat(Http.json(sixth).path("error").asText()).isEqualTo("rate_limit_exceeded");

        HttpResponse<String> opened = b.http().post("/v1/sessions", "{\"client_id\":\"" + API_CLIENT + "\"}",
                "Authorization", SERVICE);
        assertThat(opened.statusCode()).as("POST /v1/sessions on node-b: %s", opened.body()).isEqualTo(201);
        String apiSession = Http.json(opened).path("session_id").asText();
        assertThat(apiSession).isNotBlank();
        JsonNode firstUsage = usage(b, apiSession);
        assertThat(firstUsage.path("call_cost").decimalValue()).isEqualByComparingTo("0.30");
        assertThat(firstUsage.path("session_cost").decimalValue()).isEqualByComparingTo("0.30");
        assertThat(firstUsage.path("session_ended").asBoolean()).isFalse();

        // ---- 2. two realtime sessions relayed by node c, one of them already charged
        WsClient first = WsClient.connect(c.httpPort(), "", "X-Forwarded-For", WS_CLIENT_1);
        WsClient second = WsClient.connect(c.httpPort(), "", "X-Forwarded-For", WS_CLIENT_2);
        Map<WsClient, String> ids = new LinkedHashMap<>();
        for (WsClient ws : List.of(first, second)) {
            JsonNode started = ws.nextEvent();
            assertThat(started.path("type").asText()).as("first frame").isEqualTo("session_started");
            ids.put(ws, started.path("session_id").asText());
            assertThat(ws.until("session.created").path("type").asText()).isEqualTo("session.created");
        }
        String id1 = ids.get(first);
        String id2 = ids.get(second);
        assertThat(id1).isNotBlank().isNotEqualTo(id2);
        first.send(RelayAppTest.script(RelayAppTest.responseDone(1000, 0, 1000, 0)));
        JsonNode charged = first.until("usage_update");
        assertThat(charged.path("session_cost").decimalValue()).as("relayed usage charged").isEqualByComparingTo("0.30");
        second.send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"payload\":\"still here\"}}");
        assertThat(second.next().text()).as("second session relays frames").contains("conversation.item.created").contains("still here");
        for (String id : List.of(id1, id2)) {
            JsonNode live = Http.json(a.http().get("/v1/sessions/" + id, "Authorization", SERVICE));
            assertThat(live.path("status").asText()).as("session %s before the stop: %s", id, live).isEqualTo("active");
            assertThat(live.path("node").asText()).isEqualTo("node-c");
        }
        assertThat(upstream.openConnections()).as("upstream connections of the two sessions").isEqualTo(2);

        // ---- 3. SIGTERM to node c
        long stopStarted = System.nanoTime();
        c.process().destroy();
        boolean exited = c.process().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(exited).as("node-c exits within %s of SIGTERM\n%s", STOP_TIMEOUT, exited ? "" : c.logTail()).isTrue();
        log("node-c exited with code %d, %d ms after SIGTERM", c.process().exitValue(), JarNode.millisSince(stopStarted));

        // ---- 4. its clients were told, and closed with 1012
        for (WsClient ws : List.of(first, second)) {
            JsonNode event = ws.until("service_unavailable");
            assertThat(event.path("reason").asText()).as("service_unavailable of %s: %s", ids.get(ws), event)
                    .isEqualTo("node_shutdown");
            assertThat(ws.awaitClose()).as("close code of %s", ids.get(ws)).isEqualTo(1012);
        }
        awaitTrue(Duration.ofSeconds(10), "upstream connections of node-c's sessions closed",
                () -> upstream.openConnections() == 0);

        // ---- 5a. the ledgers and the shared audit store say node_shutdown
        for (String id : List.of(id1, id2)) {
            HttpResponse<String> r = a.http().get("/v1/sessions/" + id, "Authorization", SERVICE);
            assertThat(r.statusCode()).as("GET /v1/sessions/%s on node-a: %s", id, r.body()).isEqualTo(200);
            JsonNode s = Http.json(r);
            assertThat(s.path("status").asText()).as("status of %s: %s", id, s).isEqualTo("ended");
            assertThat(s.path("end_reason").asText()).as("end_reason of %s: %s", id, s).isEqualTo("node_shutdown");
            assertThat(s.path("node").asText()).isEqualTo("node-c");
        }
        JsonNode audit = awaitAudit(a, Set.of(id1, id2));
        Map<String, JsonNode> rows = new HashMap<>();
        for (JsonNode row : audit.path("sessions")) {
            assertThat(rows.put(row.path("session_id").asText(), row)).as("one audit row per session: %s", audit).isNull();
        }
        assertThat(rows.keySet()).as("audit rows with end_reason node_shutdown: %s", audit).containsExactlyInAnyOrder(id1, id2);
        for (JsonNode row : rows.values()) {
            assertThat(row.path("end_reason").asText()).isEqualTo("node_shutdown");
            assertThat(row.path("node").asText()).isEqualTo("node-c");
        }
        assertThat(rows.get(id1).path("client_id").asText()).isEqualTo(WS_CLIENT_1);
        assertThat(rows.get(id2).path("client_id").asText()).isEqualTo(WS_CLIENT_2);
        assertThat(rows.get(id1).path("cost_usd").decimalValue()).as("audited cost of the charged session")
                .isEqualByComparingTo("0.30");
        assertThat(rows.get(id2).path("cost_usd").decimalValue()).isEqualByComparingTo("0");

        // ---- 5b. the remaining nodes see a cluster of two
        for (JarNode n : List.of(a, b)) {
            awaitStatus(n, Duration.ofSeconds(30), "report cluster_members 2", s -> s.path("cluster_members").asInt() == 2);
        }

        // ---- 5c. the tool quota is still spent: asked on node-b, which has no local denial cached
        HttpResponse<String> afterStop = toolCall(b, QUOTA_CLIENT);
        assertThat(afterStop.statusCode()).as("web_search for %s on node-b after the stop: %s", QUOTA_CLIENT,
                afterStop.body()).isEqualTo(429);
        assertThat(Http.json(afterStop).path("error").asText()).isEqualTo("rate_limit_exceeded");
        // 5/hour: the first of the five calls comes back 720 s after it was made, not sooner and not later
        long sinceSpent = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - quotaSpent);
        assertThat(Long.parseLong(afterStop.headers().firstValue("Retry-After").orElse("0")))
                .as("Retry-After of the spent quota, %d s after it was spent", sinceSpent)
                .isBetween(720 - sinceSpent - 2, 720L);
        HttpResponse<String> otherClient = toolCall(b, "198.51.100.78");
        assertThat(otherClient.statusCode()).as("a different client on node-b: %s", otherClient.body()).isEqualTo(200);

        // ---- 5d. the API session's ledger is intact on node-b, and usage reported on node-a adds to it
        JsonNode ledger = Http.json(b.http().get("/v1/sessions/" + apiSession, "Authorization", SERVICE));
        assertThat(ledger.path("status").asText()).as("API session after the stop: %s", ledger).isEqualTo("active");
        assertThat(ledger.path("cost_usd").decimalValue()).as("API session cost after the stop: %s", ledger)
                .isEqualByComparingTo("0.30");
        assertThat(ledger.path("charged_responses").asInt()).isEqualTo(1);
        assertThat(ledger.path("node").asText()).isEqualTo("node-b");
        JsonNode secondUsage = usage(a, apiSession);
        assertThat(secondUsage.path("call_cost").decimalValue()).isEqualByComparingTo("0.30");
        assertThat(secondUsage.path("session_cost").decimalValue()).as("charged on top: %s", secondUsage)
                .isEqualByComparingTo("0.60");
        assertThat(secondUsage.path("session_ended").asBoolean()).isFalse();
        log("test body done in %d ms", JarNode.millisSince(testStarted));
    }

    // ---------------------------------------------------------------- requests

    private static HttpResponse<String> toolCall(JarNode n, String client) {
        return n.http().post("/v1/tools/web_search/calls", "{\"client_id\":\"" + client + "\"}", "Authorization", SERVICE);
    }

    private static JsonNode usage(JarNode n, String session) {
        HttpResponse<String> r = n.http().post("/v1/sessions/" + session + "/usage",
                "{\"input_tokens\":1000,\"output_tokens\":1000}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as("usage on %s for %s: %s", n.name(), session, r.body()).isEqualTo(200);
        return Http.json(r);
    }

    /** Polls the audit store through {@code node} until every id has a node_shutdown row. */
    private static JsonNode awaitAudit(JarNode n, Set<String> ids) throws Exception {
        String[] last = {"no answer yet"};
        JsonNode[] listed = new JsonNode[1];
        Poll.until("the audit store lists " + ids + " with end_reason node_shutdown", AUDIT_DEADLINE, POLL_PAUSE,
                () -> "last: " + last[0] + "\n" + a.logTail() + "\n" + b.logTail() + "\n" + c.logTail(), () -> {
                    HttpResponse<String> r = n.http().get("/v1/audit/sessions?end_reason=node_shutdown", "Authorization", OPERATOR,
                            "X-Forwarded-For", JarNode.pollClient());
                    last[0] = r.statusCode() + " " + r.body();
                    if (r.statusCode() != 200) {
                        return false;
                    }
                    listed[0] = Http.json(r);
                    Set<String> found = new HashSet<>();
                    listed[0].path("sessions").forEach(row -> found.add(row.path("session_id").asText()));
                    return found.containsAll(ids);
                });
        return listed[0];
    }

    // ---------------------------------------------------------------- processes

    private static JarNode launch(Path jar, Path baseDir, Path logDir, String name, int httpPort, int adminPort,
                                  int hazelcastPort, String clusterName, String members, String dbUrl) throws IOException {
        Map<String, String> env = JarNode.portsEnv(httpPort, adminPort, hazelcastPort);
        env.put("HAZELCAST_MEMBERS", members);
        env.put("HAZELCAST_INTERFACES", "127.0.0.1");
        env.put("HAZELCAST_CLUSTER_NAME", clusterName);
        env.put("UPSTREAM_URL", upstream.url());
        env.put("OPENAI_API_KEY", "it-key");
        env.put("DUCKE_SERVICE_TOKEN", SERVICE_TOKEN);
        env.put("DUCKE_OPERATOR_TOKEN", OPERATOR_TOKEN);
        env.put("COST_PROTECTION_SWEEP_INTERVAL", "100ms");
        env.put("DUCKE_DRAIN_TIMEOUT", "0s");
        env.put("DATABASE_URL", dbUrl);
        env.put("DATABASE_USER", PG_USER);
        // three nodes share a working directory: never let them share a data directory
        env.put("DUCKE_DATA_DIR", baseDir.resolve("target/it-data/shutdown-" + name).toString());
        JarNode node = JarNode.launch(jar, baseDir, logDir, "ThreeNodeShutdownIT-", name, env);
        NODES.add(node);
        return node;
    }

    // ---------------------------------------------------------------- polling

    private static JsonNode awaitStatus(JarNode n, Duration within, String what, Predicate<JsonNode> condition)
            throws Exception {
        return n.awaitStatus(within, POLL_PAUSE, what, condition);
    }

    private static void awaitTrue(Duration within, String what, Poll.Check check) throws Exception {
        Poll.until(what, within, POLL_PAUSE, check);
    }

    // ---------------------------------------------------------------- helpers

    private static void log(String format, Object... args) {
        System.out.printf("[ThreeNodeShutdownIT] " + format + "%n", args);
    }
}
