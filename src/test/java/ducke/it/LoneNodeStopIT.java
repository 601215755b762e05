package ducke.it;

import ducke.testing.Http;
import ducke.testing.JarNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A lone node on its embedded defaults (H2 file with AUTO_SERVER) stopped with SIGTERM while
 * sessions are live: every session gets its final record (node_shutdown, its whole cost) before
 * the process exits, although H2 would close itself in a shutdown hook of its own. Checkpoints are
 * an hour apart here, so the records can only come from the stop itself.
 */
class LoneNodeStopIT {

    private static final String SERVICE = "Bearer it-service-token-0123456789";

    @Test
    void sigtermWritesEveryLiveSessionsFinalRecordToTheEmbeddedDatabase(@TempDir Path data) throws Exception {
        Path jar = JarNode.jar();
        Path baseDir = JarNode.projectDir();
        Path logDir = JarNode.logDir();
        int[] ports = JarNode.freePorts(3);
        Map<String, String> env = JarNode.portsEnv(ports[0], ports[1], ports[2]);
        env.put("DUCKE_DATA_DIR", data.toString());
        env.put("DUCKE_SERVICE_TOKEN", "it-service-token-0123456789");
        env.put("DUCKE_OPERATOR_TOKEN", "it-operator-token-0123456789");
        env.put("AUDIT_CHECKPOINT_INTERVAL", "1h");
        JarNode node = JarNode.launch(jar, baseDir, logDir, "lone-stop-", "lone", env);
        try {
            node.awaitStatus(Duration.ofSeconds(120), Duration.ofMillis(200), "serve GET /status", s -> true);
            Http http = node.http();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> started = http.post("/v1/sessions", "{\"client_id\":\"203.0.113." + (10 + i) + "\"}",
                        "Authorization", SERVICE);
                assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
                String id = Http.json(started).get("session_id").asText();
                HttpResponse<String> usage = http.post("/v1/sessions/" + id + "/usage",
                        "{\"input_tokens\":3000,\"output_tokens\":1000}", "Authorization", SERVICE);
                assertThat(usage.statusCode()).as(usage.body()).isEqualTo(200);
                ids.add(id);
            }
            node.process().destroy(); // SIGTERM
            assertThat(node.process().waitFor(60, TimeUnit.SECONDS)).as("the node exits after SIGTERM").isTrue();
            String log = Files.readString(node.log());
            assertThat(log).doesNotContain("Database is already closed").contains("Last member stopping: ended 3 live session(s)");

            Map<String, String> rows = new HashMap<>();
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + data.resolve("ducke-audit"), "sa", "");
                 Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT session_id, end_reason, cost_usd, is_open FROM audit_sessions")) {
                while (r.next()) {
                    assertThat(r.getBoolean("is_open")).as("final, not a checkpoint").isFalse();
                    assertThat(r.getBigDecimal("cost_usd")).isEqualByComparingTo(new BigDecimal("0.50"));
                    rows.put(r.getString("session_id"), r.getString("end_reason"));
                }
            }
            assertThat(rows).containsOnlyKeys(ids).containsValues("node_shutdown").hasSize(3);
            assertThat(rows.values()).containsOnly("node_shutdown");
        } finally {
            if (node.process().isAlive()) {
                node.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
