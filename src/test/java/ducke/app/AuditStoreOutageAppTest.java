package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit database (an H2 TCP server) stopped under a running node and started again: audit
 * queries and budget changes answer 503 {@code audit_unavailable} with Retry-After and change
 * nothing, sessions are still admitted and charged (no SQL on their path), and everything answers
 * again once the database is back.
 */
class AuditStoreOutageAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private static final String CLIENT = "203.0.113.5";

    @TempDir
    Path baseDir;
    private int port;
    private Server server;
    private DropwizardTestSupport<DuckeConfiguration> app;
    private Http node;

    @BeforeEach
    void start() throws Exception {
        port = FreePorts.next();
        server = startServer();
        app = TestApps.support(MutableClock.at("2026-12-06T10:00:00Z"), "audit.url", "jdbc:h2:tcp://127.0.0.1:" + port + "/audit");
        app.before();
        node = Http.local(app.getLocalPort());
    }

    @AfterEach
    void stop() {
        app.after();
        server.stop();
    }

    private Server startServer() throws SQLException {
        return Server.createTcpServer("-tcpPort", Integer.toString(port), "-ifNotExists", "-baseDir", baseDir.toString()).start();
    }

    @Test
    void withTheDatabaseDownAuditAndBudgetWritesAre503AndChangeNothingWhileSessionsGoOn() throws Exception {
        assertThat(putBudget("2.00").statusCode()).isEqualTo(200);
        String id = startSession();
        assertThat(node.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        Poll.until("the session's audit row", Duration.ofSeconds(20), Duration.ofMillis(50), () -> "",
                () -> node.get("/v1/audit/sessions", "Authorization", OPERATOR).body().contains(id));

        server.stop();
        HttpResponse<String> query = node.get("/v1/audit/sessions", "Authorization", OPERATOR);
        assertThat(query.statusCode()).as(query.body()).isEqualTo(503);
        assertThat(Http.json(query).get("error").asText()).isEqualTo("audit_unavailable");
        assertThat(Http.json(query).get("retry_after_seconds").asInt()).isEqualTo(5);
        assertThat(query.headers().firstValue("Retry-After")).hasValue("5");
        HttpResponse<String> put = putBudget("9.00");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(503);
        assertThat(Http.json(put).get("error").asText()).isEqualTo("audit_unavailable");
        assertThat(Http.json(put).get("message").asText()).contains("nothing was changed");
        assertThat(dayLimit()).as("the grid kept the budget the database kept").isEqualByComparingTo("2.00");
        // no SQL on a session's path: admitted and charged as ever
        String during = startSession();
        HttpResponse<String> usage = node.post("/v1/sessions/" + during + "/usage",
                "{\"model\":\"gpt-5\",\"input_tokens\":1000,\"output_tokens\":1000}", "Authorization", SERVICE);
        assertThat(usage.statusCode()).as(usage.body()).isEqualTo(200);

        server = startServer();
        Poll.until("audit queries answer again", Duration.ofSeconds(30), Duration.ofMillis(100), () -> "",
                () -> node.get("/v1/audit/sessions", "Authorization", OPERATOR).statusCode() == 200);
        assertThat(putBudget("9.00").statusCode()).isEqualTo(200);
        assertThat(dayLimit()).isEqualByComparingTo("9.00");
    }

    private HttpResponse<String> putBudget(String dayUsd) {
        return node.put("/v1/clients/" + CLIENT + "/budget", "{\"day_usd\":\"" + dayUsd + "\"}", "Authorization", SERVICE);
    }

    private java.math.BigDecimal dayLimit() {
        JsonNode b = Http.json(node.get("/v1/clients/" + CLIENT + "/budget", "Authorization", SERVICE));
        return b.at("/day/limit_usd").decimalValue();
    }

    private String startSession() {
        HttpResponse<String> r = node.post("/v1/sessions", "{\"client_id\":\"" + CLIENT + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }
}
