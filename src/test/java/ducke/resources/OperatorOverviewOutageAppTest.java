package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.AuditStores;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's one read on PostgreSQL when the audit store cannot answer: the live sessions, the
 * spend and the clients still come from the grid, the end reasons are missing with the reason why,
 * and they are back once the store answers again.
 */
class OperatorOverviewOutageAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;

    private final MutableClock clock = MutableClock.at("2026-12-06T10:00:00Z");
    private AuditStores.PostgresSchema schema;
    private DropwizardTestSupport<DuckeConfiguration> app;
    private Http node;

    @BeforeEach
    void start() throws Exception {
        schema = new AuditStores.PostgresSchema("overview");
        String[] db = schema.settings();
        app = TestApps.support(clock, db[0], db[1], db[2], db[3]);
        app.before();
        node = Http.local(app.getLocalPort());
    }

    @AfterEach
    void stop() throws Exception {
        app.after();
        schema.close();
    }

    @Test
    void withoutTheAuditStoreTheLivePartsStandAndTheEndReasonsSayWhyTheyAreMissing() throws Exception {
        String ended = startSession("192.0.2.1");
        report(ended);
        assertThat(node.send("DELETE", "/v1/sessions/" + ended, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        Poll.until("the ended session's audit row", Duration.ofSeconds(20), Duration.ofMillis(50), () -> "",
                () -> node.get("/v1/audit/sessions", "Authorization", OPERATOR).body().contains(ended));
        String live = startSession("192.0.2.2");
        report(live);

        JsonNode before = overview();
        assertThat(before.get("end_reasons")).as(before.toString()).hasSize(1);
        assertThat(before.has("end_reasons_error")).isFalse();

        sql("ALTER TABLE " + schema.name() + ".audit_sessions RENAME TO audit_sessions_away");
        JsonNode during = overview();
        assertThat(during.has("end_reasons")).as(during.toString()).isFalse();
        assertThat(during.get("end_reasons_error").asText()).startsWith("the audit store cannot be read now");
        assertThat(during.get("sessions")).extracting(s -> s.get("session_id").asText()).containsExactly(live);
        assertThat(during.at("/spend/hourly_cost_usd").decimalValue()).isEqualByComparingTo("0.08");
        assertThat(during.get("clients")).extracting(c -> c.get("client_id").asText()).containsExactly("192.0.2.1", "192.0.2.2");

        sql("ALTER TABLE " + schema.name() + ".audit_sessions_away RENAME TO audit_sessions");
        // the store is not asked again within 5 s of the failure: a store that makes each read wait for a
        // connection would slow every refresh's live parts with it
        JsonNode waiting = overview();
        assertThat(waiting.has("end_reasons")).as(waiting.toString()).isFalse();
        assertThat(waiting.get("end_reasons_error").asText())
                .isEqualTo("the audit store could not be read at 2026-12-06T10:00:00Z (" + during.get("end_reasons_error").asText()
                        .replaceAll(".*\\((\\w+)\\).*", "$1") + "); asked again from 2026-12-06T10:00:05Z; live data is current");
        assertThat(waiting.get("sessions")).extracting(s -> s.get("session_id").asText()).containsExactly(live);
        clock.advance(Duration.ofMillis(4_999));
        assertThat(overview().has("end_reasons_error")).isTrue();

        clock.advance(Duration.ofMillis(1));
        JsonNode after = overview();
        assertThat(after.get("end_reasons")).isEqualTo(before.get("end_reasons"));
        assertThat(after.has("end_reasons_error")).isFalse();
    }

    private JsonNode overview() {
        HttpResponse<String> r = node.get("/v1/operator/overview", "Authorization", OPERATOR);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r);
    }

    private String startSession(String client) {
        HttpResponse<String> r = node.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    /** Four cents: 1,000 input and 1,000 output tokens of gpt-5 as config.yml prices it. */
    private void report(String id) {
        HttpResponse<String> r = node.post("/v1/sessions/" + id + "/usage",
                "{\"model\":\"gpt-5\",\"input_tokens\":1000,\"output_tokens\":1000}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(AuditStores.PG_URL, AuditStores.PG_USER, "");
             Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }
}
