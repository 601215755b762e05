package ducke.cluster;

import ducke.DuckeConfiguration;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.journal.JournalFile;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node cut off from the cluster journals usage reports on its disk, is stopped, and its next
 * process (same data directory) applies them exactly once when it reaches the cluster: the
 * journal outlives the process, and a second process never shares it.
 */
class JournalRestartAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String USAGE = "{\"model\":\"gpt-5\",\"input_tokens\":10000,\"output_tokens\":20000}";
    private static final long USAGE_NANO = Money.nanoUsd("0.70");

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> members = new ArrayList<>();
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        members.forEach(ClusterNode::terminate);
        TestApps.clearOverrides();
    }

    private static void await(String what, Poll.Check condition) throws Exception {
        Poll.until(what, java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(20), condition);
    }

    private DropwizardTestSupport<DuckeConfiguration> node(String cluster, int port, String list, Path data) throws Exception {
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, "nodeName", "node-a",
                "dataDir", data.toString(), "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(port),
                "hazelcast.members", list, "costProtection.sweepInterval", "50ms", "rateLimits.defaultLimit", "100000/minute",
                "rateLimits.status", "100000/minute");
        app.before();
        apps.add(app);
        return app;
    }

    private static boolean quorum(Http http) {
        return Http.json(http.get("/status")).get("cluster_quorum").asBoolean();
    }

    @Test
    void aNodeRestartedWhileCutOffAppliesItsJournalOnceWhenItReachesTheCluster() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        Path data = Path.of("target/test-data", UUID.randomUUID().toString());
        int firstPort = FreePorts.next();
        int nextPort = FreePorts.next();
        int b = FreePorts.next();
        int c = FreePorts.next();
        // the first process lists a member that never answers: alone, one of two, it has no quorum
        DropwizardTestSupport<DuckeConfiguration> first = node(cluster, firstPort,
                "127.0.0.1:" + firstPort + ",127.0.0.1:" + FreePorts.next(), data);
        Http http = Http.local(first.getLocalPort());
        assertThat(quorum(http)).isFalse();

        // the rest of the cluster, which the next process will reach, holds the session
        List<String> majority = List.of("127.0.0.1:" + nextPort, "127.0.0.1:" + b, "127.0.0.1:" + c);
        members.add(ClusterTesting.member(cluster, b, majority, first.getConfiguration()));
        members.add(ClusterTesting.member(cluster, c, majority, first.getConfiguration()));
        await("the majority has its quorum", () -> members.get(0).quorum() && members.get(1).quorum());
        CostGrid grid = new CostGrid(members, CostLimits.defaults(), clock);
        String id = grid.guards.get(0).start("203.0.113.50", "gpt-5", "", clock.millis()).ledger().sessionId();

        for (int i = 0; i < 2; i++) {
            HttpResponse<String> journaled = http.post("/v1/sessions/" + id + "/usage", USAGE, "Authorization", SERVICE);
            assertThat(journaled.statusCode()).as(journaled.body()).isEqualTo(202);
        }
        assertThatThrownBy(() -> node(cluster, FreePorts.next(), "127.0.0.1:" + firstPort, data))
                .as("a second process on the same data directory").hasMessageContaining("another process uses the charge journal");
        first.after();
        apps.remove(first);
        assertThat(Files.size(data.resolve(JournalFile.FILE))).as("two entries on disk").isGreaterThan(100);

        DropwizardTestSupport<DuckeConfiguration> next = node(cluster, nextPort, String.join(",", majority), data);
        Http again = Http.local(next.getLocalPort());
        await("the journal of the first process is applied", () -> quorum(again)
                && PromText.value(again.get("/metrics").body(), "cost_journal_entries", "") == 0.0
                && grid.guards.get(0).get(id).orElseThrow().costNanoUsd() == 2 * USAGE_NANO);

        SessionLedger l = grid.guards.get(0).get(id).orElseThrow();
        assertThat(l.chargedResponses()).isEqualTo(2);
        assertThat(grid.guards.get(0).refreshSpend(clock.millis()).hourlyNanoUsd()).isEqualTo(2 * USAGE_NANO);
        assertThat(PromText.value(again.get("/metrics").body(), "cost_journal_total", "outcome=\"applied\"")).isEqualTo(2.0);
        assertThat(Files.size(data.resolve(JournalFile.FILE))).as("cut back once applied").isEqualTo(8);

        // later passes, and the process after this one, find nothing more to apply
        next.after();
        apps.remove(next);
        DropwizardTestSupport<DuckeConfiguration> third = node(cluster, nextPort, String.join(",", majority), data);
        Http last = Http.local(third.getLocalPort());
        await("the third process has the quorum", () -> quorum(last));
        assertThat(grid.guards.get(0).get(id).orElseThrow().costNanoUsd()).isEqualTo(2 * USAGE_NANO);
        assertThat(grid.guards.get(0).refreshSpend(clock.millis()).hourlyNanoUsd()).isEqualTo(2 * USAGE_NANO);
    }
}
