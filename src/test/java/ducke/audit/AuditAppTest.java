package ducke.audit;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Sessions ended through the API reach the audit store, its queries, its CSV export and the audit command. */
@ExtendWith(DropwizardExtensionsSupport.class)
class AuditAppTest {

    private static final MutableClock CLOCK = new MutableClock(Instant.now());
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(CLOCK,
            "costProtection.sweepInterval", "50ms",
            "upstream.allowedModels", "gpt-realtime,gpt-5,gpt-5-mini",
            // these tests poll the API from one address; its route limit is not under test here
            "rateLimits.defaultLimit", "100000/minute",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000"));
    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    private static final Map<String, String> IDS = new HashMap<>();

    private static String start(Http http, String client, String model) {
        HttpResponse<String> r = http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"" + model + "\"}",
                "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r).get("session_id").asText();
    }

    private static void usage(Http http, String id, long in, long out) {
        assertThat(http.post("/v1/sessions/" + id + "/usage", "{\"input_tokens\":" + in + ",\"output_tokens\":" + out + "}",
                "Authorization", SERVICE).statusCode()).isEqualTo(200);
    }

    @BeforeAll
    static void endThreeSessions() {
        Http http = Http.local(APP.getLocalPort());
        IDS.put("seven", start(http, "198.51.100.1", "gpt-5"));
        usage(http, IDS.get("seven"), 100_000, 200_000);
        IDS.put("four", start(http, "198.51.100.2", "gpt-5"));
        usage(http, IDS.get("four"), 40_000, 120_000);
        assertThat(http.send("DELETE", "/v1/sessions/" + IDS.get("four"), "Authorization", SERVICE).statusCode()).isEqualTo(200);
        IDS.put("mini", start(http, "198.51.100.3", "gpt-5-mini"));
        usage(http, IDS.get("mini"), 1_000_000, 500_000);
        long deadline = System.currentTimeMillis() + 20_000;
        while (Http.json(http.get("/v1/audit/sessions", "Authorization", OPERATOR)).get("sessions").size() < 3) {
            assertThat(System.currentTimeMillis()).as("records written in time").isLessThan(deadline);
        }
    }

    @Test
    void endedSessionsAppearWithTheirCostsAndReasons() {
        JsonNode sessions = Http.json(Http.local(APP.getLocalPort()).get("/v1/audit/sessions", "Authorization", OPERATOR))
                .get("sessions");
        Map<String, JsonNode> byId = new HashMap<>();
        sessions.forEach(s -> byId.put(s.get("session_id").asText(), s));
        assertThat(byId.get(IDS.get("seven")).get("cost_usd").toString()).isEqualTo("7.00");
        assertThat(byId.get(IDS.get("seven")).get("end_reason").asText()).isEqualTo("budget_exceeded");
        assertThat(byId.get(IDS.get("four")).get("cost_usd").toString()).isEqualTo("4.00");
        assertThat(byId.get(IDS.get("four")).get("end_reason").asText()).isEqualTo("api_ended");
        assertThat(byId.get(IDS.get("mini")).get("cost_usd").toString()).isEqualTo("10.50");
        assertThat(byId.get(IDS.get("mini")).get("tokens").get("text_output").asLong()).isEqualTo(500_000);
    }

    @Test
    void filtersAndSummaryAreExact() {
        Http http = Http.local(APP.getLocalPort());
        JsonNode gpt5 = Http.json(http.get("/v1/audit/sessions?model=gpt-5&end_reason=api_ended", "Authorization", OPERATOR));
        assertThat(gpt5.get("sessions")).hasSize(1);
        JsonNode summary = Http.json(http.get("/v1/audit/summary?group_by=model", "Authorization", OPERATOR));
        Map<String, JsonNode> groups = new HashMap<>();
        summary.get("groups").forEach(g -> groups.put(g.get("key").asText(), g));
        assertThat(groups.get("gpt-5").get("sessions").asInt()).isEqualTo(2);
        assertThat(groups.get("gpt-5").get("total_cost_usd").toString()).isEqualTo("11.00");
        assertThat(groups.get("gpt-5-mini").get("total_cost_usd").toString()).isEqualTo("10.50");
        JsonNode byReason = Http.json(http.get("/v1/audit/summary?group_by=end_reason", "Authorization", OPERATOR));
        assertThat(byReason.get("groups")).hasSize(2);
    }

    @Test
    void theOperatorTokenIsRequiredAndBadParametersAre400() {
        Http http = Http.local(APP.getLocalPort());
        assertThat(http.get("/v1/audit/sessions").statusCode()).isEqualTo(401);
        assertThat(http.get("/v1/audit/sessions", "Authorization", SERVICE).statusCode()).isEqualTo(403);
        for (String bad : List.of("from=yesterday", "limit=0", "limit=5000", "end_reason=bored", "min_cost=-1",
                "cursor=bm90LWEtY3Vyc29y", "cursor=!!!", "from=2026-11-28&to=2026-11-27")) {
            HttpResponse<String> r = http.get("/v1/audit/sessions?" + bad, "Authorization", OPERATOR);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
        }
        assertThat(http.get("/v1/audit/summary?group_by=week", "Authorization", OPERATOR).statusCode()).isEqualTo(400);
        assertThat(http.get("/v1/audit/sessions?client=x'%20OR%20'1'='1", "Authorization", OPERATOR).statusCode()).isEqualTo(200);
    }

    @Test
    void theCsvExportParses() {
        HttpResponse<String> r = Http.local(APP.getLocalPort()).get("/v1/audit/sessions", "Authorization", OPERATOR,
                "Accept", "text/csv");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/csv"));
        List<String> lines = r.body().lines().toList();
        assertThat(lines).hasSize(4);
        List<String> header = List.of(lines.get(0).split(","));
        int cost = header.indexOf("cost_usd");
        int id = header.indexOf("session_id");
        Map<String, String> costs = new HashMap<>();
        lines.subList(1, 4).forEach(l -> costs.put(l.split(",")[id], l.split(",")[cost]));
        assertThat(costs.get(IDS.get("mini"))).isEqualTo("10.50");
        assertThat(costs.get(IDS.get("seven"))).isEqualTo("7.00");
    }

    @Test
    void jsonIsTheAnswerUnlessCsvIsAskedFor() {
        Http http = Http.local(APP.getLocalPort());
        for (String path : List.of("/v1/audit/sessions", "/v1/audit/summary?group_by=model")) {
            for (String[] accept : List.of(new String[0], new String[] {"Accept", "*/*"},
                    new String[] {"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
                    new String[] {"Accept", "application/json"})) {
                String[] headers = new String[2 + accept.length];
                headers[0] = "Authorization";
                headers[1] = OPERATOR;
                System.arraycopy(accept, 0, headers, 2, accept.length);
                HttpResponse<String> r = http.get(path, headers);
                assertThat(r.statusCode()).as("%s %s", path, List.of(accept)).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type")).as("%s %s", path, List.of(accept))
                        .hasValue("application/json");
                assertThat(Http.json(r).isObject()).isTrue();
            }
        }
    }

    @Test
    void theSummaryIsAlsoAvailableAsCsv() {
        HttpResponse<String> r = Http.local(APP.getLocalPort()).get("/v1/audit/summary?group_by=model", "Authorization", OPERATOR,
                "Accept", "text/csv");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/csv"));
        List<String> lines = r.body().lines().toList();
        assertThat(lines.get(0)).isEqualTo("model,sessions,total_cost_usd,text_input_tokens,audio_input_tokens,"
                + "cached_input_tokens,text_output_tokens,audio_output_tokens,average_duration_seconds");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("gpt-5,2,11.00,140000,0,0,320000,0,"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("gpt-5-mini,1,10.50,"));
    }

    @Test
    void unknownQueryParametersAreRefusedInsteadOfIgnored() {
        Http http = Http.local(APP.getLocalPort());
        for (String query : List.of("/v1/audit/sessions?clientid=alice", "/v1/audit/summary?group_by=model&groupby=day",
                "/v1/audit/admin-actions?limt=5", "/v1/audit/breaker-changes?from=2026-11-27")) {
            HttpResponse<String> r = http.get(query, "Authorization", OPERATOR);
            assertThat(r.statusCode()).as(query).isEqualTo(400);
            assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
            assertThat(Http.json(r).get("message").asText()).as(query).startsWith("Unknown query parameter(s) '");
        }
        HttpResponse<String> csv = http.get("/v1/audit/sessions?clientid=alice", "Authorization", OPERATOR, "Accept", "text/csv");
        assertThat(csv.statusCode()).isEqualTo(400);
    }

    @Test
    void theAuditCommandPrintsTheSameTotals() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            TestApps.application(java.time.Clock.systemUTC()).run("audit", TestApps.configPath(), "--since", "24h", "--group-by", "model");
        } finally {
            System.setOut(original);
        }
        String table = captured.toString(StandardCharsets.UTF_8);
        assertThat(table).containsPattern("(?m)^gpt-5\\s+2\\s+11\\.00\\b");
        assertThat(table).containsPattern("(?m)^gpt-5-mini\\s+1\\s+10\\.50\\b");
        assertThat(table).containsPattern("(?m)^TOTAL\\s+3\\s+21\\.50\\b");
    }

