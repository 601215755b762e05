package ducke.app;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The session API over real HTTP: the seed's figures, warnings, ends, and every kind of bad input. */
@ExtendWith(DropwizardExtensionsSupport.class)
class SessionApiAppTest {

    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T14:00:00Z");
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "upstream.allowedModels", "gpt-realtime,gpt-5,gpt-5-mini",
            // this backend makes many calls from one address; its route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private Http http;

    @BeforeEach
    void client() {
        http = Http.local(APP.getLocalPort());
    }

    private String start(String model) {
        HttpResponse<String> r = http.post("/v1/sessions",
                "{\"client_id\":\"192.0.2." + CLIENTS.incrementAndGet() + "\",\"model\":\"" + model + "\"}", "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private HttpResponse<String> usage(String id, String json) {
        return http.post("/v1/sessions/" + id + "/usage", json, "Authorization", SERVICE);
    }

    private static BigDecimal money(JsonNode n, String field) {
        return n.get(field).decimalValue();
    }

    @Test
    void startAnswersWithTheBudgetAndExpiry() {
        HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"192.0.2.200\"}", "Authorization", SERVICE);
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode s = Http.json(r);
        assertThat(s.get("session_id").asText()).matches("sess_[0-9a-f]{32}");
        assertThat(s.get("max_cost_usd").toString()).isEqualTo("5.00");
        assertThat(s.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(s.get("expires_at").asText()).isEqualTo("2026-11-27T14:30:00Z");
        assertThat(s.get("max_duration_seconds").asLong()).isEqualTo(1800);
    }

    @Test
    void theOriginalFiguresComeOutExactly() {
        assertThat(Http.json(usage(start("gpt-5"), "{\"input_tokens\":100000,\"output_tokens\":200000}")).get("call_cost").toString())
                .isEqualTo("7.00");
        assertThat(Http.json(usage(start("gpt-5-mini"), "{\"input_tokens\":1000000,\"output_tokens\":500000}")).get("call_cost").toString())
                .isEqualTo("10.50");
        assertThat(Http.json(usage(start("gpt-realtime"), "{\"input_tokens\":50000,\"output_tokens\":100000}")).get("call_cost").toString())
                .isEqualTo("25.00");
    }

    @Test
    void fourDollarsIsFineWithTheWarningAndFiveIsOverBudget() {
        String id = start("gpt-5");
        JsonNode first = Http.json(usage(id, "{\"input_tokens\":40000,\"output_tokens\":120000}"));
        assertThat(first.get("session_cost").toString()).isEqualTo("4.00");
        assertThat(first.get("budget_ok").asBoolean()).isTrue();
        assertThat(first.get("budget_warning").asBoolean()).isTrue();
        assertThat(first.get("remaining_budget_usd").toString()).isEqualTo("1.00");
        assertThat(first.get("warnings")).isEmpty();
        assertThat(first.get("remaining_duration_seconds").asLong()).isEqualTo(1800);
        assertThat(first.get("max_hourly_cost_usd").toString()).isEqualTo("100000.00");

        JsonNode second = Http.json(usage(id, "{\"input_tokens\":10000,\"output_tokens\":30000}"));
        assertThat(second.get("call_cost").toString()).isEqualTo("1.00");
        assertThat(second.get("session_cost").toString()).isEqualTo("5.00");
        assertThat(second.get("budget_ok").asBoolean()).isFalse();
        assertThat(second.get("budget_warning").asBoolean()).isFalse();
        assertThat(second.get("warnings").get(0).asText()).isEqualTo("Session budget limit exceeded");
        assertThat(second.get("session_ended").asBoolean()).isTrue();
        assertThat(second.get("end_reason").asText()).isEqualTo("budget_exceeded");

        // money that was spent is recorded: usage for the ended session is charged and says so
        HttpResponse<String> after = usage(id, "{\"input_tokens\":1000,\"output_tokens\":0}");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(Http.json(after).get("call_cost").toString()).isEqualTo("0.01");
        assertThat(Http.json(after).get("session_cost").toString()).isEqualTo("5.01");
        assertThat(Http.json(after).get("session_ended").asBoolean()).isTrue();
        assertThat(Http.json(after).get("end_reason").asText()).isEqualTo("budget_exceeded");
        assertThat(Http.json(after).get("budget_ok").asBoolean()).isFalse();
    }

    private String startWithoutModel() {
        HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"192.0.2." + CLIENTS.incrementAndGet() + "\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    /** The original track_usage(session_id, model, …): sessions started without a model, reports that name one. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt-5 100000 200000 7.00", "gpt-5-mini 1000000 500000 10.50",
            "gpt-realtime 50000 100000 25.00", "gpt-5 40000 120000 4.00"})
    void theOriginalFiguresComeOutExactlyOnSessionsStartedWithoutAModel(String figure) {
        String[] f = figure.split(" ");
        JsonNode r = Http.json(usage(startWithoutModel(),
                "{\"model\":\"" + f[0] + "\",\"input_tokens\":" + f[1] + ",\"output_tokens\":" + f[2] + "}"));
        assertThat(r.get("call_cost").toString()).isEqualTo(f[3]);
        assertThat(r.get("session_cost").toString()).isEqualTo(f[3]);
        assertThat(r.get("model").asText()).isEqualTo(f[0]);
        assertThat(r.get("input_tokens").asLong()).isEqualTo(Long.parseLong(f[1]));
        assertThat(r.get("output_tokens").asLong()).isEqualTo(Long.parseLong(f[2]));
    }

