package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.AuditStores;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reservations live in the grid, not on the node that took them: a reservation taken on one node is
 * settled by a report to another; one whose node stopped is charged its amount at expiry by the node
 * that owns it then; and the last member of a cluster that stops charges the reservations still open
 * (no report can reach their sessions after it), so their charge rows are in the audit store.
 */
class ReservationsClusterAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    private final MutableClock clock = MutableClock.at("2026-12-06T11:00:00Z");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    @Test
    void aReservationOutlivesItsNodeAndTheLastMemberChargesWhatIsStillOpen() throws Exception {
        String name = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        String[] database = AuditStores.h2File();
        List<Http> nodes = new ArrayList<>();
        for (int port : new int[]{portA, portB}) {
            DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, "nodeName", "node-" + (nodes.isEmpty() ? "a" : "b"),
                    "hazelcast.clusterName", name, "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                    "hazelcast.minClusterSize", "1", "costProtection.sweepInterval", "50ms",
                    "rateLimits.defaultLimit", "100000/minute", "rateLimits.websocket", "100000/minute",
                    "rateLimits.status", "100000/minute", database[0], database[1]);
            app.before();
            apps.add(app);
            nodes.add(Http.local(app.getLocalPort()));
        }
        Http a = nodes.get(0);
        Http b = nodes.get(1);
        TestApps.awaitReady(2, a, b);

        String s = start(a);
        String settledHere = reserve(a, s, 30);
        String expiring = reserve(a, s, 10);
        String open = reserve(a, s, 600);

        // taken on node A, settled on node B: 1,000 input and 1,000 output tokens of gpt-5 = 0.04
        HttpResponse<String> settled = b.post("/v1/sessions/" + s + "/usage", "{\"reservation_id\":\"" + settledHere
                + "\",\"input_tokens\":1000,\"output_tokens\":1000}", "Authorization", SERVICE);
        assertThat(settled.statusCode()).as(settled.body()).isEqualTo(200);
        assertThat(cost(b, s)).isEqualByComparingTo("0.04");

        // node A stops; its reservations stay in the grid, and node B charges the one that expires (0.16 each)
        apps.get(0).after();
        apps.remove(0);
        TestApps.awaitReady(1, b);
        clock.advance(Duration.ofSeconds(10));
        Poll.until("node B charged the expired reservation", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> b.get("/v1/sessions/" + s, "Authorization", SERVICE).body(), () -> cost(b, s).compareTo(new BigDecimal("0.20")) == 0);
        HttpResponse<String> gone = b.send("DELETE", "/v1/sessions/" + s + "/reservations/" + expiring, "Authorization", SERVICE);
        assertThat(gone.statusCode()).as("charged: not open any more").isEqualTo(404);

        // the last member stops with one reservation open: it is charged its amount before the grid goes
        apps.get(0).after();
        apps.remove(0);
        try (Connection c = DriverManager.getConnection(database[1], "sa", "");
             PreparedStatement q = c.prepareStatement("SELECT charge_key, cost_usd, estimated FROM audit_charges "
                     + "WHERE session_id = ? ORDER BY charge_key")) {
            q.setString(1, s);
            List<String> rows = new ArrayList<>();
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    rows.add(r.getString(1) + " " + r.getBigDecimal(2).stripTrailingZeros().toPlainString() + " " + r.getBoolean(3));
                }
            }
            assertThat(rows).containsExactlyInAnyOrder(
                    "report:reservation:" + settledHere + " 0.04 false",
                    "report:reservation:" + expiring + " 0.16 true",
                    "report:reservation:" + open + " 0.16 true");
        }
    }

    private static String start(Http node) {
        HttpResponse<String> r = node.post("/v1/sessions", "{\"client_id\":\"192.0.2.30\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    /** 4,000 input and 4,000 output tokens of gpt-5: 0.04 + 0.12 = 0.16. */
    private static String reserve(Http node, String session, int seconds) {
        HttpResponse<String> r = node.post("/v1/sessions/" + session + "/reservations",
                "{\"input_tokens\":4000,\"max_output_tokens\":4000,\"expires_in_seconds\":" + seconds + "}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode j = Http.json(r);
        assertThat(j.get("reserved_usd").decimalValue()).isEqualByComparingTo("0.16");
        return j.get("reservation_id").asText();
    }

    private static BigDecimal cost(Http node, String session) {
        HttpResponse<String> r = node.get("/v1/sessions/" + session, "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r).get("cost_usd").decimalValue();
    }
}