    @Test
    void adminActionsAndBreakerChangesAreRecorded() {
        Http http = Http.local(APP.getLocalPort());
        Http admin = Http.local(APP.getAdminPort());
        assertThat(admin.post("/tasks/reset-rate-limits?client=198.51.100.9", null).statusCode()).isEqualTo(200);
        assertThat(admin.post("/tasks/end-session?id=nonsense", null).statusCode()).isEqualTo(400);
        assertThat(admin.post("/tasks/trip-circuit-breaker?reason=drill", null).statusCode()).isEqualTo(200);
        // the audit stays readable while the breaker is open
        assertThat(http.get("/v1/audit/sessions", "Authorization", OPERATOR).statusCode()).isEqualTo(200);
        assertThat(admin.post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);
        long deadline = System.currentTimeMillis() + 20_000;
        JsonNode actions = Http.json(http.get("/v1/audit/admin-actions", "Authorization", OPERATOR)).get("admin_actions");
        while (actions.size() < 4) {
            assertThat(System.currentTimeMillis()).as("admin actions recorded in time").isLessThan(deadline);
            actions = Http.json(http.get("/v1/audit/admin-actions", "Authorization", OPERATOR)).get("admin_actions");
        }
        assertThat(actions.toString()).contains("reset-rate-limits").contains("198.51.100.9").contains("refused")
                .contains("trip-circuit-breaker").contains("reset-circuit-breaker");
        JsonNode changes = Http.json(http.get("/v1/audit/breaker-changes", "Authorization", OPERATOR)).get("breaker_changes");
        while (changes.size() < 2) {
            assertThat(System.currentTimeMillis()).as("breaker changes recorded in time").isLessThan(deadline);
            changes = Http.json(http.get("/v1/audit/breaker-changes", "Authorization", OPERATOR)).get("breaker_changes");
        }
        assertThat(changes.get(0).get("state").asText()).isEqualTo("closed");
        assertThat(changes.get(1).get("state").asText()).isEqualTo("open");
        assertThat(changes.get(1).get("cause").asText()).isEqualTo("admin: drill");
    }
}
