package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Liveness and readiness on the application port, as a kubelet or load balancer asks: no token,
 * never rate-limited, and a body that names no secret; not ready while the node's part of the
 * cluster has no quorum (it would refuse every new session), live all the same.
 */
class HealthProbesAppTest {

    private DropwizardTestSupport<DuckeConfiguration> app;

    @AfterEach
    void stop() {
        if (app != null) {
            app.after();
        }
        TestApps.clearOverrides();
    }

    private Http start(String... overrides) throws Exception {
        app = TestApps.support(MutableClock.at("2026-12-06T10:00:00Z"), overrides);
        app.before();
        return Http.local(app.getLocalPort());
    }

    @Test
    void aNodeWithItsQuorumIsLiveAndReadyWithoutAToken() throws Exception {
        Http http = start("rateLimits.defaultLimit", "2/minute", "rateLimits.status", "2/minute");
        // more probes than the default limit lets any client make: probes are never limited
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> live = http.get("/health/live");
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(Http.json(live).toString()).isEqualTo("{\"status\":\"live\"}");
            HttpResponse<String> ready = http.get("/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(Http.json(ready).toString()).isEqualTo("{\"status\":\"ready\"}");
        }
        int last = 0;
        for (int i = 0; i < 3; i++) {
            last = http.get("/status").statusCode();
        }
        assertThat(last).as("the rest of the port is still limited").isEqualTo(429);
    }

    @Test
    void aNodeWithoutItsQuorumIsLiveButNotReady() throws Exception {
        int port = FreePorts.next();
        // two members listed, one of them never starts: a majority of two is two
        Http http = start("hazelcast.clusterName", "probes-" + UUID.randomUUID(), "hazelcast.port", Integer.toString(port),
                "hazelcast.members", "127.0.0.1:" + port + ",127.0.0.1:" + FreePorts.next());
        assertThat(http.get("/health/live").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = http.get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.headers().firstValue("Retry-After")).hasValue("5");
        JsonNode body = Http.json(ready);
        assertThat(body.get("error").asText()).isEqualTo("cluster_degraded");
        assertThat(body.get("status").asText()).isEqualTo("not_ready");
        assertThat(body.get("code").asInt()).isEqualTo(503);
        assertThat(ready.body()).doesNotContain(TestApps.SERVICE_TOKEN, TestApps.OPERATOR_TOKEN, TestApps.UPSTREAM_KEY);
    }
}