    @Test
    void aReportIsPricedByTheModelItNamesEvenWhenCheaperThanTheSessions() {
        String id = start("gpt-realtime");
        JsonNode r = Http.json(usage(id, "{\"model\":\"gpt-5-mini\",\"input_tokens\":1000000,\"output_tokens\":500000}"));
        assertThat(r.get("call_cost").toString()).isEqualTo("10.50");
        assertThat(r.get("model").asText()).isEqualTo("gpt-5-mini");
        JsonNode own = Http.json(usage(id, "{\"input_tokens\":1000,\"output_tokens\":0}"));
        assertThat(own.get("call_cost").toString()).as("no model named: the session's").isEqualTo("0.10");
        assertThat(own.get("model").asText()).isEqualTo("gpt-realtime");
    }

    @Test
    void aDurationReportIsPricedPerMinuteAndEchoesItsSeconds() {
        String id = startWithoutModel();
        JsonNode r = Http.json(usage(id, "{\"model\":\"whisper-1\",\"type\":\"duration\",\"seconds\":60}"));
        assertThat(r.get("call_cost").toString()).isEqualTo("0.006");
        assertThat(r.get("seconds").toString()).isEqualTo("60");
        assertThat(r.get("input_tokens").asLong()).isZero();
        assertThat(r.get("output_tokens").asLong()).isZero();
        JsonNode half = Http.json(usage(id, "{\"model\":\"gpt-4o-mini-transcribe\",\"type\":\"duration\",\"seconds\":30.5}"));
        assertThat(half.get("call_cost").toString()).as("0.003 per minute × 30.5 s").isEqualTo("0.001525");
        assertThat(half.get("seconds").toString()).isEqualTo("30.5");
        JsonNode unknown = Http.json(usage(id, "{\"model\":\"mystery-transcriber\",\"type\":\"duration\",\"seconds\":10}"));
        assertThat(unknown.get("call_cost").toString()).as("the dearest per-minute rate").isEqualTo("0.001");
        assertThat(unknown.get("session_cost").toString()).isEqualTo("0.008525");
        JsonNode tokens = Http.json(usage(id, "{\"type\":\"tokens\",\"input_tokens\":0,\"output_tokens\":0}"));
        assertThat(tokens.has("seconds")).as("token reports carry no seconds").isFalse();
        // digits beyond a double's are kept: a hair over 60 s is 60.001 s (rounded up), never 60
        JsonNode hair = Http.json(usage(id, "{\"model\":\"whisper-1\",\"type\":\"duration\",\"seconds\":60.0000000000000000001}"));
        assertThat(hair.get("seconds").toString()).as("the seconds billed").isEqualTo("60.001");
        assertThat(hair.get("call_cost").toString()).as("0.006 per minute × 60.001 s").isEqualTo("0.0060001");
    }

