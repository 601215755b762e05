package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each attack a hostile client can try on a relayed session, against the real application and a
 * stand-in upstream that bills as the provider does. For every attack: what the provider billed is
 * exactly what the ledger holds, and no session spends more than 1% past its cap. The overspend of
 * each attack is printed as a table at the end ({@code bench/hostile-clients.sh}).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class HostileClientTest {

    private static final String CAP = "0.50";
    private static final String CLIENT_CAP = "1.00";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-30T09:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "costProtection.maxSessionCostUsd", CAP,
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "costProtection.maxClientCostPerHourUsd", CLIENT_CAP,
            "relay.finalUsageWait", "10s",
            "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", "100000/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    private static final Map<String, BigDecimal> OVERSPEND = new TreeMap<>();
    /** Per attack, for bench/hostile-clients.sh: its sessions, what the stand-in billed, what the ledgers hold, the cap. */
    private record Measured(String attack, List<String> sessions, BigDecimal billed, BigDecimal ledger, String cap, String capUsd) {
    }

    private static final List<Measured> MEASURED = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterAll
    static void report() throws Exception {
        UPSTREAM.close();
        StringBuilder table = new StringBuilder("\n| attack | largest overspend past the session cap (" + CAP + ") |\n|---|---|\n");
        OVERSPEND.forEach((attack, usd) -> table.append("| ").append(attack).append(" | ").append(usd.toPlainString()).append(" |\n"));
        System.out.println("hostile-clients" + table);
        for (Measured m : MEASURED) {
            CostIntegrity.attack(m.attack()).billed(m.billed()).ledger(m.ledger())
                    .audit(CostIntegrity.audited(Http.local(APP.getLocalPort()), m.sessions(), m.ledger()))
                    .cap(m.cap(), new BigDecimal(m.capUsd())).usage("arrived").print();
        }
    }

    private static String newClient() {
        return "198.51.100." + CLIENTS.incrementAndGet();
    }

    private record Opened(WsClient ws, FakeUpstream.Connection up, String id) {
    }

    private static Opened open(String... headers) throws Exception {
        return openAs(newClient(), headers);
    }

    private static Opened openAs(String address, String... headers) throws Exception {
        int before = UPSTREAM.connections().size();
        String[] all = new String[headers.length + 2];
        all[0] = "X-Forwarded-For";
        all[1] = address;
        System.arraycopy(headers, 0, all, 2, headers.length);
        WsClient c = WsClient.connect(APP.getLocalPort(), "", all);
        c.started = c.nextEvent();
        c.until("session.created");
        return new Opened(c, UPSTREAM.connections().get(before), c.started.get("session_id").asText());
    }

    private static JsonNode session(String id) {
        return Http.json(Http.local(APP.getLocalPort()).get("/v1/sessions/" + id, "Authorization", "Bearer " + TestApps.SERVICE_TOKEN));
    }

    private static JsonNode awaitEnded(String id) {
        long deadline = System.currentTimeMillis() + 20_000;
        JsonNode s = session(id);
        while (!"ended".equals(s.get("status").asText())) {
            assertThat(System.currentTimeMillis()).as("session %s ended in time", id).isLessThan(deadline);
            s = session(id);
        }
        return s;
    }

    /**
     * What the stand-in billed on this connection, priced with this test's own arithmetic (not the
     * production price table or parser): gpt-realtime as config.yml prices it, 100 USD per 1M input
     * tokens of any kind and 200 USD per 1M output tokens.
     */
    private static BigDecimal billed(FakeUpstream.Connection up) {
        BigDecimal usd = BigDecimal.ZERO;
        for (JsonNode u : up.billed) {
            long micros = u.path("input_tokens").asLong() * 100 + u.path("output_tokens").asLong() * 200;
            usd = usd.add(BigDecimal.valueOf(micros).movePointLeft(6));
        }
        return usd;
    }

    /** Billed equals charged, and the overspend past the cap stays within 1% of it. */
    private static void assertBounded(String attack, Opened o) {
        JsonNode s = awaitEnded(o.id());
        BigDecimal cost = s.get("cost_usd").decimalValue();
        assertThat(cost).as("%s: what the provider billed is in the ledger", attack).isEqualByComparingTo(billed(o.up()));
        MEASURED.add(new Measured(attack, List.of(o.id()), billed(o.up()), cost, "session", CAP));
        BigDecimal over = cost.subtract(new BigDecimal(CAP)).max(BigDecimal.ZERO);
        OVERSPEND.merge(attack, over, BigDecimal::max);
        assertThat(over).as("%s: overspend past the cap", attack).isLessThanOrEqualTo(new BigDecimal(CAP).movePointLeft(2));
    }

    /** The client's close, unless the gateway closed first (a session that used up its budget ends itself). */
    private static void closeUnlessEnded(Opened o) {
        try {
            o.ws().ws.sendClose(1000, "bye").join();
        } catch (java.util.concurrent.CompletionException closedMeanwhile) {
            // the gateway ended the session first
        }
    }

    private static String firstReceived(FakeUpstream.Connection up) {
        long deadline = System.currentTimeMillis() + 10_000;
        while (up.received.isEmpty()) {
            assertThat(System.currentTimeMillis()).as("upstream received a frame").isLessThan(deadline);
            Thread.onSpinWait();
        }
        return up.received.get(0);
    }

    private static long count(FakeUpstream.Connection up, String type) {
        return up.received.stream().filter(m -> m.contains("\"type\":\"" + type + "\"")).count();
    }

    @Test
    void theClampIsSetOnTheUpstreamSessionBeforeAnythingOfTheClients() throws Exception {
        Opened o = open();
        JsonNode first = JSON.readTree(firstReceived(o.up()));
        assertThat(first.path("type").asText()).isEqualTo("session.update");
        assertThat(first.path("session").path("type").asText()).isEqualTo("realtime");
        // 0.50 less a 2,000-token input reserve at 100 per 1M (0.20) pays 1,500 output tokens at 200 per 1M; the
        // session's clamp is set 2 s of audio ahead (128,000 characters = 160 tokens at the first 800 a token:
        // 0.016), which leaves 1,420
        assertThat(first.path("session").path("max_output_tokens").asLong()).isEqualTo(1_420);
        o.ws().ws.abort();
    }

    @Test
    void infiniteOutputIsClampedToWhatTheBudgetCanPay() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"max_output_tokens\":\"inf\"}}");
        while (true) {
            // the session may end (and close) as soon as it cannot pay another response: its events are still queued
            o.ws().sendIfOpen("{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":\"inf\",\"max_response_output_tokens\":\"inf\"}}");
            JsonNode e = o.ws().nextEvent();
            while (!e.path("type").asText().matches("usage_update|budget_exceeded|error")) {
                e = o.ws().nextEvent();
            }
            if (!e.path("type").asText().equals("usage_update")) {
                assertThat(e.path("type").asText()).isEqualTo("budget_exceeded");
                break;
            }
        }
        assertThat(o.up().received.stream().filter(m -> m.contains("\"inf\""))).as("no \"inf\" reaches the upstream").isEmpty();
        assertThat(o.up().billed).as("responses billed").isNotEmpty();
        assertThat(o.up().billed.get(0).path("output_tokens").asLong()).as("first response's output, clamped").isEqualTo(1_500);
        assertBounded("inf output tokens", o);
    }

    @Test
    void aSecondResponseWhileOneIsInProgressIsRefusedOutOfBandToo() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":800}");
        o.ws().until("response.created");
        o.ws().send("{\"type\":\"response.create\",\"event_id\":\"evt_second\"}");
        JsonNode refused = o.ws().until("error");
        assertThat(refused.at("/error/code").asText()).isEqualTo("conversation_already_has_active_response");
        assertThat(refused.at("/error/event_id").asText()).isEqualTo("evt_second");
        o.ws().send("{\"type\":\"response.create\",\"event_id\":\"evt_oob\",\"response\":{\"conversation\":\"none\",\"input\":[]}}");
        assertThat(o.ws().until("error").at("/error/event_id").asText()).isEqualTo("evt_oob");
        o.ws().send("{\"type\":\"response.cancel\"}");
        o.ws().until("usage_update");
        o.ws().send("{\"type\":\"response.create\",\"test_want_output\":10}");
        o.ws().until("usage_update");
        assertThat(count(o.up(), "response.create")).as("response.create events that reached the upstream").isEqualTo(2);
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("parallel and out-of-band responses", o);
        String metrics = Http.local(APP.getLocalPort()).get("/metrics").body();
        assertThat(PromText.value(metrics, "relay_client_events_refused_total", "code=\"conversation_already_has_active_response\""))
                .isGreaterThanOrEqualTo(2);
    }

    @Test
    void theModelCannotBeSwitchedAndTranscriptionNeedsAPrice() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"session.update\",\"event_id\":\"evt_m\",\"session\":{\"type\":\"realtime\",\"model\":\"gpt-5\"}}");
        JsonNode e = o.ws().until("error");
        assertThat(e.at("/error/code").asText()).isEqualTo("model_change_not_allowed");
        assertThat(e.at("/error/event_id").asText()).isEqualTo("evt_m");
        o.ws().send("{\"type\":\"response.create\",\"response\":{\"model\":\"gpt-5\"}}");
        assertThat(o.ws().until("error").at("/error/code").asText()).isEqualTo("model_change_not_allowed");
        o.ws().send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"input\":{\"transcription\":{\"model\":\"free-whisper\"}}}}}");
        assertThat(o.ws().until("error").at("/error/code").asText()).isEqualTo("transcription_model_not_allowed");
        o.ws().send("{\"type\":\"transcription_session.update\",\"session\":{\"input_audio_transcription\":{\"model\":\"free-whisper\"}}}");
        assertThat(o.ws().until("error").at("/error/code").asText()).isEqualTo("transcription_model_not_allowed");
        String priced = "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"model\":\"gpt-realtime\","
                + "\"audio\":{\"input\":{\"transcription\":{\"model\":\"gpt-5-mini\"}}}}}";
        o.ws().send(priced);
        o.ws().send("{\"type\":\"input_audio_buffer.commit\"}");
        RelayAppTest.awaitReceived(o.up(), "{\"type\":\"input_audio_buffer.commit\"}");
        assertThat(o.up().received).contains(priced);
        assertThat(o.up().received.stream().filter(m -> m.contains("gpt-5\"") || m.contains("free-whisper"))).isEmpty();
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("model switch", o);
    }

    @Test
    void eventsOutsideTheRealtimeApiAreRefusedAndTheSessionGoesOn() throws Exception {
        Opened o = open();
        List<String> hostile = List.of(
                "{\"type\":\"echo\",\"event_id\":\"evt_h1\"}",
                "not json at all",
                "[1,2,3]",
                "{\"event_id\":\"no type\"}",
                "{\"type\":\"input_audio_buffer.append\",\"type\":\"response.create\",\"audio\":\"QUJD\"}",
                "{\"item\":{\"type\":\"input_audio_buffer.append\"},\"type\":\"session.delete\"}",
                "{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":1},\"response\":{\"max_output_tokens\":\"inf\"}}");
        for (String frame : hostile) {
            o.ws().send(frame);
            JsonNode e = o.ws().until("error");
            assertThat(e.at("/error/type").asText()).isEqualTo("invalid_request_error");
            assertThat(e.at("/error/code").asText()).as("answer to %s", frame).isEqualTo("event_not_allowed");
        }
        o.ws().ws.sendBinary(ByteBuffer.wrap(new byte[]{1, 2, 3}), true).join();
        assertThat(o.ws().until("error").at("/error/code").asText()).isEqualTo("event_not_allowed");
        o.ws().send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\",\"content\":[]}}");
        assertThat(o.ws().until("conversation.item.created")).isNotNull();
        assertThat(o.up().received.stream().filter(m -> m.contains("echo") || m.contains("session.delete") || m.contains("\"inf\"")))
                .isEmpty();
        assertThat(o.up().received).noneMatch(m -> m.startsWith("<binary"));
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("events outside the API", o);
    }

    /**
     * Server VAD starts a response of its own just as the gateway cancels the one in flight for an
     * ending: nobody is left to hear it, so it is cancelled too, its usage awaited and charged.
     */
    @Test
    void aResponseTheUpstreamStartsWhileTheSessionEndsIsCancelledAndCharged() throws Exception {
        double missedBefore = PromText.value(Http.local(APP.getLocalPort()).get("/metrics").body(), "relay_final_usage_missed_total", "");
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000,\"test_vad_on_cancel\":true}");
        o.ws().until("response.created");
        o.ws().ws.abort();
        JsonNode s = awaitEnded(o.id());
        assertThat(s.get("end_reason").asText()).isEqualTo("client_closed");
        // resp_1 is the client's; resp_2 the one the upstream started as the ending cancelled resp_1
        assertThat(o.up().received).as("the upstream's own response cancelled by its id")
                .anyMatch(m -> m.contains("\"response.cancel\"") && m.contains("\"response_id\":\"resp_2\""));
        assertThat(o.up().billed).as("both responses billed, both done").hasSize(2);
        assertBounded("response started during the ending", o);
        assertThat(PromText.value(Http.local(APP.getLocalPort()).get("/metrics").body(), "relay_final_usage_missed_total", ""))
                .as("every tail arrived").isEqualTo(missedBefore);
    }

    @Test
    void aClientThatDisconnectsMidResponsePaysForIt() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        o.ws().until("response.created");
        o.ws().ws.abort();
        JsonNode s = awaitEnded(o.id());
        assertThat(s.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(count(o.up(), "response.cancel")).isEqualTo(1);
        assertThat(billed(o.up())).isPositive();
        assertBounded("disconnect mid-response", o);
        long deadline = System.currentTimeMillis() + 10_000;
        while (o.up().open()) {
            assertThat(System.currentTimeMillis()).as("upstream closed after the tail").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void theDurationCapMidResponseChargesTheCancelledResponse() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":600}");
        o.ws().until("response.created");
        CLOCK.advance(Duration.ofMinutes(31));
        JsonNode update = o.ws().until("usage_update");
        assertThat(update.get("session_cost").decimalValue()).isPositive();
        o.ws().until("session_timeout");
        assertThat(o.ws().awaitClose()).isEqualTo(1008);
        assertThat(awaitEnded(o.id()).get("end_reason").asText()).isEqualTo("session_timeout");
        assertBounded("timeout mid-response", o);
    }

    private static String append(int base64Chars) {
        return "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "A".repeat(base64Chars) + "\"}";
    }

    /**
     * Near the end of the budget (a $0.50 cap clamps output to ~1,500 tokens), a response the
     * upstream starts by itself after audio (server VAD) carries the session's limit: the guard set
     * it ahead of the audio, so the response fits and the user's turn is answered, not cancelled.
     */
    @Test
    void aServerVadResponseNearTheEndOfTheBudgetIsAnsweredNotCancelled() throws Exception {
        Opened o = open();
        for (int i = 0; i < 3; i++) {
            o.ws().send(append(48_000));
        }
        o.ws().send("{\"type\":\"input_audio_buffer.commit\",\"test_vad\":true}");
        JsonNode done = o.ws().until("response.done");
        assertThat(done.at("/response/status").asText()).isEqualTo("completed");
        o.ws().until("usage_update");
        assertThat(count(o.up(), "response.cancel")).as("the user's turn was not cancelled").isZero();
        closeUnlessEnded(o); // the answer used what was left of the budget: the gateway may end the session first
        assertBounded("server VAD near the end of the budget", o);
    }

    /**
     * Audio appended and cleared, then one response reporting few audio tokens: the observed ratio
     * is ~166,000 characters a token, which would price the next 20M characters (3,125 tokens of
     * PCM16) at ~150 tokens. The guard never learns a ratio above what the format carries.
     */
    @Test
    void clearedAudioCannotTeachTheGuardACheapAudioRatio() throws Exception {
        Opened o = open();
        o.ws().send(append(800_000));
        o.ws().send(append(800_000));
        o.ws().send("{\"type\":\"input_audio_buffer.clear\"}");
        o.ws().send(append(64_000));
        o.ws().send("{\"type\":\"input_audio_buffer.commit\"}");
        o.ws().send("{\"type\":\"response.create\",\"test_script\":[{\"type\":\"response.created\",\"response\":{\"id\":\"r_teach\"}},"
                + "{\"type\":\"response.done\",\"response\":{\"id\":\"r_teach\",\"status\":\"completed\",\"output\":[],\"usage\":"
                + "{\"total_tokens\":1020,\"input_tokens\":1010,\"output_tokens\":10,"
                + "\"input_token_details\":{\"text_tokens\":1000,\"audio_tokens\":10,\"cached_tokens\":0},"
                + "\"output_token_details\":{\"text_tokens\":10,\"audio_tokens\":0}}}}]}");
        o.ws().until("usage_update");
        for (int i = 0; i < 20; i++) {
            int before = o.up().received.size();
            if (!o.ws().sendIfOpen(append(1_000_000))) {
                break;
            }
            // paced like a real client: each second of audio reaches the upstream before the next
            ducke.testing.Poll.until("the append relayed or the session ended", Duration.ofSeconds(20), Duration.ofMillis(5),
                    () -> o.up().received.size() > before || o.ws().closed.isDone());
        }
        o.ws().sendIfOpen("{\"type\":\"input_audio_buffer.commit\"}");
        o.ws().sendIfOpen("{\"type\":\"response.create\"}");
        // the response is charged (usage_update) or refused (budget_exceeded), or the session ended meanwhile
        for (WsClient.Received r = o.ws().next(); r.text() != null; r = o.ws().next()) {
            String type = JSON.readTree(r.text()).path("type").asText();
            if (type.equals("usage_update") || type.equals("budget_exceeded")) {
                break;
            }
        }
        closeUnlessEnded(o);
        assertBounded("cleared audio teaches a cheap ratio", o);
    }

    @Test
    void anAudioFloodEndsTheSessionBeforeAResponseItCannotPayFor() throws Exception {
        Opened o = open();
        String chunk = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + "UklGRg==".repeat(8_000) + "\"}";
        try {
            for (int i = 0; i < 200 && o.ws().received.stream().noneMatch(r -> r.text() != null && r.text().contains("budget_exceeded")); i++) {
                o.ws().send(chunk);
            }
        } catch (java.util.concurrent.CompletionException closedMeanwhile) {
            // the gateway ended the session while audio was still being sent
        }
        // the client may still be sending when the gateway closes; what counts is how the session ended
        assertThat(awaitEnded(o.id()).get("end_reason").asText()).isEqualTo("budget_exceeded");
        assertThat(count(o.up(), "response.create")).isZero();
        assertBounded("audio flood", o);
    }

    @Test
    void aModelThatKeepsCallingASpentToolGetsOneGatewayResponse() throws Exception {
        Opened o = open();
        String client = o.ws().started.path("client").asText();
        Http http = Http.local(APP.getLocalPort());
        String who = "{\"client_id\":\"" + clientOf(o) + "\"}";
        for (int i = 0; i < 5; i++) {
            http.post("/v1/tools/web_search/calls", who, "Authorization", "Bearer " + TestApps.SERVICE_TOKEN);
        }
        o.ws().send("{\"type\":\"response.create\",\"test_loop\":true,\"test_script\":["
                + RelayAppTest.functionCallEvents("item_loop", "call_loop", "web_search") + "]}");
        o.ws().until("usage_update");
        o.ws().until("usage_update");
        // the gateway answers a blocked call upstream after the client heard of the response's charge
        ducke.testing.Poll.until("both blocked calls answered upstream", Duration.ofSeconds(20), Duration.ofMillis(5),
                () -> o.up().received.stream().filter(m -> m.contains("function_call_output")).count() >= 2);
        // then a marker: whatever the gateway sent upstream with the second answer is there before its echo
        o.ws().send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"marker\":2}}");
        JsonNode created = o.ws().until("conversation.item.created");
        while (!created.path("item").has("marker")) {
            created = o.ws().until("conversation.item.created");
        }
        assertThat(o.up().received.stream().filter(m -> m.contains("function_call_output"))).hasSize(2);
        assertThat(o.up().received.stream().filter(m -> m.contains("\"response.create\"") && !m.contains("test_script")))
                .as("responses the gateway asked for").hasSize(1);
        assertThat(client).isNotNull();
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("tool-call loop", o);
    }

    @Test
    void anAdminEndMidResponseStillChargesTheResponseToLedgerAndAudit() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":900}");
        o.ws().until("response.created");
        assertThat(Http.local(APP.getAdminPort()).post("/tasks/end-session?id=" + o.id(), null).statusCode()).isEqualTo(200);
        JsonNode update = o.ws().until("usage_update");
        assertThat(update.get("session_cost").decimalValue()).isEqualByComparingTo(billed(o.up()));
        o.ws().until("session_ended");
        assertThat(o.ws().nextEvent().at("/error/code").asText()).isEqualTo("session_ended");
        assertBounded("admin end mid-response", o);
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            JsonNode rows = Http.json(Http.local(APP.getLocalPort()).get("/v1/audit/sessions?client=" + clientOf(o),
                    "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN));
            JsonNode row = rows.path("sessions").path(0);
            if (!row.isMissingNode() && row.path("cost_usd").decimalValue().compareTo(billed(o.up())) == 0) {
                assertThat(row.path("end_reason").asText()).isEqualTo("admin_ended");
                break;
            }
            assertThat(System.currentTimeMillis()).as("audit row with the tail's cost: %s", rows).isLessThan(deadline);
        }
    }

    @Test
    void rotatingAddressesInsideOneIpv6NetworkIsOneClient() throws Exception {
        // each live session reserves its next response's worst case (here its whole 0.50 cap) against
        // its client's hour (1.00): two sessions of the /64 fill it, a third address in it is the same client
        List<Opened> held = new java.util.ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            held.add(openAs("2001:db8:77:1::" + i));
        }
        var refused = WsClient.refused(APP.getLocalPort(), "", "X-Forwarded-For", "2001:db8:77:1:ffff:1:2:3");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(Http.json(refused).get("error").asText()).isEqualTo("client_budget_exceeded");
        assertThat(clientOf(held.get(0))).isEqualTo("2001:db8:77:1::/64");
        Opened other = openAs("2001:db8:77:2::1");
        assertThat(clientOf(other)).isEqualTo("2001:db8:77:2::/64");
        for (Opened o : held) {
            o.ws().ws.sendClose(1000, "").join();
            awaitEnded(o.id());
        }
        other.ws().ws.sendClose(1000, "").join();
    }

    @Test
    void oneClientAloneCannotSpendPastItsHourlyCapWithNewSessions() throws Exception {
        String address = "198.51.100.250";
        BigDecimal spent = BigDecimal.ZERO;
        BigDecimal billed = BigDecimal.ZERO;
        List<String> ids = new java.util.ArrayList<>();
        int sessions = 0;
        while (true) {
            Opened o;
            try {
                int before = UPSTREAM.connections().size();
                WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", address);
                c.started = c.nextEvent();
                JsonNode next = c.nextEvent();
                if (!next.path("type").asText().equals("session.created")) {
                    // admitted while the client's hour still had room, but not enough for one response:
                    // ended before anything was forwarded
                    assertThat(next.path("type").asText()).isEqualTo("session_ended");
                    assertThat(c.until("error").at("/error/code").asText()).isEqualTo("client_budget_exceeded");
                    assertThat(awaitEnded(c.started.get("session_id").asText()).get("cost_usd").decimalValue())
                            .isEqualByComparingTo("0");
                    break;
                }
                o = new Opened(c, UPSTREAM.connections().get(before), c.started.get("session_id").asText());
            } catch (java.util.concurrent.CompletionException e) {
                @SuppressWarnings("unchecked")
                var refusal = (java.net.http.HttpResponse<String>) ((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse();
                assertThat(refusal.statusCode()).isEqualTo(429);
                assertThat(Http.json(refusal).get("error").asText()).isEqualTo("client_budget_exceeded");
                assertThat(Long.parseLong(refusal.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 3660L);
                break;
            }
            o.ws().send("{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":\"inf\"}}");
            o.ws().until("usage_update");
            if (!o.ws().ws.isOutputClosed()) {
                o.ws().ws.sendClose(1000, "").exceptionally(closedMeanwhile -> null).join();
            }
            spent = spent.add(awaitEnded(o.id()).get("cost_usd").decimalValue());
            billed = billed.add(billed(o.up()));
            ids.add(o.id());
            sessions++;
            assertThat(sessions).as("sessions before the client cap").isLessThan(10);
        }
        BigDecimal over = spent.subtract(new BigDecimal(CLIENT_CAP)).max(BigDecimal.ZERO);
        OVERSPEND.merge("one client past its hourly cap (" + CLIENT_CAP + ")", over, BigDecimal::max);
        MEASURED.add(new Measured("one client, one session after another", ids, billed, spent, "client hour", CLIENT_CAP));
        // every response is reserved against the client's hour: its sessions together stop at its cap
        assertThat(over).isLessThanOrEqualTo(new BigDecimal(CLIENT_CAP).movePointLeft(2));
    }

    private static String clientOf(Opened o) {
        return session(o.id()).get("client_id").asText();
    }

    /**
     * The beta interface names the session's limit {@code max_response_output_tokens} and a
     * response's {@code max_output_tokens} (the stand-in reads only those): whatever name the client
     * used, the limit goes upstream under the right one. Before, a beta response's limit went as
     * {@code max_response_output_tokens}, which the upstream does not read there: the response ran
     * to the session's limit (1,420 tokens for the 7 asked) and was cancelled too late.
     */
    @Test
    void aBetaClientGetsTheBetaVocabularyAndItsHeaderForwarded() throws Exception {
        Opened o = open("OpenAI-Beta", "realtime=v1");
        assertThat(o.up().beta).isEqualTo("realtime=v1");
        JsonNode first = JSON.readTree(firstReceived(o.up()));
        assertThat(first.path("session").path("max_response_output_tokens").asLong()).isEqualTo(1_420);
        assertThat(first.path("session").has("type")).isFalse();
        o.ws().send("{\"type\":\"session.update\",\"session\":{\"max_output_tokens\":\"inf\"}}");
        o.ws().send("{\"type\":\"response.create\",\"response\":{\"max_response_output_tokens\":7}}");
        o.ws().until("usage_update");
        assertThat(o.up().billed.get(0).path("output_tokens").asLong()).as("output within the client's limit").isEqualTo(7);
        assertThat(count(o.up(), "response.cancel")).as("nothing to cancel").isZero();
        String update = o.up().received.stream().filter(m -> m.contains("\"session.update\"")).skip(1).findFirst().orElseThrow();
        assertThat(JSON.readTree(update).at("/session/max_response_output_tokens").asLong()).isEqualTo(1_420);
        assertThat(JSON.readTree(update).at("/session").has("max_output_tokens")).isFalse();
        String create = o.up().received.stream().filter(m -> m.contains("\"response.create\"")).findFirst().orElseThrow();
        assertThat(JSON.readTree(create).at("/response/max_output_tokens").asLong()).isEqualTo(7);
        assertThat(JSON.readTree(create).at("/response").has("max_response_output_tokens")).isFalse();
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("beta vocabulary", o);
    }

    /**
     * Two turns on a context of ~1,550 tokens, an out-of-band response whose own input is empty,
     * then a turn the client wants as long as possible. The out-of-band report says nothing about the
     * conversation: the last turn is still clamped for the whole context. Before, its report became
     * the context (20 tokens), and the last turn overshot the $0.50 cap by $0.15.
     */
    @Test
    void anOutOfBandResponseDoesNotMakeTheConversationLookFree() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\","
                + "\"content\":[{\"type\":\"input_text\",\"text\":\"" + "x".repeat(2_000) + "\"}]}}");
        for (int turn = 0; turn < 2; turn++) {
            o.ws().send("{\"type\":\"response.create\",\"test_want_output\":20}");
            o.ws().until("usage_update");
        }
        o.ws().send("{\"type\":\"response.create\",\"response\":{\"conversation\":\"none\",\"input\":[]},\"test_want_output\":20}");
        JsonNode oob = o.ws().until("response.done");
        assertThat(oob.at("/response/usage/input_tokens").asLong()).as("billed by its own input").isZero();
        o.ws().until("usage_update");
        o.ws().send("{\"type\":\"response.create\"}");
        for (JsonNode e = o.ws().nextEvent(); !e.path("type").asText().matches("usage_update|budget_exceeded"); e = o.ws().nextEvent()) {
            // the last turn's events
        }
        closeUnlessEnded(o);
        assertBounded("out-of-band response, then the conversation", o);
    }

    /**
     * A client's own limit on the session is written as the guard's session clamp, 2 s of audio
     * ahead, and is the clamp the guard keeps: a response server VAD starts after a second of audio
     * fits and is answered. Before, the client's limit was rewritten to the clamp without the
     * headroom (1,500) while the guard still thought 1,420 was set, and the response was cancelled.
     */
    @Test
    void aClientsSessionLimitKeepsTheAudioHeadroom() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"max_output_tokens\":4096}}");
        o.ws().send(append(64_000));
        o.ws().send("{\"type\":\"input_audio_buffer.commit\",\"test_vad\":true}");
        JsonNode done = o.ws().until("response.done");
        assertThat(done.at("/response/status").asText()).isEqualTo("completed");
        o.ws().until("usage_update");
        assertThat(count(o.up(), "response.cancel")).as("the user's turn was not cancelled").isZero();
        String update = o.up().received.stream().filter(m -> m.contains("\"session.update\"")).skip(1).findFirst().orElseThrow();
        assertThat(JSON.readTree(update).at("/session/max_output_tokens").asLong()).isEqualTo(1_420);
        closeUnlessEnded(o);
        assertBounded("client session limit", o);
    }

    /**
     * A response.create goes upstream under the gateway's own event id: an upstream error naming the
     * client's id (here about a response.cancel with the same id, sent while the response waits to
     * start) does not release the response's reservation, so a second response is still refused.
     * An error about the response.create itself reaches the client under the client's id. Before,
     * the error released the reservation and the second response ran next to the first.
     */
    @Test
    void aClientEventIdCannotReleaseAResponsesReservation() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"response.create\",\"event_id\":\"evt_refused\",\"test_refuse\":true}");
        JsonNode refused = o.ws().until("error");
        assertThat(refused.at("/error/code").asText()).isEqualTo("invalid_value");
        assertThat(refused.at("/error/event_id").asText()).as("the client's own id").isEqualTo("evt_refused");
        o.ws().send("{\"type\":\"response.create\",\"event_id\":\"evt_x\",\"test_defer\":true,\"test_want_output\":10}");
        o.ws().send("{\"type\":\"response.cancel\",\"event_id\":\"evt_x\"}");
        JsonNode collision = o.ws().until("error");
        assertThat(collision.at("/error/code").asText()).isEqualTo("response_cancel_not_active");
        assertThat(collision.at("/error/event_id").asText()).isEqualTo("evt_x");
        o.ws().send("{\"type\":\"response.create\",\"event_id\":\"evt_y\",\"test_want_output\":10}");
        JsonNode second = o.ws().until("error");
        assertThat(second.at("/error/code").asText()).isEqualTo("conversation_already_has_active_response");
        assertThat(second.at("/error/event_id").asText()).isEqualTo("evt_y");
        o.ws().send("{\"type\":\"input_audio_buffer.clear\",\"test_release\":true}");
        o.ws().until("usage_update");
        assertThat(o.up().received.stream().filter(m -> m.contains("\"response.create\"")))
                .as("the refused one and the deferred one").hasSize(2)
                .noneMatch(m -> m.contains("evt_"));
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("event id collision", o);
    }

    /** MCP tools and stored prompts add input the guard cannot see: refused unless the deployment allows them. */
    @Test
    void toolsAndPromptsTheGuardCannotSeeAreRefused() throws Exception {
        Opened o = open();
        o.ws().send("{\"type\":\"session.update\",\"event_id\":\"evt_mcp\",\"session\":{\"type\":\"realtime\","
                + "\"tools\":[{\"type\":\"mcp\",\"server_label\":\"big\",\"server_url\":\"https://mcp.example/sse\"}]}}");
        JsonNode mcp = o.ws().until("error");
        assertThat(mcp.at("/error/code").asText()).isEqualTo("tool_type_not_allowed");
        assertThat(mcp.at("/error/event_id").asText()).isEqualTo("evt_mcp");
        o.ws().send("{\"type\":\"response.create\",\"response\":{\"prompt\":{\"id\":\"pmpt_123\"}}}");
        assertThat(o.ws().until("error").at("/error/code").asText()).isEqualTo("tool_type_not_allowed");
        assertThat(o.up().received.stream().filter(m -> m.contains("mcp.example") || m.contains("pmpt_"))).isEmpty();
        o.ws().ws.sendClose(1000, "").join();
        assertBounded("MCP tools and stored prompts", o);
    }
}
