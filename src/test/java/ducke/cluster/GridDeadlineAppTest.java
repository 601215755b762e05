package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import ducke.DuckeConfiguration;
import ducke.core.ratelimit.LocalDenials;
import ducke.testing.FreePorts;
import ducke.testing.FrozenMember;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A member that stops answering: the application node's requests that need it are answered 503
 * {@code cluster_degraded} at the grid-call deadline instead of waiting for it, no request thread
 * stays behind, and once the member answers again the cluster carries on (and applies the call
 * that missed its deadline, since a deadline releases the caller but does not cancel the call). The member is frozen by blocking its partition threads.
 */
class GridDeadlineAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private DropwizardTestSupport<DuckeConfiguration> app;
    private ClusterNode other;
    private Http http;
    private FrozenMember frozen;

    @BeforeEach
    void twoMembers() throws Exception {
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        app = TestApps.support(MutableClock.at("2026-11-30T12:00:00Z"),
                "nodeName", "app-node",
                "hazelcast.port", Integer.toString(portA),
                "hazelcast.members", members,
                "hazelcast.callTimeout", "500ms",
                "rateLimits.status", "100000/minute",
                "rateLimits.websocket", "100000/minute",
                "rateLimits.defaultLimit", "100000/minute",
                "costProtection.maxConcurrentSessionsPerClient", "1000");
        app.before();
        DuckeConfiguration c = app.getConfiguration();
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(c.getHazelcast().getClusterName());
        f.setPort(portB);
        f.setMembers(List.of(members.split(",")));
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(Duration.seconds(0));
        other = ClusterNode.start(f, "frozen-node", new LocalDenials(100));
        http = Http.local(app.getLocalPort());
        Poll.until("both members see each other and every partition is placed", 60_000,
                () -> Http.json(http.get("/status")).path("cluster_members").asInt() == 2
                        && Http.json(http.get("/status")).path("cluster_quorum").asBoolean()
                        && http.get("/health/ready").statusCode() == 200
                        && other.quorum() && other.hazelcast().getPartitionService().isClusterSafe());
    }

    @AfterEach
    void stop() {
        if (frozen != null) {
            frozen.close();
        }
        if (app != null) {
            app.after();
        }
        if (other != null) {
            other.terminate();
        }
        TestApps.clearOverrides();
    }

    @Test
    void requestsThatNeedAFrozenMemberAnswer503AtTheDeadlineAndTheClusterSettlesAfterwards() {
        String clientOnFrozen = FrozenMember.keyOwnedBy(other.hazelcast(), "client-");
        String sessionOnFrozen = sessionOwnedBy(other.hazelcast());

        frozen = FrozenMember.freeze(other.hazelcast());

        HttpResponse<String> start = http.post("/v1/sessions", "{\"client_id\":\"" + clientOnFrozen + "\"}", "Authorization", SERVICE);
        assertDegraded(start);
        assertDegraded(http.post("/v1/sessions/" + sessionOnFrozen + "/usage",
                "{\"model\":\"gpt-5\",\"input_tokens\":1000,\"output_tokens\":500}", "Authorization", SERVICE));
        assertDegraded(http.get("/v1/sessions/" + sessionOnFrozen, "Authorization", SERVICE));
        assertDegraded(http.send("DELETE", "/v1/sessions/" + sessionOnFrozen, "Authorization", SERVICE));
        assertThat(http.get("/status").statusCode()).as("the node itself keeps answering").isEqualTo(200);
        Poll.until("no thread still waits on the grid", 10_000, () -> waitingOnGrid().isEmpty());

        frozen.thaw();

        // the end that missed its deadline was not lost: the member applies it once it answers
        Poll.until("the late end is on the ledger", 30_000, () -> {
            HttpResponse<String> r = http.get("/v1/sessions/" + sessionOnFrozen, "Authorization", SERVICE);
            return r.statusCode() == 200 && Http.json(r).path("end_reason").asText().equals("api_ended");
        });
        assertThat(http.post("/v1/sessions", "{\"client_id\":\"" + clientOnFrozen + "\"}", "Authorization", SERVICE)
                .statusCode()).isEqualTo(201);
    }

    /**
     * The member holding the backup of a session's ledger freezes: the owner applies the charge, then
     * waits for the backup, and the report is answered 503 at the deadline although the session was
     * charged. The backend sends it again with its key: charged once, and answered 200.
     */
    @Test
    void aKeyedReportAnswered503AtTheDeadlineIsChargedOnceWhenSentAgain() {
        HazelcastInstance appMember = Hazelcast.getAllHazelcastInstances().stream()
                .filter(h -> h != other.hazelcast() && h.getConfig().getClusterName().equals(other.hazelcast().getConfig().getClusterName()))
                .findFirst().orElseThrow();
        String session = sessionOwnedBy(appMember);
        String report = "{\"model\":\"gpt-5\",\"input_tokens\":100000,\"output_tokens\":200000}";

        frozen = FrozenMember.freeze(other.hazelcast());
        assertDegraded(http.post("/v1/sessions/" + session + "/usage", report, "Authorization", SERVICE,
                "Idempotency-Key", "retry-1"));
        frozen.thaw();

        HttpResponse<String> retried = http.post("/v1/sessions/" + session + "/usage", report, "Authorization",
                SERVICE, "Idempotency-Key", "retry-1");
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(Http.json(retried).get("call_cost").toString()).as("what the report cost").isEqualTo("7.00");
        assertThat(Http.json(retried).get("session_cost").toString()).isEqualTo("7.00");
        JsonNode ledger = Http.json(http.get("/v1/sessions/" + session, "Authorization", SERVICE));
        assertThat(ledger.get("cost_usd").toString()).as("charged once, not twice").isEqualTo("7.00");
        assertThat(ledger.get("charged_responses").asInt()).isEqualTo(1);
        assertThat(http.post("/v1/sessions/" + session + "/usage", report, "Authorization", SERVICE,
                "Idempotency-Key", "retry-1").body()).as("the retry's answer is kept for later repeats")
                .isEqualTo(retried.body());
    }

    private static void assertDegraded(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        JsonNode body = Http.json(r);
        assertThat(body.get("error").asText()).isEqualTo("cluster_degraded");
        assertThat(body.get("code").asInt()).isEqualTo(503);
        assertThat(body.get("retry_after_seconds").asLong()).isEqualTo(1);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
    }

    /** Threads (request threads above all) caught inside a grid call. */
    private static List<String> waitingOnGrid() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().equals(GridCalls.class.getName())))
                .map(e -> e.getKey().getName()).toList();
    }

    /** Opens sessions until one's ledger lives on {@code member}. */
    private String sessionOwnedBy(HazelcastInstance member) {
        for (int i = 0; ; i++) {
            HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"c-" + i + "\"}", "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            String id = Http.json(r).get("session_id").asText();
            if (FrozenMember.owns(member, id)) {
                return id;
            }
        }
    }
}
