package ducke.audit;

import ducke.DuckeConfiguration;
import ducke.config.AuditFactory;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenCounts;
import ducke.db.AuditDao;
import ducke.db.Migrations;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail of live sessions on a lone node: checkpoints as open rows, the last node's
 * graceful stop writing every session's final record, and open rows of a lost cluster closed at
 * the next start.
 */
class CheckpointAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    /** gpt-5: 10k in, 10k out = 0.10 + 0.30. */
    private static final String FORTY_CENTS = "{\"input_tokens\":10000,\"output_tokens\":10000}";

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final String url = "jdbc:h2:mem:audit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    private final Jdbi db = Jdbi.create(url, "sa", "");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    private Http start() throws Exception {
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, "audit.url", url,
                "costProtection.sweepInterval", "50ms", "audit.checkpointInterval", "5s", "upstream.allowedModels", "gpt-realtime,gpt-5",
                "rateLimits.defaultLimit", "100000/minute", "rateLimits.websocket", "100000/minute");
        app.before();
        apps.add(app);
        return Http.local(app.getLocalPort());
    }

    private static String session(Http http, String client) {
        HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private static void charge(Http http, String id) {
        assertThat(http.post("/v1/sessions/" + id + "/usage", FORTY_CENTS, "Authorization", SERVICE).statusCode())
                .isEqualTo(200);
    }

    private Map<String, Object> row(String id) {
        List<Map<String, Object>> rows = db.withHandle(h -> h.createQuery("SELECT * FROM audit_sessions WHERE session_id = :id")
                .bind("id", id).mapToMap().list());
        return rows.isEmpty() ? null : rows.get(0);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as(what).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    private boolean rowIs(String id, boolean open, String costUsd) {
        Map<String, Object> r = row(id);
        return r != null && Boolean.valueOf(open).equals(r.get("is_open"))
                && ((BigDecimal) r.get("cost_usd")).compareTo(new BigDecimal(costUsd)) == 0;
    }

    @Test
    void liveSessionsAreCheckpointedAndTheirFinalRecordReplacesTheOpenRow() throws Exception {
        Http http = start();
        String id = session(http, "203.0.113.60");
        charge(http, id);
        clock.advance(Duration.ofSeconds(5));
        await("a checkpoint with the running cost", () -> rowIs(id, true, "0.40"));
        assertThat(row(id).get("end_reason")).isEqualTo("node_lost");

        charge(http, id);
        clock.advance(Duration.ofSeconds(5));
        await("the next checkpoint", () -> rowIs(id, true, "0.80"));

        assertThat(http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        await("the final record", () -> rowIs(id, false, "0.80"));
        assertThat(row(id).get("end_reason")).isEqualTo("api_ended");
        int rows = db.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM audit_sessions").mapTo(Integer.class).one());
        assertThat(rows).isEqualTo(1);
    }

    @Test
    void theLastNodeToStopEndsEveryLiveSessionAndWritesItsRecord() throws Exception {
        Http http = start();
        String charged = session(http, "203.0.113.61");
        charge(http, charged);
        String quiet = session(http, "203.0.113.62");
        String third = session(http, "203.0.113.63");

        apps.remove(0).after();

        for (String id : List.of(charged, quiet, third)) {
            Map<String, Object> r = row(id);
            assertThat(r).as(id).isNotNull();
            assertThat(r.get("end_reason")).as(id).isEqualTo("node_shutdown");
            assertThat(r.get("is_open")).as(id).isEqualTo(false);
        }
        assertThat((BigDecimal) row(charged).get("cost_usd")).isEqualByComparingTo("0.40");
        assertThat((Integer) row(charged).get("charged_responses")).isEqualTo(1);
    }

    @Test
    void openRowsOfSessionsNoClusterHoldsAreClosedAtStartWithTheirLastCheckpoint() throws Exception {
        AuditFactory audit = new AuditFactory();
        audit.setUrl(url);
        audit.setMigrations(new File("migrations").getAbsolutePath());
        Migrations.apply(audit);
        String lost = SessionIds.next();
        long at = clock.millis() - 60_000;
        new AuditDao(db).checkpoint(List.of(new SessionRecord(lost, "203.0.113.64", "crashed-node", "gpt-5", at - 30_000, at,
                EndReason.NODE_LOST, TokenCounts.of(10, 0, 0, 20, 0), 3, Money.nanoUsd("1.23"), "v1")), at);
        assertThat(rowIs(lost, true, "1.23")).isTrue();

        start();

        await("the open row is closed", () -> rowIs(lost, false, "1.23"));
        Map<String, Object> r = row(lost);
        assertThat(r.get("end_reason")).isEqualTo("node_lost");
        assertThat(r.get("ended_at_ms")).isEqualTo(at);
        assertThat(r.get("charged_responses")).isEqualTo(3);
    }
}
