package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Hundreds of sessions opened and ended in every way leave nothing behind. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RelayLeakTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T21:00:00Z"),
            "upstream.url", UPSTREAM.url(),
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static String client(int i) {
        return "10.77." + (i / 250) + "." + (i % 250 + 1);
    }

    private static WsClient open(String client) throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", client);
        c.started = c.nextEvent();
        c.until("session.created");
        return c;
    }

    /** An upgrade request without a key: refused before any session, slot or upstream exists. */
    private static void brokenUpgrade(String client) throws Exception {
        try (Socket s = new Socket("127.0.0.1", APP.getLocalPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /session HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: " + client + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // read the refusal to the end
            }
        }
    }

    @Test
    void sessionsEndedEveryWayLeaveNoSessionSlotConnectionOrThread() throws Exception {
        Http http = Http.local(APP.getLocalPort());
        Http admin = Http.local(APP.getAdminPort());
        List<String> ids = new ArrayList<>();
        int n = 0;
        int threadsBefore = 0;
        for (int round = 0; round < 40; round++) {
            if (round == 2) {
                // pools are warm after two rounds: from here on, nothing may grow with the number of sessions
                threadsBefore = Thread.activeCount();
            }
            WsClient closes = open(client(n++));
            ids.add(closes.started.get("session_id").asText());
            closes.ws.sendClose(1000, "done").join();
            closes.awaitClose();

            WsClient aborts = open(client(n++));
            ids.add(aborts.started.get("session_id").asText());
            aborts.ws.abort();

            WsClient dropped = open(client(n++));
            ids.add(dropped.started.get("session_id").asText());
            UPSTREAM.connections().get(UPSTREAM.connections().size() - 1).drop();
            dropped.awaitClose();

            WsClient ended = open(client(n++));
            String id = ended.started.get("session_id").asText();
            ids.add(id);
            assertThat(admin.post("/tasks/end-session?id=" + id, null).statusCode()).isEqualTo(200);
            ended.awaitClose();

            WsClient spent = open(client(n++));
            ids.add(spent.started.get("session_id").asText());
            spent.send(RelayAppTest.script(RelayAppTest.responseDone(20_000, 20_000, 10_000, 10_000)));
            spent.until("budget_exceeded");
            spent.awaitClose();

            brokenUpgrade(client(n++));
        }

        long deadline = System.currentTimeMillis() + 30_000;
        String metrics = http.get("/metrics").body();
        while (PromText.value(metrics, "relay_sessions_live", "") > 0
                || PromText.value(metrics, "active_sessions_total", "") > 0
                || UPSTREAM.openConnections() > 0) {
            assertThat(System.currentTimeMillis()).as("everything released in time: %s", metrics.lines()
                    .filter(l -> l.startsWith("relay_sessions_live") || l.startsWith("active_sessions_total")).toList())
                    .isLessThan(deadline);
            metrics = http.get("/metrics").body();
        }
        for (String id : ids) {
            JsonNode s = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
            assertThat(s.get("status").asText()).as(id).isEqualTo("ended");
        }
        assertThat(PromText.value(metrics, "relay_handshakes_total", "outcome=\"bad_key\"")).isEqualTo(40);
        assertThat(metrics).doesNotContain("relay_handshakes_total{outcome=\"upgrade_failed\"} 1");
        // every client can open its full share of sessions again: no slot was left behind
        List<WsClient> again = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            again.add(open(client(1)));
        }
        for (WsClient c : again) {
            c.ws.sendClose(1000, "").join();
        }
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 10);
    }
}
