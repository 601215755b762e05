package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fifty sessions of fifty clients, each driven by its own thread as fast as the stand-in answers
 * (a greedy model: every response writes as much as its limit allows, its input is the whole
 * context), against one breaker threshold: every response is reserved in the breaker's window
 * before it starts, so however the responses interleave, what the provider bills stays within the
 * threshold (plus 1%), and the ledgers and the audit store hold exactly what it billed. Before
 * reservations the breaker opened after the spend that crossed it and the live sessions ran on
 * toward their own caps ($91.81 through a $10.00 threshold with 20 sessions). The bill is priced
 * here with this test's own arithmetic.
 *
 * <p>The threshold is $60: each live session holds a standing reservation for its next response
 * (about $1.04 here: a 2,000-token input reserve and 2 s of audio at $100 per 1M, 4,096 output
 * tokens at $200 per 1M), and fifty of them must fit in the window for all fifty sessions to open.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class BreakerConcurrencyTest {

    private static final int SESSIONS = 50;
    private static final BigDecimal THRESHOLD = new BigDecimal("60.00");
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-07T09:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.maxClientCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", THRESHOLD.toPlainString(),
            "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", "100000/minute"));

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    /** gpt-realtime as config.yml prices it: 100 USD per 1M input tokens, 200 per 1M output tokens. */
    private static BigDecimal billedUsd(JsonNode usage) {
        return BigDecimal.valueOf(usage.path("input_tokens").asLong() * 100 + usage.path("output_tokens").asLong() * 200)
                .movePointLeft(6);
    }

    private static WsClient open(String address) throws Exception {
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", address);
        c.started = c.nextEvent();
        assertThat(c.started.get("type").asText()).as("session of %s", address).isEqualTo("session_started");
        c.until("session.created");
        return c;
    }

    /**
     * Asks for responses one after another until the session ends; returns the code of the
     * gateway's ending (or "closed" when the connection closed without one).
     */
    private static String spend(WsClient c) throws Exception {
        for (int turn = 0; turn < 1_000; turn++) {
            if (!c.sendIfOpen("{\"type\":\"response.create\"}")) {
                return "closed";
            }
            while (true) {
                WsClient.Received r = c.next();
                if (r.text() == null) {
                    return "closed";
                }
                JsonNode e = WsClient.parse(r.text());
                String type = e.path("type").asText();
                if (type.equals("usage_update")
                        || type.equals("error") && e.at("/error/code").asText().equals("conversation_already_has_active_response")) {
                    break;
                }
                if (type.equals("error") && e.path("event_id").asText().equals("event_gw_end")) {
                    return e.at("/error/code").asText();
                }
            }
        }
        throw new AssertionError("a session still open after 1,000 responses");
    }

    private static JsonNode ledger(String sessionId) {
        return Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + sessionId,
                "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
    }

    @Test
    void fiftySessionsOnTheirOwnThreadsStayWithinTheBreakersThreshold() throws Exception {
        List<WsClient> sessions = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            sessions.add(open("198.18." + (1 + i / 200) + "." + (1 + i % 200)));
        }
        assertThat(UPSTREAM.connections()).hasSize(SESSIONS);

        ExecutorService threads = Executors.newFixedThreadPool(SESSIONS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> ends = new ArrayList<>();
        try {
            for (WsClient c : sessions) {
                ends.add(threads.submit(() -> {
                    go.await();
                    return spend(c);
                }));
            }
            go.countDown();
            List<String> codes = new ArrayList<>();
            for (Future<String> end : ends) {
                codes.add(end.get(120, TimeUnit.SECONDS));
            }
            assertThat(codes).as("sessions ended by the breaker").contains("circuit_breaker_open");
        } finally {
            threads.shutdownNow();
        }
        assertThat(Http.json(Http.local(APP.getLocalPort()).get("/status")).path("circuit_breaker").asText()).isEqualTo("open");
        // the session and audit APIs answer 503 while the breaker is open: closed again to read them
        assertThat(Http.local(APP.getAdminPort()).post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);

        BigDecimal billed = BigDecimal.ZERO;
        long responses = 0;
        for (FakeUpstream.Connection up : UPSTREAM.connections()) {
            for (JsonNode u : up.billed) {
                billed = billed.add(billedUsd(u));
                responses++;
            }
        }
        BigDecimal charged = BigDecimal.ZERO;
        List<String> ids = new ArrayList<>();
        for (WsClient c : sessions) {
            String id = c.started.get("session_id").asText();
            ids.add(id);
            JsonNode l = ledger(id);
            assertThat(l.path("status").asText()).as("session %s: %s", id, l).isEqualTo("ended");
            charged = charged.add(l.get("cost_usd").decimalValue());
        }
        BigDecimal audited = CostIntegrity.audited(Http.local(APP.getLocalPort()), ids, charged);

        assertThat(billed).as("what the provider billed, against a %s threshold", THRESHOLD)
                .isLessThanOrEqualTo(THRESHOLD.multiply(new BigDecimal("1.01")));
        assertThat(charged).as("the ledgers hold exactly what was billed").isEqualByComparingTo(billed);
        assertThat(audited).as("the audit's charge rows hold exactly what was billed").isEqualByComparingTo(billed);
        CostIntegrity.attack(SESSIONS + " concurrent sessions, one thread each").billed(billed).ledger(charged).audit(audited)
                .cap("breaker", THRESHOLD).usage("arrived")
                .note(responses + " responses; the breaker opened " + CostIntegrity.usd(THRESHOLD.subtract(billed).max(BigDecimal.ZERO))
                        + " below its threshold (reservations held for the responses that could start next)").print();
    }
}
