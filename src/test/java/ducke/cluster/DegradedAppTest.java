package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application on a node that is one of two listed members: without the other it has no
 * quorum, refuses new sessions with 503 {@code cluster_degraded}, takes usage for journaling with
 * 202, and charges that usage exactly once when the other member is back.
 */
class DegradedAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String USAGE = "{\"model\":\"gpt-5\",\"input_tokens\":10000,\"output_tokens\":20000}";

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> members = new ArrayList<>();
    private DropwizardTestSupport<DuckeConfiguration> app;

    @AfterEach
    void stop() {
        if (app != null) {
            app.after();
        }
        members.forEach(ClusterNode::terminate);
        TestApps.clearOverrides();
    }

    private static void await(String what, Poll.Check condition) throws Exception {
        Poll.until(what, java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(20), condition);
    }

    private static boolean quorum(Http http) {
        HttpResponse<String> status = http.get("/status");
        assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
        return Http.json(status).get("cluster_quorum").asBoolean();
    }

    private static HttpResponse<String> start(Http http) {
        return http.post("/v1/sessions", "{\"client_id\":\"203.0.113.50\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
    }

    @Test
    void aNodeWithoutQuorumRefusesSessionsJournalsUsageAndChargesItOnceWhenTheOtherMemberIsBack() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int appPort = FreePorts.next();
        int otherPort = FreePorts.next();
        String list = "127.0.0.1:" + appPort + ",127.0.0.1:" + otherPort;
        app = TestApps.support(clock, "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(appPort),
                "hazelcast.members", list, "costProtection.sweepInterval", "50ms", "upstream.allowedModels", "gpt-realtime,gpt-5",
                "rateLimits.defaultLimit", "100000/minute", "rateLimits.websocket", "100000/minute",
                // the waits below poll /status; its own limit (60/minute) is not what this test is about
                "rateLimits.status", "100000/minute");
        app.before();
        Http http = Http.local(app.getLocalPort());

        assertThat(quorum(http)).as("one of two listed members").isFalse();
        HttpResponse<String> refused = start(http);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("10");
        JsonNode body = Http.json(refused);
        assertThat(body.get("code").asInt()).isEqualTo(503);
        assertThat(body.get("error").asText()).isEqualTo("cluster_degraded");
        assertThat(body.get("message").asText()).isNotBlank();
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(10);

        HazelcastFactory other = new HazelcastFactory();
        other.setClusterName(cluster);
        other.setPort(otherPort);
        other.setMembers(List.of(list.split(",")));
        other.setInterfaces(List.of("127.0.0.1"));
        other.setWaitBeforeJoin(Duration.seconds(0));
        ClusterNode second = Members.start(other, "second");
        members.add(second);
        await("the quorum is there, and the new cluster's spend rebuilt", () -> quorum(http)
                && http.get("/health/ready").statusCode() == 200);
        HttpResponse<String> started = start(http);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        String id = Http.json(started).get("session_id").asText();
        assertThat(http.post("/v1/sessions/" + id + "/usage", USAGE, "Authorization", SERVICE).statusCode()).isEqualTo(200);

        second.terminate();
        await("the quorum is lost", () -> !quorum(http));
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> journaled = http.post("/v1/sessions/" + id + "/usage", USAGE, "Authorization", SERVICE);
            assertThat(journaled.statusCode()).as(journaled.body()).isEqualTo(202);
            assertThat(Http.json(journaled).get("journaled").asBoolean()).isTrue();
            assertThat(Http.json(journaled).get("report_id").asText()).endsWith("#" + (i + 1));
        }
        assertThat(http.get("/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(503);
        assertThat(start(http).statusCode()).isEqualTo(503);
        String metrics = http.get("/metrics").body();
        assertThat(PromText.value(metrics, "cost_journal_entries", "")).isEqualTo(2.0);
        assertThat(PromText.value(metrics, "cluster_quorum", "")).isZero();

        members.add(Members.restart(second));
        await("the quorum is back", () -> quorum(http));
        // The replay charges an entry, then drops it from the journal: the ledger shows the last
        // charge a moment before the journal is empty, so the wait is for both.
        await("the journal is applied", () -> {
            HttpResponse<String> r = http.get("/v1/sessions/" + id, "Authorization", SERVICE);
            return r.statusCode() == 200 && Http.json(r).get("cost_usd").decimalValue().compareTo(new java.math.BigDecimal("2.10")) == 0
                    && PromText.value(http.get("/metrics").body(), "cost_journal_entries", "") == 0.0;
        });
        metrics = http.get("/metrics").body();
        assertThat(PromText.value(metrics, "cost_journal_total", "outcome=\"applied\"")).isEqualTo(2.0);
        JsonNode session = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(session.get("charged_responses").asInt()).isEqualTo(3);
    }
}
