package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.testing.Http;
import ducke.testing.JarNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The draining stop of a real process ({@code java -jar target/duck-e.jar server config.yml}): SIGTERM
 * turns the node not ready and refuses new sessions (503 {@code node_draining}) while its live relayed
 * sessions go on and are charged; the drain ends by itself at {@code DUCKE_DRAIN_TIMEOUT} or at once
 * on a second SIGTERM, the rest end with close 1012 and their tails charged, the audit rows are
 * written, and the process exits 0.
 */
class DrainSigtermIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration EXIT_DEADLINE = Duration.ofSeconds(60);
    private static final Duration POLL_PAUSE = Duration.ofMillis(200);
    private static final String SERVICE_TOKEN = "it-service-token-0123456789";
    private static final String OPERATOR_TOKEN = "it-operator-token-0123456789";
    private static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String PG_USER = "postgres";

    private static FakeUpstream upstream;
    private static String schema;
    private final List<JarNode> nodes = new ArrayList<>();

    @BeforeAll
    static void upstreamAndSchema() throws Exception {
        upstream = new FakeUpstream();
        schema = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    @AfterEach
    void stopNodes() throws Exception {
        List<String> problems = JarNode.stopAll(nodes, Duration.ofSeconds(30));
        if (!problems.isEmpty()) {
            fail(String.join("\n\n", problems));
        }
    }

    @AfterAll
    static void dropSchema() throws Exception {
        upstream.close();
        try (Connection db = DriverManager.getConnection(PG_URL, PG_USER, ""); Statement s = db.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    private JarNode launch(String name, String drainTimeout) throws Exception {
        int[] ports = JarNode.freePorts(3);
        Map<String, String> env = JarNode.portsEnv(ports[0], ports[1], ports[2]);
        env.put("HAZELCAST_INTERFACES", "127.0.0.1");
        env.put("HAZELCAST_CLUSTER_NAME", "ducke-it-drain-" + UUID.randomUUID().toString().substring(0, 8));
        env.put("UPSTREAM_URL", upstream.url());
        env.put("OPENAI_API_KEY", "it-key");
        env.put("DUCKE_SERVICE_TOKEN", SERVICE_TOKEN);
        env.put("DUCKE_OPERATOR_TOKEN", OPERATOR_TOKEN);
        env.put("DUCKE_DRAIN_TIMEOUT", drainTimeout);
        env.put("DATABASE_URL", PG_URL + "?currentSchema=" + schema);
        env.put("DATABASE_USER", PG_USER);
        env.put("DUCKE_DATA_DIR", JarNode.projectDir().resolve("target/it-data/drain-" + name + "-" + UUID.randomUUID()).toString());
        Path logDir = JarNode.logDir();
        JarNode node = JarNode.launch(JarNode.jar(), JarNode.projectDir(), logDir, "DrainSigtermIT-", name, env);
        nodes.add(node);
        node.awaitStatus(START_DEADLINE, POLL_PAUSE, "serve", s -> "ok".equals(s.path("status").asText()));
        return node;
    }

    private static WsClient open(JarNode n, String client) throws Exception {
        WsClient c = WsClient.connect(n.httpPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        assertThat(c.started.path("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    private static void assertDraining(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(Http.json(r).path("error").asText()).isEqualTo("node_draining");
    }

    /** Waits for the first SIGTERM to have been handled: the node reports itself not ready. */
    private static void awaitDraining(JarNode n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (n.http().get("/health/ready").statusCode() != 503) {
            assertThat(System.nanoTime()).as("%s not ready after SIGTERM", n.name()).isLessThan(deadline);
            n.process().waitFor(POLL_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
        }
        assertDraining(n.http().get("/health/ready"));
    }

    private static int exitCode(JarNode n) throws Exception {
        assertThat(n.process().waitFor(EXIT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                .as("%s exits after its drain\n%s", n.name(), n.logTail()).isTrue();
        return n.process().exitValue();
    }

    /** The audit row of a session: end reason, charged responses, cost in USD. */
    private static String auditRow(String sessionId) throws Exception {
        try (Connection db = DriverManager.getConnection(PG_URL + "?currentSchema=" + schema, PG_USER, "");
             PreparedStatement q = db.prepareStatement(
                     "SELECT end_reason, charged_responses, cost_usd, is_open FROM audit_sessions WHERE session_id = ?")) {
            q.setString(1, sessionId);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? r.getString(1) + "|" + r.getInt(2) + "|" + r.getBigDecimal(3).stripTrailingZeros().toPlainString()
                        + "|" + r.getBoolean(4) : "missing";
            }
        }
    }

    @Test
    void sigtermDrainsLiveSessionsGoOnNewOnesAreRefusedAndASecondSigtermEndsTheRestWith1012() throws Exception {
        JarNode n = launch("second-term", "5m");
        WsClient finishing = open(n, "198.51.100.31");
        WsClient held = open(n, "198.51.100.32");
        String finishingId = finishing.started.path("session_id").asText();
        String heldId = held.started.path("session_id").asText();
        held.send("{\"type\":\"response.create\",\"test_hold\":true}");
        held.until("response.created");

        n.process().destroy();
        awaitDraining(n);
        assertDraining(WsClient.refused(n.httpPort(), "", "X-Forwarded-For", "198.51.100.33"));
        assertDraining(n.http().post("/v1/sessions", "{\"client_id\":\"198.51.100.34\"}", "Authorization", "Bearer " + SERVICE_TOKEN));

        // the live session goes on, is charged, and ends by itself
        finishing.send(RelayAppTest.script(RelayAppTest.responseDone(1000, 0, 1000, 0)));
        assertThat(finishing.until("usage_update").path("session_cost").decimalValue()).isEqualByComparingTo("0.30");
        finishing.ws.sendClose(1000, "done").join();
        assertThat(finishing.awaitClose()).isEqualTo(1000);
        // the close frame is echoed before the session's end is recorded: wait for the record
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"ended".equals(Http.json(n.http().get("/v1/sessions/" + finishingId, "Authorization", "Bearer " + SERVICE_TOKEN))
                .path("status").asText())) {
            assertThat(System.nanoTime()).as("session %s ended", finishingId).isLessThan(deadline);
            n.process().waitFor(POLL_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
        }
        assertThat(n.process().isAlive()).as("the node waits for its other session").isTrue();

        n.process().destroy();
        JsonNode event = held.until("service_unavailable");
        assertThat(event.path("reason").asText()).isEqualTo("node_shutdown");
        assertThat(held.until("error").at("/error/code").asText()).isEqualTo("service_unavailable");
        assertThat(held.awaitClose()).isEqualTo(1012);
        assertThat(exitCode(n)).isZero();

        assertThat(auditRow(finishingId)).isEqualTo("client_closed|1|0.3|false");
        assertThat(auditRow(heldId)).startsWith("node_shutdown|1|").endsWith("|false").doesNotContain("|0|");
    }

    @Test
    void theDrainTimeoutEndsTheRestWith1012AndTheProcessExitsZero() throws Exception {
        JarNode n = launch("timeout", "5s");
        WsClient held = open(n, "198.51.100.41");
        String heldId = held.started.path("session_id").asText();
        held.send("{\"type\":\"response.create\",\"test_hold\":true}");
        held.until("response.created");

        n.process().destroy();
        awaitDraining(n);
        JsonNode event = held.until("service_unavailable");
        assertThat(event.path("reason").asText()).isEqualTo("node_shutdown");
        assertThat(held.awaitClose()).isEqualTo(1012);
        assertThat(exitCode(n)).isZero();
        assertThat(auditRow(heldId)).startsWith("node_shutdown|1|").endsWith("|false");
    }

    @Test
    void aNodeWithoutRelayedSessionsStopsAtOnceOnSigterm() throws Exception {
        JarNode n = launch("idle", "5m");
        long before = System.nanoTime();
        n.process().destroy();
        assertThat(exitCode(n)).isZero();
        assertThat(n.logTail()).contains("Drained: no relayed session left");
        log("idle node exited %d ms after SIGTERM", (System.nanoTime() - before) / 1_000_000);
    }

    private static void log(String format, Object... args) {
        System.out.printf("[DrainSigtermIT] " + format + "%n", args);
    }
}
