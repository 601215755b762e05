package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A node that is stopped ends its live sessions with node_shutdown; the cluster keeps its state. */
class RelayShutdownTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T22:00:00Z");
    private static DropwizardTestSupport<DuckeConfiguration> b;

    @AfterAll
    static void stop() throws Exception {
        if (b != null) {
            b.after();
        }
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    @Test
    void stoppingANodeEndsItsSessionsWithNodeShutdownAndTheOtherNodeKeepsTheState() throws Exception {
        String cluster = "shutdown-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        DropwizardTestSupport<DuckeConfiguration> a = TestApps.support(CLOCK, "nodeName", "node-a", "hazelcast.clusterName", cluster,
                "hazelcast.port", Integer.toString(portA), "hazelcast.members", members, "upstream.url", UPSTREAM.url());
        b = TestApps.support(CLOCK, "nodeName", "node-b", "hazelcast.clusterName", cluster,
                "hazelcast.port", Integer.toString(portB), "hazelcast.members", members, "upstream.url", UPSTREAM.url());
        a.before();
        b.before();
        Http onB = Http.local(b.getLocalPort());
        Http onA = Http.local(a.getLocalPort());
        TestApps.awaitReady(2, onA, onB);
        String service = "Bearer " + TestApps.SERVICE_TOKEN;
        for (int i = 0; i < 5; i++) {
            onA.post("/v1/tools/web_search/calls", "{\"client_id\":\"198.51.100.77\"}", "Authorization", service);
        }

        WsClient first = WsClient.connect(a.getLocalPort(), "", "X-Forwarded-For", "198.51.100.71");
        WsClient second = WsClient.connect(a.getLocalPort(), "", "X-Forwarded-For", "198.51.100.72");
        String id1 = first.nextEvent().get("session_id").asText();
        String id2 = second.nextEvent().get("session_id").asText();
        first.until("session.created");
        second.until("session.created");

        a.after();

        for (WsClient c : new WsClient[]{first, second}) {
            JsonNode event = c.until("service_unavailable");
            assertThat(event.get("reason").asText()).isEqualTo("node_shutdown");
            assertThat(c.awaitClose()).isEqualTo(1012);
        }
        for (String id : new String[]{id1, id2}) {
            JsonNode s = Http.json(onB.get("/v1/sessions/" + id, "Authorization", service));
            assertThat(s.get("end_reason").asText()).isEqualTo("node_shutdown");
            assertThat(s.get("node").asText()).isEqualTo("node-a");
        }
        assertThat(onB.post("/v1/tools/web_search/calls", "{\"client_id\":\"198.51.100.77\"}", "Authorization", service)
                .statusCode()).isEqualTo(429);
        int[] poll = {0};
        ducke.testing.Poll.until("node B sees node A gone", java.time.Duration.ofSeconds(30), java.time.Duration.ofMillis(50),
                () -> Http.json(onB.get("/status", "X-Forwarded-For", "10.3.0." + (poll[0]++ % 250))).path("cluster_members").asInt() == 1);
    }
}
