package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two application nodes of one cluster: a keyed usage report answered by one node and sent again
 * to the other is charged once, and the second node answers with the first node's answer.
 */
class IdempotentUsageTwoNodeAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String REPORT = "{\"model\":\"gpt-5\",\"input_tokens\":100000,\"output_tokens\":200000}";

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    private Http node(String name, String cluster, int port, String members) throws Exception {
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, "nodeName", name,
                "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                "upstream.allowedModels", "gpt-realtime,gpt-5", "rateLimits.defaultLimit", "100000/minute",
                "rateLimits.status", "100000/minute");
        app.before();
        apps.add(app);
        return Http.local(app.getLocalPort());
    }

    @Test
    void aReportAnsweredByOneNodeAndSentAgainToTheOtherIsChargedOnceWithTheSameAnswer() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        Http a = node("node-a", cluster, portA, members);
        Http b = node("node-b", cluster, portB, members);
        Poll.until("both nodes see the cluster with its quorum", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> Http.json(a.get("/status")).path("cluster_members").asInt() == 2
                        && Http.json(a.get("/status")).path("cluster_quorum").asBoolean()
                        && Http.json(b.get("/status")).path("cluster_quorum").asBoolean());

        HttpResponse<String> started = a.post("/v1/sessions", "{\"client_id\":\"203.0.113.9\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        String id = Http.json(started).get("session_id").asText();

        HttpResponse<String> first = a.post("/v1/sessions/" + id + "/usage", REPORT, "Authorization", SERVICE,
                "Idempotency-Key", "backend-req-42");
        HttpResponse<String> again = b.post("/v1/sessions/" + id + "/usage", REPORT, "Authorization", SERVICE,
                "Idempotency-Key", "backend-req-42");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).isEqualTo(first.body());
        JsonNode session = Http.json(b.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(session.get("cost_usd").toString()).as("7.00 once, not 14.00").isEqualTo("7.00");
        assertThat(session.get("charged_responses").asInt()).isEqualTo(1);
    }
}
