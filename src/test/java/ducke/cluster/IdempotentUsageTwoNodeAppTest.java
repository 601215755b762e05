package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.FreePorts;
import ducke.testing.FrozenMember;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two application nodes of one cluster: a keyed usage report answered by one node and sent again
 * to the other is charged once, and the second node answers with the first node's answer; also
 * when the first node answered 503 at the grid deadline and applied it afterwards.
 */
class IdempotentUsageTwoNodeAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String REPORT = "{\"model\":\"gpt-5\",\"input_tokens\":100000,\"output_tokens\":200000}";

    /** The report as the provider bills it, priced here: gpt-5 as config.yml prices it, 10 USD per 1M input tokens, 30 per 1M output. */
    private static final BigDecimal REPORT_USD = BigDecimal.valueOf(100_000L * 10 + 200_000L * 30).movePointLeft(6);

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    private Http node(String name, String cluster, int port, String members, String... more) throws Exception {
        List<String> overrides = new ArrayList<>(List.of("nodeName", name,
                "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                "upstream.allowedModels", "gpt-realtime,gpt-5", "rateLimits.defaultLimit", "100000/minute",
                "rateLimits.status", "100000/minute"));
        overrides.addAll(List.of(more));
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, overrides.toArray(String[]::new));
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
        TestApps.awaitReady(2, a, b);

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
        CostIntegrity.attack("report retried on the other node").billed(REPORT_USD).ledger(session.get("cost_usd").decimalValue())
                .audit(CostIntegrity.audited(List.of(a, b), List.of(id), REPORT_USD, Duration.ofSeconds(20))).usage("arrived")
                .note("report sent twice with one Idempotency-Key").print();
    }

    /**
     * The node that holds the backup of a session's ledger freezes: the ledger's node applies a keyed
     * report, waits for the backup, and answers 503 at the grid deadline although the session was
     * charged. The backend sends the report again, to the other node (the one that was frozen), with
     * its key: charged once, answered 200.
     */
    @Test
    void aReportAnswered503AtTheDeadlineAndSentAgainToTheOtherNodeIsChargedOnce() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        Http a = node("node-a", cluster, portA, members, "hazelcast.callTimeout", "500ms");
        Http b = node("node-b", cluster, portB, members, "hazelcast.callTimeout", "500ms");
        TestApps.awaitReady(2, a, b);
        HazelcastInstance memberA = member(cluster, portA);
        HazelcastInstance memberB = member(cluster, portB);
        Poll.until("every partition placed, with its backup", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> memberA.getPartitionService().isClusterSafe());
        String id = null;
        String client = null;
        for (int i = 0; id == null; i++) {
            client = "203.0.113." + (10 + i);
            HttpResponse<String> started = a.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                    "Authorization", SERVICE);
            assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
            String candidate = Http.json(started).get("session_id").asText();
            id = FrozenMember.owns(memberA, candidate) ? candidate : null;
        }
        String session = id;

        HttpResponse<String> first;
        // two members: the ledger's backup is on B
        try (FrozenMember frozen = FrozenMember.freeze(memberB)) {
            first = a.post("/v1/sessions/" + session + "/usage", REPORT, "Authorization", SERVICE, "Idempotency-Key", "backend-req-43");
            assertThat(first.statusCode()).as(first.body()).isEqualTo(503);
            assertThat(Http.json(first).get("error").asText()).isEqualTo("cluster_degraded");
        }
        // the ledger's node applied it before it waited for the backup
        Poll.until("the report that got a 503 is on the ledger", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> new BigDecimal("7.00").compareTo(Http.json(a.get("/v1/sessions/" + session, "Authorization", SERVICE))
                        .path("cost_usd").decimalValue()) == 0);

        HttpResponse<String> again = b.post("/v1/sessions/" + session + "/usage", REPORT, "Authorization", SERVICE,
                "Idempotency-Key", "backend-req-43");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(Http.json(again).get("call_cost").toString()).as("what the report cost").isEqualTo("7.00");
        assertThat(Http.json(again).get("session_cost").toString()).as("7.00 once, not 14.00").isEqualTo("7.00");
        // the attempt cut off by the deadline never ran its spend part: the retry does, once
        assertThat(Http.json(again).get("hourly_cost_usd").decimalValue()).as("the cluster's hourly spend")
                .isEqualByComparingTo(REPORT_USD);
        JsonNode ledger = Http.json(b.get("/v1/sessions/" + session, "Authorization", SERVICE));
        assertThat(ledger.get("cost_usd").toString()).isEqualTo("7.00");
        assertThat(ledger.get("charged_responses").asInt()).isEqualTo(1);
        BigDecimal chargeRows = CostIntegrity.audited(List.of(a, b), List.of(session), REPORT_USD, Duration.ofSeconds(10));
        // the retry hands the charge row over again (the first attempt was answered before it could): once, not missing
        assertThat(chargeRows).as("the charge row in the audit").isEqualByComparingTo(REPORT_USD);
        // 7.00 on a 5.00 cap: the charge ended the session, and its final row goes to the audit
        BigDecimal sessionRow = CostIntegrity.sessionRow(List.of(a, b), client, session, Duration.ofSeconds(20));
        CostIntegrity.attack("report answered 503 at the grid deadline, retried on the other node").billed(REPORT_USD)
                .ledger(ledger.get("cost_usd").decimalValue()).audit(chargeRows).usage("arrived")
                .field("audit_session_row", sessionRow == null ? "none" : sessionRow.toPlainString())
                .field("hourly_spend_counted", Http.json(again).get("hourly_cost_usd").decimalValue().toPlainString())
                .note("the attempt cut off by the deadline ran neither its spend part nor its charge row; the retry, a repeat, completes both").print();
    }

    private static HazelcastInstance member(String cluster, int port) {
        return Hazelcast.getAllHazelcastInstances().stream()
                .filter(h -> h.getConfig().getClusterName().equals(cluster) && h.getCluster().getLocalMember().getAddress().getPort() == port)
                .findFirst().orElseThrow();
    }
}
