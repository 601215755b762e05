package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.DuckeConfiguration;
import ducke.testing.CostIntegrity;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * WebRTC calls end to end: a real HTTP client posts offers to the application, whose provider is
 * the stand-in ({@link FakeUpstream}: the calls endpoint, hang-ups and the sideband), and plays
 * the caller's data channel on the stand-in. Every call presents a client secret
 * ({@code relay.clientAuth=required}); each test uses addresses and client ids of its own.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class CallsAppTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final MutableClock CLOCK = MutableClock.at("2026-12-06T09:00:00Z");
    /** Offers a minute from one address (the WebSocket's limit, a bucket of the calls' own). */
    private static final int CALLS_PER_MINUTE = 4;
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "upstream.url", UPSTREAM.url(),
            "relay.clientAuth", "required",
            "relay.allowedOrigins", "https://duck-e.example",
            "relay.callAttachTimeout", "3s",
            "relay.finalUsageWait", "1s",
            "costProtection.sweepInterval", "50ms",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", CALLS_PER_MINUTE + "/minute"));
    private static final AtomicInteger CLIENTS = new AtomicInteger();
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A browser's offer: one audio section, as the SDP a page's RTCPeerConnection writes. */
    static final String SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
            + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n";

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    @AfterEach
    void resetSwitches() {
        java.util.concurrent.CountDownLatch gate = UPSTREAM.hangupGate;
        UPSTREAM.hangupGate = null;
        if (gate != null) {
            gate.countDown();
        }
        UPSTREAM.offerStatus = 201;
        UPSTREAM.refuseAttach = 0;
        UPSTREAM.serverKey = TestApps.UPSTREAM_KEY;
    }

    private static String newAddress() {
        return "192.0.2." + CLIENTS.incrementAndGet();
    }

    private static Http http() {
        return Http.local(APP.getLocalPort());
    }

    /** A client secret for {@code clientId}; {@code maxCost} null: the session cap. */
    private static String mint(String clientId, String maxCost) {
        String body = "{\"client_id\":\"" + clientId + "\"" + (maxCost == null ? "" : ",\"max_cost_usd\":\"" + maxCost + "\"") + "}";
        HttpResponse<String> r = http().post("/v1/realtime/client_secrets", body, "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("value").asText();
    }

    /** Posts an offer from {@code address}; {@code headers} alternate names and values. */
    private static HttpResponse<String> post(String path, String contentType, byte[] body, String address, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + path))
                .timeout(Duration.ofSeconds(20)).header("X-Forwarded-For", address)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> offerSdp(String secret, String address) {
        return post("/v1/realtime/calls", "application/sdp", SDP.getBytes(StandardCharsets.UTF_8), address,
                "Authorization", "Bearer " + secret);
    }

    private static final String BOUNDARY = "----browserBoundary7MA4YWxkTrZu0gW";

    static String multipart(String... namesAndBodies) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i + 1 < namesAndBodies.length; i += 2) {
            b.append("--").append(BOUNDARY).append("\r\nContent-Disposition: form-data; name=\"").append(namesAndBodies[i])
                    .append("\"\r\n\r\n").append(namesAndBodies[i + 1]).append("\r\n");
        }
        return b.append("--").append(BOUNDARY).append("--\r\n").toString();
    }

    private static HttpResponse<String> offerMultipart(String secret, String address, String body) {
        return post("/v1/realtime/calls", "multipart/form-data; boundary=" + BOUNDARY, body.getBytes(StandardCharsets.UTF_8), address,
                "Authorization", "Bearer " + secret);
    }

    /** A call the guard admitted: its session id, and the stand-in's call with its sideband attached. */
    private record Placed(String sessionId, FakeUpstream.Call call) {
    }

    private static Placed placed(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        String location = r.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith("/v1/realtime/calls/");
        String sessionId = location.substring("/v1/realtime/calls/".length());
        String callId = r.body().lines().filter(l -> l.startsWith("a=x-test-call:")).findFirst().orElseThrow()
                .substring("a=x-test-call:".length());
        FakeUpstream.Call call = UPSTREAM.call(callId);
        // attached, and the guard's clamp applied before anything of the caller's
        Poll.until("the sideband of " + callId + " attached with the clamp", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> call.attached() && call.events.received.stream().anyMatch(m -> m.contains("event_gw_clamp")));
        return new Placed(sessionId, call);
    }

    private static Placed call(String clientId, String maxCost) throws Exception {
        return placed(offerSdp(mint(clientId, maxCost), newAddress()));
    }

    private static JsonNode session(String id) {
        return Http.json(http().get("/v1/sessions/" + id, "Authorization", SERVICE));
    }

    private static JsonNode awaitEnded(String id) throws Exception {
        Poll.until("session " + id + " ended", Duration.ofSeconds(20), Duration.ofMillis(50), () -> session(id).get("status").asText(),
                () -> "ended".equals(session(id).get("status").asText()));
        return session(id);
    }

    /**
     * What the stand-in billed for the call, priced with this test's own arithmetic: gpt-realtime
     * as config.yml prices it, 100 USD per 1M input tokens and 200 USD per 1M output tokens.
     */
    private static BigDecimal billed(FakeUpstream.Call call) {
        BigDecimal usd = BigDecimal.ZERO;
        for (JsonNode u : call.events.billed) {
            long micros = u.path("input_tokens").asLong() * 100 + u.path("output_tokens").asLong() * 200;
            usd = usd.add(BigDecimal.valueOf(micros).movePointLeft(6));
        }
        return usd;
    }

    private static BigDecimal cost(String id) {
        return session(id).get("cost_usd").decimalValue();
    }

    private static void awaitCost(String id, BigDecimal expected) throws Exception {
        Poll.until("session " + id + " charged " + expected, Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> "cost " + cost(id), () -> cost(id).compareTo(expected) == 0);
    }

    private static List<JsonNode> sent(FakeUpstream.Call call, String type) {
        return call.events.received.stream().map(CallsAppTest::tree).filter(e -> type.equals(e.path("type").asText())).toList();
    }

    private static JsonNode tree(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until the guard has read what the stand-in sent so far on the sideband: the caller
     * changes the model, and the guard's undo comes after it read every earlier event of the call.
     */
    private static void awaitGuardReadPast(Placed p) throws Exception {
        long undos = p.call().events.received.stream().filter(m -> m.contains("event_gw_undo")).count();
        p.call().callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"model\":\"gpt-other\"}}");
        Poll.until("the guard read the call's events so far", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().events.received.stream().filter(m -> m.contains("event_gw_undo")).count() > undos);
    }

    /** A counter's value once it is reached: an offer is counted after its answer is written. */
    private static void awaitMetric(String name, String labels, double expected) {
        try {
            Poll.until(name + "{" + labels + "} = " + expected, Duration.ofSeconds(10), Duration.ofMillis(20),
                    () -> "was " + metric(name, labels) + "\n" + http().get("/metrics").body().lines()
                            .filter(l -> l.startsWith(name)).collect(java.util.stream.Collectors.joining("\n")),
                    () -> metric(name, labels) == expected);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static double metric(String name, String labels) {
        return PromText.value(http().get("/metrics").body(), name, labels);
    }

    // ---- (a) the offer reaches the provider with the server key and the guard's session ----

    @Test
    void anSdpOfferIsForwardedWithTheServerKeyAndTheGuardsSession() throws Exception {
        String secret = mint("call-a1", null);
        double created = metric("relay_call_offers_total", "outcome=\"created\"");
        int before = UPSTREAM.offers.size();
        HttpResponse<String> r = offerSdp(secret, newAddress());
        Placed p = placed(r);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/sdp");
        assertThat(r.body()).startsWith("v=0");
        assertThat(UPSTREAM.offers).hasSize(before + 1);
        FakeUpstream.Offer offer = UPSTREAM.offers.get(before);
        assertThat(offer.header("Authorization")).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        assertThat(offer.headers.values()).as("the client's secret never reaches the provider").noneMatch(v -> v.contains("ek_"));
        assertThat(offer.contentType).startsWith("multipart/form-data");
        assertThat(offer.sdp).isEqualTo(SDP);
        assertThat(offer.session.get("type").asText()).isEqualTo("realtime");
        assertThat(offer.session.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(offer.session.get("max_output_tokens").isIntegralNumber()).as(offer.session.toString()).isTrue();
        assertThat(offer.session.get("max_output_tokens").asLong()).isBetween(1L, 100_000L);
        // the sideband attached with the server key too
        assertThat(p.call().sideband().authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        JsonNode s = session(p.sessionId());
        assertThat(s.get("status").asText()).isEqualTo("active");
        assertThat(s.get("client_id").asText()).isEqualTo("call-a1");
        assertThat(s.get("model").asText()).isEqualTo("gpt-realtime");
        awaitMetric("relay_call_offers_total", "outcome=\"created\"", created + 1);
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    @Test
    void aMultipartOfferKeepsTheCallersSessionButTheGuardsModelAndClamp() throws Exception {
        String secret = mint("call-a2", null);
        int before = UPSTREAM.offers.size();
        String session = "{\"type\":\"realtime\",\"model\":\"gpt-realtime\",\"instructions\":\"Be brief.\","
                + "\"max_output_tokens\":\"inf\",\"max_response_output_tokens\":\"inf\","
                + "\"tools\":[{\"type\":\"function\",\"name\":\"lookup\",\"parameters\":{}}]}";
        HttpResponse<String> r = offerMultipart(secret, newAddress(), multipart("sdp", SDP, "session", session));
        Placed p = placed(r);
        FakeUpstream.Offer offer = UPSTREAM.offers.get(before);
        assertThat(offer.header("Authorization")).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        assertThat(offer.sdp).isEqualTo(SDP);
        assertThat(offer.session.get("instructions").asText()).isEqualTo("Be brief.");
        assertThat(offer.session.get("tools").get(0).get("name").asText()).isEqualTo("lookup");
        assertThat(offer.session.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(offer.session.get("max_output_tokens").isIntegralNumber()).as(offer.session.toString()).isTrue();
        assertThat(offer.session.has("max_response_output_tokens")).isFalse();
        assertThat(r.headers().firstValue("Location").orElseThrow()).isEqualTo("/v1/realtime/calls/" + p.sessionId());
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    @Test
    void aPageOfAnAllowedOriginGetsCorsAnswers() throws Exception {
        HttpRequest preflight = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + "/v1/realtime/calls"))
                .header("Origin", "https://duck-e.example").header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type, x-unknown")
                .header("X-Forwarded-For", newAddress())
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> r;
        try {
            r = HTTP.send(preflight, HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://duck-e.example");
        assertThat(r.headers().firstValue("Access-Control-Allow-Headers")).hasValue("authorization, content-type");
        HttpResponse<String> other = post("/v1/realtime/calls", "application/sdp", SDP.getBytes(StandardCharsets.UTF_8), newAddress(),
                "Origin", "https://evil.example", "Authorization", "Bearer " + mint("call-cors", null));
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        int offers = UPSTREAM.offers.size();
        HttpResponse<String> page = post("/v1/realtime/calls", "application/sdp", SDP.getBytes(StandardCharsets.UTF_8), newAddress(),
                "Origin", "https://duck-e.example", "Authorization", "Bearer " + mint("call-cors2", null));
        Placed p = placed(page);
        assertThat(page.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://duck-e.example");
        assertThat(page.headers().firstValue("Access-Control-Expose-Headers").orElse("")).contains("Location");
        assertThat(UPSTREAM.offers.get(offers).headers).doesNotContainKey("origin");
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    // ---- (b) what the caller's responses cost is charged exactly ----

    @Test
    void aCallersResponseIsChargedExactlyInTheLedgerAndTheAudit() throws Exception {
        Placed p = call("call-b", null);
        p.call().callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_b1\",\"test_want_output\":300}");
        p.call().callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_b2\",\"test_want_output\":700}");
        Poll.until("two responses billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 2);
        // 1,000 input + 300 output, then 1,300 input + 700 output: 0.10 + 0.06 + 0.13 + 0.14
        BigDecimal billed = billed(p.call());
        assertThat(billed).isEqualByComparingTo("0.43");
        awaitCost(p.sessionId(), billed);
        p.call().callerHangsUp();
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), billed)).isEqualByComparingTo(billed);
        assertThat(CostIntegrity.sessionRow(List.of(http()), "call-b", p.sessionId(), Duration.ofSeconds(20)))
                .isEqualByComparingTo(billed);
    }

    // ---- (c) responses the caller starts beyond the clamp, or beside another, are cancelled ----

    @Test
    void aCallersInfiniteResponseIsCancelledThroughTheSidebandAndCharged() throws Exception {
        Placed p = call("call-c1", null);
        double reactions = metric("relay_call_reactions_total", "action=\"cancel_over_clamp\"");
        p.call().callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_inf\",\"response\":{\"max_output_tokens\":\"inf\"},"
                + "\"test_hold\":true,\"test_want_output\":4000}");
        Poll.until("the guard cancels resp_1", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> sent(p.call(), "response.cancel").stream().anyMatch(e -> e.path("response_id").asText().equals("resp_1")));
        // the cancel is the first thing the guard sent after the clamp: nothing of its own came between
        List<String> received = p.call().events.received;
        int clamp = -1;
        for (int i = 0; i < received.size(); i++) {
            if (received.get(i).contains("event_gw_clamp")) {
                clamp = i;
            }
        }
        assertThat(tree(received.get(clamp + 1)).path("type").asText()).isEqualTo("response.cancel");
        // the stand-in bills half of a held response when it is cancelled: 1,000 input + 2,000 output
        Poll.until("the cancelled response billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        // a figure, not asserted: how long the hostile response ran at the stand-in before the guard's cancel arrived
        System.out.println("call-inf-cancel|micros_from_response_created_to_cancel=" + p.call().events.cancelMicros);
        BigDecimal billed = billed(p.call());
        assertThat(billed).isEqualByComparingTo("0.50");
        awaitCost(p.sessionId(), billed);
        awaitMetric("relay_call_reactions_total", "action=\"cancel_over_clamp\"", reactions + 1);
        assertThat(session(p.sessionId()).get("status").asText()).isEqualTo("active");
        p.call().callerHangsUp();
        assertThat(awaitEnded(p.sessionId()).get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
    }

    @Test
    void aParallelOutOfBandResponseIsCancelledAndTheFirstGoesOn() throws Exception {
        Placed p = call("call-c2", null);
        double reactions = metric("relay_call_reactions_total", "action=\"cancel_parallel\"");
        p.call().callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_first\",\"test_hold\":true,\"test_want_output\":600}");
        p.call().callerSends("{\"type\":\"response.create\",\"event_id\":\"evt_oob\",\"response\":{\"conversation\":\"none\","
                + "\"input\":[]},\"test_hold\":true,\"test_want_output\":600}");
        Poll.until("the guard cancels resp_2", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> sent(p.call(), "response.cancel").stream().anyMatch(e -> e.path("response_id").asText().equals("resp_2")));
        Poll.until("resp_2 billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 1);
        assertThat(sent(p.call(), "response.cancel")).as("the first response is not the guard's to cancel")
                .noneMatch(e -> e.path("response_id").asText().equals("resp_1") || !e.has("response_id"));
        awaitMetric("relay_call_reactions_total", "action=\"cancel_parallel\"", reactions + 1);
        // the caller stops the first itself: both charged as billed
        p.call().callerSends("{\"type\":\"response.cancel\",\"response_id\":\"resp_1\"}");
        Poll.until("resp_1 billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 2);
        BigDecimal billed = billed(p.call());
        awaitCost(p.sessionId(), billed);
        p.call().callerHangsUp();
        assertThat(awaitEnded(p.sessionId()).get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
    }

    // ---- (d) the caller's session updates are undone ----

    @Test
    void aCallersSessionUpdateOfModelLimitAndToolsIsUndone() throws Exception {
        Placed p = call("call-d", null);
        long clamp = p.call().offer.session.get("max_output_tokens").asLong();
        double undone = metric("relay_call_reactions_total", "action=\"undo_session_update\"");
        p.call().callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"model\":\"gpt-4o-realtime-preview\","
                + "\"max_output_tokens\":\"inf\",\"tools\":[{\"type\":\"mcp\",\"server_label\":\"evil\",\"server_url\":\"https://mcp.example\"},"
                + "{\"type\":\"function\",\"name\":\"lookup\",\"parameters\":{}}]}}");
        Poll.until("the guard's undo", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().events.received.stream().anyMatch(m -> m.contains("event_gw_undo")));
        JsonNode undo = sent(p.call(), "session.update").stream().filter(e -> e.path("event_id").asText().equals("event_gw_undo"))
                .findFirst().orElseThrow().get("session");
        assertThat(undo.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(undo.get("max_output_tokens").isIntegralNumber()).isTrue();
        assertThat(undo.get("max_output_tokens").asLong()).isBetween(1L, clamp);
        assertThat(undo.get("tools")).hasSize(1);
        assertThat(undo.get("tools").get(0).get("type").asText()).isEqualTo("function");
        // the session as the provider applies it now
        Poll.until("the provider's session restored", Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
            JsonNode s = p.call().session();
            return s.get("model").asText().equals("gpt-realtime") && s.get("max_output_tokens").isIntegralNumber()
                    && s.get("tools").size() == 1;
        });
        awaitMetric("relay_call_reactions_total", "action=\"undo_session_update\"", undone + 1);
        // a response the caller starts now is held to the restored limit, and not cancelled
        p.call().callerSends("{\"type\":\"response.create\"}");
        Poll.until("billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        assertThat(p.call().events.billed.get(0).get("output_tokens").asLong()).isLessThanOrEqualTo(clamp);
        assertThat(sent(p.call(), "response.cancel")).isEmpty();
        awaitCost(p.sessionId(), billed(p.call()));
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    @Test
    void aCallersLimitOfNullOrAnUnpricedTranscriptionIsUndoneToo() throws Exception {
        Placed p = call("call-d2", null);
        p.call().callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"max_output_tokens\":null,"
                + "\"audio\":{\"input\":{\"transcription\":{\"model\":\"gpt-unpriced-transcribe\"}}}}}");
        Poll.until("the guard's undo", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().events.received.stream().anyMatch(m -> m.contains("event_gw_undo")));
        JsonNode undo = sent(p.call(), "session.update").stream().filter(e -> e.path("event_id").asText().equals("event_gw_undo"))
                .findFirst().orElseThrow().get("session");
        assertThat(undo.at("/audio/input/transcription").isNull()).as(undo.toString()).isTrue();
        assertThat(undo.get("max_output_tokens")).as("a limit of null is no limit: " + undo).isNotNull();
        assertThat(undo.get("max_output_tokens").isIntegralNumber()).isTrue();
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    @Test
    void aTranscriptionOfTheCallersAudioIsCharged() throws Exception {
        Placed p = call("call-t", null);
        p.call().callerSends("{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\","
                + "\"audio\":{\"input\":{\"transcription\":{\"model\":\"gpt-4o-mini-transcribe\"}}}}}");
        awaitGuardReadPast(p);
        assertThat(p.call().events.received).noneMatch(m -> m.contains("\"transcription\":null"));
        // the provider commits the caller's speech and transcribes 90 s of it: 0.003 a minute
        p.call().callerSends("{\"type\":\"input_audio_buffer.commit\",\"test_transcribe\":{\"seconds\":90}}");
        awaitCost(p.sessionId(), new BigDecimal("0.0045"));
        p.call().callerHangsUp();
        assertThat(awaitEnded(p.sessionId()).get("cost_usd").decimalValue()).isEqualByComparingTo("0.0045");
    }

    @Test
    void theCallersSpeechLowersTheClampAndIsChargedAsBilled() throws Exception {
        Placed p = call("call-h", null);
        long first = clamps(p.call()).get(0);
        // a minute of speech: 600 audio tokens the guard never sees, only the provider's VAD events
        p.call().callerSpeaks(60_000);
        Poll.until("a lower clamp", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> clamps(p.call()).stream().anyMatch(c -> c < first));
        long lowered = clamps(p.call()).get(clamps(p.call()).size() - 1);
        System.out.println("call-speech|clamp_before=" + first + "|clamp_after_60s=" + lowered);
        p.call().callerSends("{\"type\":\"response.create\",\"test_want_output\":100}");
        Poll.until("billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        // 1,000 + 600 input, 100 output: 0.16 + 0.02
        assertThat(billed(p.call())).isEqualByComparingTo("0.18");
        awaitCost(p.sessionId(), new BigDecimal("0.18"));
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    /** The output limits the guard set on the call, in order. */
    private static List<Long> clamps(FakeUpstream.Call call) {
        return sent(call, "session.update").stream().filter(e -> e.path("event_id").asText().equals("event_gw_clamp"))
                .map(e -> e.path("session").path("max_output_tokens").asLong()).toList();
    }

    // ---- (e) caps and the operator end a call: in flight cancelled and charged, then hung up ----

    @Test
    void aCapRaisedByPatchRaisesTheCallsClampThroughTheSideband() throws Exception {
        Placed p = call("call-e0", "0.50");
        Poll.until("the first clamp", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !clamps(p.call()).isEmpty());
        long first = clamps(p.call()).get(0);
        HttpResponse<String> raised = http().patch("/v1/sessions/" + p.sessionId(), "{\"max_cost_usd\":\"1.00\"}",
                "Authorization", SERVICE);
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
        assertThat(Http.json(raised).get("paused").asBoolean(true)).as("not paused (COST_PROTECTION_ON_CAP=end here)").isFalse();
        assertThat(session(p.sessionId()).get("max_cost_usd").decimalValue()).isEqualByComparingTo("1.00");
        Poll.until("a higher clamp on the call", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> clamps(p.call()).stream().anyMatch(c -> c > first));
        p.call().callerHangsUp();
        awaitEnded(p.sessionId());
    }

    @Test
    void aCallThatReachesItsCapIsHungUp() throws Exception {
        Placed p = call("call-e1", "0.50");
        // greedy: the whole clamp (0.50 less a 2,000-token input reserve and 2 s of audio ahead: 1,420 output)
        p.call().callerSends("{\"type\":\"response.create\"}");
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("budget_exceeded");
        BigDecimal billed = billed(p.call());
        assertThat(p.call().events.billed.get(0).get("output_tokens").asLong()).isEqualTo(1_420);
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed).isLessThanOrEqualTo(new BigDecimal("0.50"));
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        assertThat(p.call().ended()).isTrue();
        assertThat(p.call().attached()).isFalse();
    }

    @Test
    void theOperatorEndsACallWithAResponseInFlight() throws Exception {
        Placed p = call("call-e2", null);
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        awaitGuardReadPast(p);
        HttpResponse<String> end = Http.local(APP.getAdminPort()).post("/tasks/end-session?id=" + p.sessionId(), null,
                "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN);
        assertThat(end.statusCode()).as(end.body()).isEqualTo(200);
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("admin_ended");
        assertThat(sent(p.call(), "response.cancel")).isNotEmpty();
        // cancelled: half of 1,000 output on 1,000 input, 0.10 + 0.10
        assertThat(billed(p.call())).isEqualByComparingTo("0.20");
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo("0.20");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        assertThat(p.call().ended()).isTrue();
    }

    @Test
    void theOperatorApiListsACallAsACallAndEndsIt() throws Exception {
        Placed p = call("call-op1", null);
        String operator = "Bearer " + TestApps.OPERATOR_TOKEN;
        JsonNode listed = null;
        for (JsonNode s : Http.json(http().get("/v1/operator/sessions", "Authorization", operator))) {
            listed = p.sessionId().equals(s.get("session_id").asText()) ? s : listed;
        }
        assertThat(listed).as("call %s listed", p.sessionId()).isNotNull();
        assertThat(listed.get("kind").asText()).isEqualTo("call");
        assertThat(listed.get("client_id").asText()).isEqualTo("call-op1");
        assertThat(listed.get("model").asText()).isEqualTo("gpt-realtime");
        HttpResponse<String> end = http().post("/v1/operator/sessions/" + p.sessionId() + "/end", null, "Authorization", operator);
        assertThat(end.statusCode()).as(end.body()).isEqualTo(200);
        assertThat(Http.json(end).get("end_reason").asText()).isEqualTo("admin_ended");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
    }

    /**
     * The caller's events reach the provider without the guard: a response the caller starts while
     * the call ends (here: while the provider is still taking the hang-up) is seen on the sideband,
     * cancelled and charged before the ledger ends. Before, the ledger ended as soon as the
     * responses the guard knew of were charged, and the later one went uncharged.
     */
    @Test
    void aResponseTheCallerStartsWhileTheCallEndsIsChargedBeforeTheLedgerEnds() throws Exception {
        Placed p = call("call-e4", null);
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        awaitGuardReadPast(p);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        UPSTREAM.hangupGate = gate;
        HttpResponse<String> end = Http.local(APP.getAdminPort()).post("/tasks/end-session?id=" + p.sessionId(), null,
                "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN);
        assertThat(end.statusCode()).as(end.body()).isEqualTo(200);
        Poll.until("the hang-up reached the provider", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        // the provider has not ended the call yet: the caller starts another response on its data channel
        p.call().callerSends("{\"type\":\"response.create\",\"response\":{\"conversation\":\"none\"},\"test_hold\":true,"
                + "\"test_want_output\":600}");
        Poll.until("the guard cancels the late response", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> sent(p.call(), "response.cancel").stream().anyMatch(e -> e.path("response_id").asText().equals("resp_2")));
        Poll.until("both responses billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().events.billed.size() == 2);
        gate.countDown();
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("admin_ended");
        BigDecimal billed = billed(p.call());
        assertThat(ended.get("charged_responses").asInt()).isEqualTo(2);
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo(billed);
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), billed)).isEqualByComparingTo(billed);
    }

    @Test
    void aCallPastItsDurationWithAResponseInFlightIsCancelledChargedAndHungUp() throws Exception {
        Placed p = call("call-e3", null);
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        awaitGuardReadPast(p);
        CLOCK.advance(Duration.ofMinutes(31));
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("session_timeout");
        assertThat(sent(p.call(), "response.cancel")).isNotEmpty();
        Poll.until("the cancelled response billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        assertThat(billed(p.call())).isEqualByComparingTo("0.20");
        awaitCost(p.sessionId(), new BigDecimal("0.20"));
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        assertThat(CostIntegrity.audited(http(), List.of(p.sessionId()), new BigDecimal("0.20"))).isEqualByComparingTo("0.20");
    }

    @Test
    void aHangUpTheProviderIsSlowToAnswerHoldsUpNoOtherEnding() throws Exception {
        Placed a = call("call-s1", null);
        Placed b = call("call-s2", null);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        UPSTREAM.hangupGate = gate;
        // each ends with a response in flight whose usage never comes: after the final usage wait (1 s), on the relay's timer
        for (Placed p : List.of(a, b)) {
            p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_deaf\":true,\"test_want_output\":1000}");
            awaitGuardReadPast(p);
        }
        Http admin = Http.local(APP.getAdminPort());
        assertThat(admin.post("/tasks/end-session?id=" + a.sessionId(), null).statusCode()).isEqualTo(200);
        Poll.until("a's hang-up at the provider, which answers it late", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> a.call().hungUp());
        assertThat(admin.post("/tasks/end-session?id=" + b.sessionId(), null).statusCode()).isEqualTo(200);
        // the provider has not answered a's hang-up: b's ending goes on all the same
        Poll.until("b's hang-up while a's is unanswered", Duration.ofSeconds(8), Duration.ofMillis(20), () -> b.call().hungUp());
        assertThat(gate.getCount()).isEqualTo(1);
        gate.countDown();
        for (Placed p : List.of(a, b)) {
            JsonNode ended = awaitEnded(p.sessionId());
            assertThat(ended.get("end_reason").asText()).isEqualTo("admin_ended");
            // the usage never came: charged the reservation, estimated
            assertThat(ended.get("cost_usd").decimalValue()).isPositive();
            Poll.until("the call ended at the provider", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().ended());
        }
    }

    // ---- (f) refusals before anything reaches the provider ----

    @Test
    void offersTheGuardRefusesNeverReachTheProvider() throws Exception {
        int before = UPSTREAM.offers.size();
        String secret = mint("call-f1", null);
        double bad = metric("relay_call_offers_total", "outcome=\"bad_offer\"");
        HttpResponse<String> noSecret = post("/v1/realtime/calls", "application/sdp", SDP.getBytes(StandardCharsets.UTF_8), newAddress());
        assertThat(noSecret.statusCode()).isEqualTo(401);
        assertThat(Http.json(noSecret).get("error").asText()).isEqualTo("unauthorized");
        assertThat(noSecret.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        HttpResponse<String> unknown = offerSdp("ek_never-minted", newAddress());
        assertThat(unknown.statusCode()).isEqualTo(401);

        assertRefused(post("/v1/realtime/calls", "text/plain", SDP.getBytes(StandardCharsets.UTF_8), newAddress(),
                "Authorization", "Bearer " + secret), 400, "Content-Type");
        assertRefused(post("/v1/realtime/calls", null, SDP.getBytes(StandardCharsets.UTF_8), newAddress(),
                "Authorization", "Bearer " + secret), 400, "Content-Type");
        assertRefused(post("/v1/realtime/calls", "application/sdp", "hello".getBytes(StandardCharsets.UTF_8), newAddress(),
                "Authorization", "Bearer " + secret), 400, "SDP");
        assertRefused(offerMultipart(secret, newAddress(), multipart("session", "{\"type\":\"realtime\"}")), 400, "sdp part is missing");
        assertRefused(offerMultipart(secret, newAddress(), multipart("sdp", SDP, "session", "[1]")), 400, "JSON object");
        assertRefused(offerMultipart(secret, newAddress(), multipart("sdp", SDP, "session",
                "{\"type\":\"realtime\",\"tools\":[{\"type\":\"mcp\",\"server_label\":\"x\"}]}")), 400, "mcp");
        // a part without the blank line after its headers (a server error once)
        assertRefused(offerMultipart(secret, newAddress(), "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n"
                + SDP + "\r\n--" + BOUNDARY + "--\r\n"), 400, "header block");
        // refused by the API's request body limit (64 KiB, as the offer's) before the offer is read: not an offer counted
        // (its length declared and the body not sent: a body sent whole would race the early refusal, whose
        // close can reset the connection before the answer is read)
        ducke.testing.RawHttp.Answer huge = ducke.testing.RawHttp.send(APP.getLocalPort(),
                "POST /v1/realtime/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sdp\r\nX-Forwarded-For: "
                        + newAddress() + "\r\nAuthorization: Bearer " + secret + "\r\nContent-Length: " + (70 * 1024), new byte[0]);
        assertThat(huge.status()).as(huge.body()).isEqualTo(413);
        assertThat(JSON.readTree(huge.body()).get("message").asText()).contains("larger");
        assertRefused(offerMultipart(secret, newAddress(), multipart("sdp", SDP, "session", "{\"type\":\"realtime\",\"model\":\"gpt-5\"}")),
                400, "Model not allowed");
        assertRefused(post("/v1/realtime/calls?model=gpt-5", "application/sdp", SDP.getBytes(StandardCharsets.UTF_8), newAddress(),
                "Authorization", "Bearer " + secret), 400, "Model not allowed");
        awaitMetric("relay_call_offers_total", "outcome=\"bad_offer\"", bad + 7);
        assertThat(UPSTREAM.offers).as("no refused offer reached the provider").hasSize(before);
    }

    private static void assertRefused(HttpResponse<String> r, int status, String says) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode body = Http.json(r);
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("message").asText()).contains(says);
    }

    @Test
    void offersPastTheRateLimitAre429AndPreflightsAreNotCounted() {
        int before = UPSTREAM.offers.size();
        String address = newAddress();
        for (int i = 0; i < CALLS_PER_MINUTE + 2; i++) {
            HttpRequest preflight = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + "/v1/realtime/calls"))
                    .header("Origin", "https://duck-e.example").header("Access-Control-Request-Method", "POST")
                    .header("X-Forwarded-For", address).method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build();
            try {
                assertThat(HTTP.send(preflight, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(204);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        for (int i = 0; i < CALLS_PER_MINUTE; i++) {
            // refused for its body, but counted
            assertThat(post("/v1/realtime/calls", "text/plain", new byte[0], address).statusCode()).isEqualTo(400);
        }
        HttpResponse<String> limited = offerSdp(mint("call-f2", null), address);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(Http.json(limited).get("error").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(UPSTREAM.offers).hasSize(before);
    }

    @Test
    void theProvidersRefusalsAreAnsweredAndLeaveNoSlot() throws Exception {
        // one client with its three concurrent sessions: a slot left behind by any failure would refuse the last call
        String secret = mint("call-f3", null);
        int created = UPSTREAM.callsCreated();
        double refused = metric("relay_call_offers_total", "outcome=\"upstream_refused\"");
        double failed = metric("relay_call_offers_total", "outcome=\"upstream_failed\"");
        UPSTREAM.offerStatus = 400;
        HttpResponse<String> r400 = offerSdp(secret, newAddress());
        assertThat(r400.statusCode()).as(r400.body()).isEqualTo(400);
        assertThat(Http.json(r400).get("message").asText()).contains("The provider refused the offer")
                .contains("Invalid SDP offer: no audio media section (test)");
        UPSTREAM.offerStatus = 500;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r500 = offerSdp(secret, newAddress());
            assertThat(r500.statusCode()).as(r500.body()).isEqualTo(502);
            assertThat(Http.json(r500).get("error").asText()).isEqualTo("upstream_unavailable");
            assertThat(r500.headers().firstValue("Retry-After")).isPresent();
        }
        UPSTREAM.offerStatus = -1;
        HttpResponse<String> dropped = offerSdp(secret, newAddress());
        assertThat(dropped.statusCode()).as("a provider that drops the offer unanswered").isEqualTo(502);
        assertThat(Http.json(dropped).get("error").asText()).isEqualTo("upstream_unavailable");
        UPSTREAM.offerStatus = 201;
        UPSTREAM.serverKey = "another-key";
        HttpResponse<String> keyRefused = offerSdp(secret, newAddress());
        assertThat(keyRefused.statusCode()).as("the server key refused is the operator's problem").isEqualTo(502);
        assertThat(keyRefused.body()).doesNotContain("Incorrect API key");
        UPSTREAM.serverKey = TestApps.UPSTREAM_KEY;
        assertThat(UPSTREAM.callsCreated()).as("no call was created").isEqualTo(created);
        // the key refused (a 401 without WWW-Authenticate, as the provider answers) is the provider's answer, not a failure to reach it
        awaitMetric("relay_call_offers_total", "outcome=\"upstream_refused\"", refused + 5);
        awaitMetric("relay_call_offers_total", "outcome=\"upstream_failed\"", failed + 1);
        List<Placed> admitted = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            admitted.add(placed(offerSdp(secret, newAddress())));
        }
        for (Placed p : admitted) {
            assertThat(session(p.sessionId()).get("cost_usd").decimalValue()).isEqualByComparingTo("0");
            p.call().callerHangsUp();
            awaitEnded(p.sessionId());
        }
    }

    // ---- (g) the sideband: re-attached, ended by the caller, never attached ----

    @Test
    void aDroppedSidebandIsReattachedAndMeteringGoesOn() throws Exception {
        Placed p = call("call-g1", null);
        double reattached = metric("relay_call_reactions_total", "action=\"reattached\"");
        p.call().dropSideband();
        Poll.until("a second attachment", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().attaches.size() == 2 && p.call().attached()
                        && p.call().sideband().received.stream().anyMatch(m -> m.contains("event_gw_clamp")));
        assertThat(p.call().sideband().authorization).isEqualTo("Bearer " + TestApps.UPSTREAM_KEY);
        awaitMetric("relay_call_reactions_total", "action=\"reattached\"", reattached + 1);
        p.call().callerSends("{\"type\":\"response.create\",\"test_want_output\":500}");
        Poll.until("billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        BigDecimal billed = billed(p.call());
        assertThat(billed).isEqualByComparingTo("0.20");
        awaitCost(p.sessionId(), billed);
        assertThat(session(p.sessionId()).get("status").asText()).isEqualTo("active");
        // one loss, one re-attachment (a lost connection reports its close and its error)
        assertThat(p.call().attaches).hasSize(2);
        p.call().callerHangsUp();
        assertThat(awaitEnded(p.sessionId()).get("end_reason").asText()).isEqualTo("client_closed");
    }

    @Test
    void aResponseInFlightAcrossAReattachmentIsChargedOnce() throws Exception {
        Placed p = call("call-g5", null);
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        awaitGuardReadPast(p);
        assertThat(cost(p.sessionId())).isEqualByComparingTo("0");
        p.call().dropSideband();
        Poll.until("re-attached", Duration.ofSeconds(10), Duration.ofMillis(20),
                () -> p.call().attaches.size() == 2 && p.call().attached()
                        && p.call().sideband().received.stream().anyMatch(m -> m.contains("event_gw_clamp")));
        // what was in flight may have ended unseen: charged its reservation, estimated
        Poll.until("the reservation charged", Duration.ofSeconds(10), Duration.ofMillis(20), () -> cost(p.sessionId()).signum() > 0);
        BigDecimal estimated = cost(p.sessionId());
        // it had not ended: its response.done comes on the new sideband, and is not charged again
        p.call().callerSends("{\"type\":\"response.cancel\"}");
        Poll.until("billed", Duration.ofSeconds(10), Duration.ofMillis(20), () -> !p.call().events.billed.isEmpty());
        awaitGuardReadPast(p);
        BigDecimal billed = billed(p.call());
        System.out.println("call-reattach-in-flight|billed=" + billed.toPlainString() + "|charged_estimated=" + estimated.toPlainString());
        assertThat(billed).isEqualByComparingTo("0.20");
        assertThat(cost(p.sessionId())).isEqualByComparingTo(estimated).isGreaterThanOrEqualTo(billed);
        p.call().callerHangsUp();
        assertThat(awaitEnded(p.sessionId()).get("cost_usd").decimalValue()).isEqualByComparingTo(estimated);
    }

    @Test
    void aCallTheCallerEndsWithAResponseInFlightIsChargedItsReservation() throws Exception {
        Placed p = call("call-g2", null);
        p.call().callerSends("{\"type\":\"response.create\",\"test_hold\":true,\"test_want_output\":1000}");
        awaitGuardReadPast(p);
        p.call().callerHangsUp();
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("client_closed");
        assertThat(p.call().events.billed).as("the stand-in never finished the response").isEmpty();
        // the provider bills it all the same: charged its reservation, estimated
        assertThat(ended.get("cost_usd").decimalValue()).isPositive();
        assertThat(p.call().attaches).hasSize(1);
    }

    @Test
    void aSidebandThatCannotReattachWithinTheTimeoutHangsTheCallUp() throws Exception {
        Placed p = call("call-g4", null);
        double failed = metric("relay_call_reactions_total", "action=\"reattach_failed\"");
        int refusedBefore = UPSTREAM.refusedAttaches.get();
        UPSTREAM.refuseAttach = 503;
        p.call().dropSideband();
        // retried every 250 ms within the attach timeout (3 s), then hung up
        JsonNode ended = awaitEnded(p.sessionId());
        assertThat(ended.get("end_reason").asText()).isEqualTo("upstream_error");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), () -> p.call().hungUp());
        int attempts = UPSTREAM.refusedAttaches.get() - refusedBefore;
        System.out.println("call-reattach|refused_attempts=" + attempts);
        assertThat(attempts).as("attempts within 3 s, one at a time").isBetween(1, 3_000 / 250 + 4);
        awaitMetric("relay_call_reactions_total", "action=\"reattach_failed\"", failed + 1);
        assertThat(p.call().attaches).hasSize(1);
    }

    @Test
    void aSidebandThatCannotAttachHangsTheCallUp() throws Exception {
        UPSTREAM.refuseAttach = 503;
        HttpResponse<String> r = offerSdp(mint("call-g3", null), newAddress());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        String sessionId = r.headers().firstValue("Location").orElseThrow().substring("/v1/realtime/calls/".length());
        FakeUpstream.Call call = UPSTREAM.lastCall();
        JsonNode ended = awaitEnded(sessionId);
        assertThat(ended.get("end_reason").asText()).isEqualTo("upstream_error");
        assertThat(ended.get("cost_usd").decimalValue()).isEqualByComparingTo("0");
        Poll.until("the guard hung the call up", Duration.ofSeconds(10), Duration.ofMillis(20), call::hungUp);
        assertThat(call.attaches).isEmpty();
    }
}