    @Test
    void realtimeDetailsAreChargedByKind() {
        String id = start("gpt-realtime");
        JsonNode r = Http.json(usage(id, """
                {"input_tokens":3000,"output_tokens":1000,
                 "input_token_details":{"text_tokens":1000,"audio_tokens":2000,"cached_tokens":500},
                 "output_token_details":{"text_tokens":200,"audio_tokens":800}}"""));
        // no split configured: 3000 in at $100/1M + 1000 out at $200/1M
        assertThat(money(r, "call_cost")).isEqualByComparingTo("0.50");
        assertThat(r.get("input_tokens").asLong()).as("the tokens charged").isEqualTo(3000);
        assertThat(r.get("output_tokens").asLong()).isEqualTo(1000);
        JsonNode view = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(view.get("tokens").get("cached_input").asLong()).isEqualTo(500);
        assertThat(view.get("tokens").get("text_input").asLong()).isEqualTo(500);
        assertThat(view.get("tokens").get("audio_input").asLong()).isEqualTo(2000);
        assertThat(view.get("tokens").get("audio_output").asLong()).isEqualTo(800);
    }

    @Test
    void deleteEndsTheSessionAndReturnsItsFinalRecordOnce() {
        String id = start("gpt-5");
        usage(id, "{\"input_tokens\":1000,\"output_tokens\":2000}");
        HttpResponse<String> ended = http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE);
        assertThat(ended.statusCode()).isEqualTo(200);
        JsonNode record = Http.json(ended);
        assertThat(record.get("end_reason").asText()).isEqualTo("api_ended");
        assertThat(record.get("cost_usd").toString()).isEqualTo("0.07");
        assertThat(record.get("charged_responses").asInt()).isEqualTo(1);
        assertThat(record.get("price_version").asText()).isNotBlank();
        assertThat(http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(409);
        JsonNode view = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(view.get("status").asText()).isEqualTo("ended");
    }

