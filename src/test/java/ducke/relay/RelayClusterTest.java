package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Two application nodes in one cluster: sessions relayed by A are ended, and resumed, through B. */
class RelayClusterTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T20:00:00Z");
    private static DropwizardTestSupport<DuckeConfiguration> a;
    private static DropwizardTestSupport<DuckeConfiguration> b;

    private static DropwizardTestSupport<DuckeConfiguration> node(String name, String cluster, int port, String members) {
        return TestApps.support(CLOCK,
                "nodeName", name,
                "hazelcast.clusterName", cluster,
                "hazelcast.port", Integer.toString(port),
                "hazelcast.members", members,
                "upstream.url", UPSTREAM.url(),
                "costProtection.onCap", "pause",
                "costProtection.sweepInterval", "50ms");
    }

    @BeforeAll
    static void startTwoNodes() throws Exception {
        String cluster = "relay-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        a = node("node-a", cluster, portA, members);
        b = node("node-b", cluster, portB, members);
        a.before();
        b.before();
        long deadline = System.currentTimeMillis() + 60_000;
        int poll = 0;
        // both members, and both with the quorum cost state needs (it follows the membership within moments)
        while (!joinedWithQuorum(a, poll++) || !joinedWithQuorum(b, poll++)) {
            assertThat(System.currentTimeMillis()).as("two nodes joined").isLessThan(deadline);
        }
    }

    private static boolean joinedWithQuorum(DropwizardTestSupport<?> node, int poll) {
        var status = Http.json(Http.local(node.getLocalPort()).get("/status", "X-Forwarded-For", "10.1." + (poll / 250) + "." + (poll % 250)));
        if (status.path("cluster_members").asInt() < 2 || !status.path("cluster_quorum").asBoolean()) {
            return false;
        }
        // the grid's own split-brain protection follows the membership a moment later: a session must open
        var started = Http.local(node.getLocalPort()).post("/v1/sessions", "{\"client_id\":\"warm-" + poll + "\"}",
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN, "X-Forwarded-For", "10.2." + (poll / 250) + "." + (poll % 250));
        if (started.statusCode() != 201) {
            return false;
        }
        Http.local(node.getLocalPort()).send("DELETE", "/v1/sessions/" + Http.json(started).path("session_id").asText(),
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN);
        return true;
    }

    @AfterAll
    static void stop() throws Exception {
        if (b != null) {
            b.after();
        }
        if (a != null) {
            a.after();
        }
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    private static WsClient openOnA(String client) throws Exception {
        WsClient c = WsClient.connect(a.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    @Test
    void endSessionSentToNodeBEndsASessionRelayedByNodeA() throws Exception {
        WsClient c = openOnA("198.51.100.201");
        String id = c.started.get("session_id").asText();
        HttpResponse<String> ended = Http.local(b.getAdminPort()).post("/tasks/end-session?id=" + id, null);
        assertThat(ended.statusCode()).isEqualTo(200);
        JsonNode event = c.until("session_ended");
        assertThat(event.get("reason").asText()).isEqualTo("admin_ended");
        assertThat(c.awaitClose()).isEqualTo(1008);
    }

    @Test
    void trippingTheBreakerOnNodeBEndsLiveSessionsOnNodeA() throws Exception {
        WsClient first = openOnA("198.51.100.202");
        WsClient second = openOnA("198.51.100.203");
        try {
            assertThat(Http.local(b.getAdminPort()).post("/tasks/trip-circuit-breaker?reason=test", null).statusCode()).isEqualTo(200);
            for (WsClient c : new WsClient[]{first, second}) {
                JsonNode event = c.until("service_unavailable");
                assertThat(event.get("reason").asText()).isEqualTo("circuit_breaker");
                assertThat(c.awaitClose()).isEqualTo(1013);
            }
            HttpResponse<String> refused = WsClient.refused(a.getLocalPort(), "", "X-Forwarded-For", "198.51.100.204");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("circuit_breaker_open");
        } finally {
            Http.local(b.getAdminPort()).post("/tasks/reset-circuit-breaker", null);
        }
        assertThat(Http.json(Http.local(a.getLocalPort()).get("/status", "X-Forwarded-For", "10.0.0.2"))
                .get("circuit_breaker").asText()).isEqualTo("closed");
    }

    @Test
    void aCapRaisedOnNodeBResumesASessionPausedOnNodeA() throws Exception {
        WsClient c = openOnA("198.51.100.205");
        String id = c.started.get("session_id").asText();
        for (int i = 1; i <= 2; i++) {
            c.send(RelayAppTest.script(RelayAppTest.responseDone(5_000, 5_000, 2_500, 2_500)));
            assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo(i * 2 + ".00");
        }
        assertThat(c.until("session_paused").get("reason").asText()).isEqualTo("budget_exceeded");
        Http onB = Http.local(b.getLocalPort());
        String service = "Bearer " + TestApps.SERVICE_TOKEN;
        ducke.testing.Poll.until("node B reads the pause from the grid", java.time.Duration.ofSeconds(10),
                java.time.Duration.ofMillis(20), () -> Http.json(onB.get("/v1/sessions/" + id, "Authorization", service))
                        .path("paused").asBoolean(false));
        // 5.50 leaves 1.50, less than the next response's input: still paused, as node B reads it from the grid
        HttpResponse<String> notEnough = onB.patch("/v1/sessions/" + id, "{\"max_cost_usd\":\"5.50\"}", "Authorization", service);
        assertThat(notEnough.statusCode()).as(notEnough.body()).isEqualTo(200);
        assertThat(Http.json(notEnough).get("paused").asBoolean()).isTrue();
        HttpResponse<String> raised = onB.patch("/v1/sessions/" + id, "{\"max_cost_usd\":\"10.00\"}", "Authorization", service);
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        assertThat(Http.json(raised).get("max_cost_usd").decimalValue()).isEqualByComparingTo("10.00");
        JsonNode resumed = c.until("session_resumed");
        assertThat(resumed.get("max_cost_usd").decimalValue()).isEqualByComparingTo("10.00");
        c.send(RelayAppTest.script(RelayAppTest.responseDone(5_000, 5_000, 2_500, 2_500)));
        assertThat(c.until("usage_update").get("session_cost").decimalValue()).isEqualByComparingTo("6.00");
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }
}
