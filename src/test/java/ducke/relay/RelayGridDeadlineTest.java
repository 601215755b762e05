package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.HazelcastInstance;
import ducke.DuckeConfiguration;
import ducke.cluster.ClusterNode;
import ducke.cluster.ClusterTesting;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.testing.FreePorts;
import ducke.testing.FrozenMember;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A relayed charge the cluster does not confirm in time (the member that owns the session's
 * ledger is frozen): the guard can no longer record what the session spends, so the session ends
 * ({@code service_unavailable}, the API's {@code error} event, close 1013 {@code cluster_degraded})
 * instead of relaying more paid responses, and the charge, which the grid applies late once the
 * member answers, is in the ledger afterwards.
 */
class RelayGridDeadlineTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private final FakeUpstream upstream = Fakes.upstream();
    private DropwizardTestSupport<DuckeConfiguration> app;
    private ClusterNode other;
    private FrozenMember frozen;

    @AfterEach
    void stop() throws Exception {
        if (frozen != null) {
            frozen.close();
        }
        if (app != null) {
            app.after();
        }
        if (other != null) {
            ClusterTesting.crash(other);
        }
        upstream.close();
        TestApps.clearOverrides();
    }

    @Test
    void aChargeTheClusterDoesNotConfirmEndsTheSessionAndLandsLate() throws Exception {
        String cluster = "deadline-" + UUID.randomUUID();
        int appPort = FreePorts.next();
        int otherPort = FreePorts.next();
        List<String> members = List.of("127.0.0.1:" + appPort, "127.0.0.1:" + otherPort);
        app = TestApps.support(MutableClock.at("2026-11-30T23:00:00Z"), "hazelcast.clusterName", cluster,
                "hazelcast.port", Integer.toString(appPort), "hazelcast.members", String.join(",", members),
                "hazelcast.callTimeout", "500ms", "upstream.url", upstream.url(),
                "rateLimits.websocket", "100000/minute", "rateLimits.status", "100000/minute",
                "costProtection.maxConcurrentSessionsPerClient", "1000");
        app.before();
        other = ClusterTesting.member(cluster, otherPort, members, app.getConfiguration());
        HazelcastInstance otherMember = ClusterTesting.hazelcast(other);
        Http http = Http.local(app.getLocalPort());
        Poll.until("both members see each other and every partition is placed", Duration.ofSeconds(60), Duration.ofMillis(20),
                () -> "status " + http.get("/status").body(),
                () -> Http.json(http.get("/status")).path("cluster_quorum").asBoolean()
                        && http.get("/health/ready").statusCode() == 200
                        && otherMember.getPartitionService().isClusterSafe());

        // a session whose ledger lives on the member about to freeze
        WsClient client = null;
        String id = null;
        for (int i = 0; id == null; i++) {
            WsClient c = WsClient.connect(app.getLocalPort(), "", "X-Forwarded-For", "198.51.100.140");
            String candidate = c.nextEvent().get("session_id").asText();
            c.until("session.created");
            if (FrozenMember.owns(otherMember, candidate)) {
                client = c;
                id = candidate;
            } else {
                c.ws.sendClose(1000, "next");
                assertThat(c.awaitClose()).isEqualTo(1000);
            }
            assertThat(i).as("a session on the other member within 64 tries").isLessThan(64);
        }
        FakeUpstream.Connection up = upstream.connections().get(upstream.connections().size() - 1);

        frozen = FrozenMember.freeze(otherMember);
        client.send("{\"type\":\"response.create\",\"test_want_output\":500}");

        JsonNode ending = client.until("service_unavailable");
        assertThat(ending.get("reason").asText()).isEqualTo("cluster_degraded");
        JsonNode error = client.until("error");
        assertThat(error.at("/error/code").asText()).isEqualTo("cluster_degraded");
        assertThat(error.at("/error/message").asText()).isEqualTo(SessionEnding.UNCONFIRMED_CHARGE);
        assertThat(client.awaitClose()).isEqualTo(1013);
        assertThat(client.closeReason()).isEqualTo("cluster_degraded");
        assertThat(up.billed).as("one response billed, no other started").hasSize(1);
        assertThat(PromText.value(http.get("/metrics").body(), "relay_charges_unconfirmed_total", "")).isEqualTo(1.0);

        frozen.thaw();

        // the charge that missed its deadline was not cancelled: the member applies it once it answers
        BigDecimal billed = Money.usd(PriceTable.defaults().price("gpt-realtime", RealtimeEvents.usage(up.billed.get(0))).costNanoUsd());
        String sessionId = id;
        Poll.until("the late charge and the end are on the ledger", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> "session " + http.get("/v1/sessions/" + sessionId, "Authorization", SERVICE).body(),
                () -> {
                    JsonNode s = Http.json(http.get("/v1/sessions/" + sessionId, "Authorization", SERVICE));
                    return s.path("status").asText().equals("ended")
                            && s.path("cost_usd").decimalValue().compareTo(billed) == 0;
                });
        assertThat(billed).isPositive();
    }
}