    @Test
    void aClientMayHoldThreeSessionsAtOnce() {
        String client = "{\"client_id\":\"client-concurrency\"}";
        String first = null;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = http.post("/v1/sessions", client, "Authorization", SERVICE);
            assertThat(r.statusCode()).isEqualTo(201);
            first = first == null ? Http.json(r).get("session_id").asText() : first;
        }
        HttpResponse<String> fourth = http.post("/v1/sessions", client, "Authorization", SERVICE);
        assertThat(fourth.statusCode()).isEqualTo(429);
        assertThat(Http.json(fourth).get("error").asText()).isEqualTo("concurrent_session_limit");
        http.send("DELETE", "/v1/sessions/" + first, "Authorization", SERVICE);
        assertThat(http.post("/v1/sessions", client, "Authorization", SERVICE).statusCode()).isEqualTo(201);
    }

    @Test
    void theProvidersOwnUsageShapeIsTakenWhole() {
        String id = start("gpt-realtime");
        HttpResponse<String> r = usage(id, "{\"total_tokens\":1500,\"input_tokens\":1000,\"output_tokens\":500,"
                + "\"input_token_details\":{\"text_tokens\":700,\"audio_tokens\":200,\"image_tokens\":100,\"cached_tokens\":0,"
                + "\"cached_tokens_details\":{\"text_tokens\":0,\"audio_tokens\":0,\"image_tokens\":0}},"
                + "\"output_token_details\":{\"text_tokens\":100,\"audio_tokens\":400}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Http.json(r).get("input_tokens").asLong()).isEqualTo(1000);
    }

    @Test
    void aFieldNamedTwiceIsRefusedAndChargesNothing() {
        String id = start("gpt-5");
        HttpResponse<String> r = usage(id, "{\"input_tokens\":5,\"input_tokens\":7000000,\"output_tokens\":0}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(Http.json(r).get("message").asText()).contains("twice");
        assertThat(Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE)).get("cost_usd").toString()).isEqualTo("0.00");
        HttpResponse<String> started = http.post("/v1/sessions", "{\"client_id\":\"192.0.2.250\",\"client_id\":\"192.0.2.251\"}",
                "Authorization", SERVICE);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(400);
    }

    @Test
    void unknownAndMalformedSessionIdsAre404() {
        HttpResponse<String> unknown = usage("sess_00000000000000000000000000000000", "{\"input_tokens\":1,\"output_tokens\":1}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Http.json(unknown).get("error").asText()).isEqualTo("session_not_found");
        assertThat(http.get("/v1/sessions/" + "x".repeat(500), "Authorization", SERVICE).statusCode()).isEqualTo(404);
        assertThat(http.send("DELETE", "/v1/sessions/nope", "Authorization", SERVICE).statusCode()).isEqualTo(404);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"input_tokens\":-1,\"output_tokens\":10}",
            "{\"input_tokens\":1.5,\"output_tokens\":10}",
            "{\"input_tokens\":10,\"output_tokens\":1e3}",
            "{\"input_tokens\":\"10\",\"output_tokens\":10}",
            "{\"input_tokens\":99999999999999999999,\"output_tokens\":10}",
            "{\"input_tokens\":10000001,\"output_tokens\":10}",
            "{\"output_tokens\":10}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"input_token_details\":{\"cached_tokens\":11}}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"input_token_details\":[1]}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"input_token_details\":{\"audio_tokens\":-3}}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"model\":\"gpt 5; drop table\"}",
            "{\"input_tokens\":6000000,\"output_tokens\":5000000}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"output_token_details\":{\"text_tokens\":10000000,\"audio_tokens\":10000000}}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"input_token_details\":{\"text_tokens\":8,\"audio_tokens\":3}}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"output_token_details\":{\"audio_tokens\":11}}",
            "{\"input_tokens\":10,\"output_tokens\":10,\"input_token_details\":{\"audio_tokens\":2,\"cached_tokens\":5,\"cached_tokens_details\":{\"audio_tokens\":3}}}",
            "{\"type\":\"duration\",\"seconds\":-1}",
            "{\"type\":\"duration\",\"seconds\":\"60\"}",
            "{\"type\":\"duration\"}",
            "{\"type\":\"duration\",\"seconds\":86401}",
            "{\"type\":\"duration\",\"seconds\":1e400}",
            "{\"type\":\"duration\",\"seconds\":5,\"input_tokens\":3}",
            "{\"type\":\"minutes\",\"input_tokens\":1,\"output_tokens\":1}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"foo\":1}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"input_token_details\":{\"foo\":1}}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"input_token_details\":{\"cached_tokens_details\":{\"foo\":1}}}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"output_token_details\":{\"cached_tokens\":1}}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"total_tokens\":1}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"total_tokens\":-2}",
            "{\"input_tokens\":1,\"output_tokens\":1,\"input_token_details\":{\"image_tokens\":-1}}",
            "{\"type\":\"duration\",\"seconds\":5,\"total_tokens\":3}",
            "{\"seconds\":5,\"input_tokens\":1,\"output_tokens\":1}",
            "{}"})
    void badUsageIs422AndChargesNothing(String json) {
        String id = start("gpt-5");
        HttpResponse<String> r = usage(id, json);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        JsonNode view = Http.json(http.get("/v1/sessions/" + id, "Authorization", SERVICE));
        assertThat(view.get("cost_usd").toString()).isEqualTo("0.00");
        assertThat(view.get("charged_responses").asInt()).isZero();
    }

    @Test
    void unparseableBodiesAre400() {
        String id = start("gpt-5");
        assertThat(usage(id, "{\"input_tokens\":").statusCode()).isEqualTo(400);
        assertThat(usage(id, "[]").statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/sessions", "{\"client_id\":", "Authorization", SERVICE).statusCode()).isEqualTo(400);
        assertThat(http.post("/v1/sessions", "{\"client_id\":\"a b\"}", "Authorization", SERVICE).statusCode()).isEqualTo(422);
        assertThat(http.post("/v1/sessions", "{\"model\":\"<script>\"}", "Authorization", SERVICE).statusCode()).isEqualTo(422);
    }

    @Test
    void refusedRequestsKeepTheConnectionUsable() {
        for (int i = 0; i < 30; i++) {
            assertThat(http.post("/v1/sessions", "{\"client_id\":\"192.0.2.250\"}").statusCode()).isEqualTo(401);
            assertThat(http.post("/v1/sessions", "{}", "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN).statusCode())
                    .isEqualTo(403);
            assertThat(http.post("/v1/sessions/sess_00000000000000000000000000000000/usage", "{\"input_tokens\":1}",
                    "Authorization", SERVICE).statusCode()).isEqualTo(422);
        }
    }

    @Test
    void hugeBodiesAreRefusedWith413BeforeTheyAreRead() throws Exception {
        // only the head is sent: the answer comes without a byte of the declared 100 kB body (a client
        // still writing a body the server will not read may see its answer lost in a reset)
        ducke.testing.RawHttp.Answer r = ducke.testing.RawHttp.send(APP.getLocalPort(),
                "POST /v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nAuthorization: " + SERVICE
                        + "\r\nContent-Length: 100025", new byte[0]);
        assertThat(r.status()).isEqualTo(413);
        JsonNode body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("max_body_bytes").asLong()).isEqualTo(65536);
    }

    @Test
    void theServiceTokenIsRequired() {
        HttpResponse<String> none = http.post("/v1/sessions", "{}");
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(Http.json(none).get("error").asText()).isEqualTo("unauthorized");
        assertThat(http.post("/v1/sessions", "{}", "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN).statusCode()).isEqualTo(403);
        assertThat(http.get("/v1/sessions/sess_00000000000000000000000000000000").statusCode()).isEqualTo(401);
    }

    @Test
    void theTokenIsReadFromTheAuthorizationHeaderOnly() {
        String unknown = "/v1/sessions/sess_00000000000000000000000000000000";
        assertThat(http.get(unknown, "Authorization", "bearer  " + TestApps.SERVICE_TOKEN).statusCode()).isEqualTo(404);
        // a token in the URL would be written to the request log: not a credential here
        HttpResponse<String> inUrl = http.get(unknown + "?access_token=" + TestApps.SERVICE_TOKEN);
        assertThat(inUrl.statusCode()).isEqualTo(401);
        assertThat(Http.json(inUrl).get("error").asText()).isEqualTo("unauthorized");
    }

    @Test
    void unknownModelsPayTheDearestRatesAndAreCounted() {
        String id = start("gpt-realtime");
        JsonNode r = Http.json(usage(id, "{\"model\":\"mystery-model-9000\",\"input_tokens\":10000,\"output_tokens\":10000}"));
        // the dearest configured rates: 100 in, 200 out (gpt-realtime)
        assertThat(money(r, "call_cost")).isEqualByComparingTo("3.00");
        String metrics = http.get("/metrics").body();
        assertThat(PromText.value(metrics, "unknown_model_charges_total", "")).isGreaterThanOrEqualTo(1.0);
        assertThat(metrics).contains("api_cost_total_usd{model=\"unknown\"}");
        assertThat(metrics).doesNotContain("mystery-model-9000");
    }

    @Test
    void costMetricsMove() {
        String before = http.get("/metrics").body();
        String id = start("gpt-5");
        usage(id, "{\"input_tokens\":100000,\"output_tokens\":200000}");
        String after = http.get("/metrics").body();
        assertThat(PromText.value(after, "api_cost_total_usd", "model=\"gpt-5\"")
                - PromText.value(before, "api_cost_total_usd", "model=\"gpt-5\"")).isEqualTo(7.0);
        assertThat(PromText.value(after, "token_usage_total", "model=\"gpt-5\",type=\"text_output\"")
                - PromText.value(before, "token_usage_total", "model=\"gpt-5\",type=\"text_output\"")).isEqualTo(200000.0);
        assertThat(after).contains("active_sessions_total").contains("hourly_spend_usd").contains("circuit_breaker_open 0.0");
        assertThat(after).doesNotContain(id);
    }
}
