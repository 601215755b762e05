package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.cluster.ClusterNode;
import ducke.cluster.ClusterTesting;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that loses the cluster's quorum stops new spending: its relayed sessions end with
 * {@code service_unavailable} and close 1013 {@code cluster_degraded}, and new handshakes get 503.
 */
class RelayQuorumTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T22:00:00Z");
    private static DropwizardTestSupport<DuckeConfiguration> app;

    @AfterAll
    static void stop() throws Exception {
        if (app != null) {
            app.after();
        }
        UPSTREAM.close();
        TestApps.clearOverrides();
    }

    @Test
    void losingTheQuorumEndsRelayedSessionsWithClusterDegraded() throws Exception {
        String cluster = "quorum-" + UUID.randomUUID();
        int appPort = FreePorts.next();
        int otherPort = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + appPort, "127.0.0.1:" + otherPort);
        app = TestApps.support(CLOCK, "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(appPort),
                "hazelcast.members", String.join(",", members), "upstream.url", UPSTREAM.url(),
                "rateLimits.websocket", "1000/minute", "rateLimits.status", "100000/minute");
        app.before();
        ClusterNode other = ClusterTesting.member(cluster, otherPort, members, app.getConfiguration());
        Http http = Http.local(app.getLocalPort());
        TestApps.awaitReady(2, http);
        WsClient client = WsClient.connect(app.getLocalPort(), "", "X-Forwarded-For", "198.51.100.81");
        String id = client.nextEvent().get("session_id").asText();
        client.until("session.created");

        ClusterTesting.crash(other);

        JsonNode event = client.until("service_unavailable");
        assertThat(event.get("reason").asText()).isEqualTo("cluster_degraded");
        assertThat(client.awaitClose()).isEqualTo(1013);
        assertThat(client.closeReason()).isEqualTo("cluster_degraded");
        assertThat(id).startsWith("sess_");
        var refused = WsClient.refused(app.getLocalPort(), "", "X-Forwarded-For", "198.51.100.82");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(Http.json(refused).get("error").asText()).isEqualTo("cluster_degraded");
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    }
}
