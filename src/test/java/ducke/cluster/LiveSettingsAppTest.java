package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster's settings, changed live: an apply on one node changes prices and caps on every
 * node at one new version; each charge names the version that priced it; a node started with
 * another config.yml joins and follows the cluster; bad documents change nothing.
 */
class LiveSettingsAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;
    /** 10k input and 20k output tokens of gpt-5. */
    private static final String REPORT = "{\"model\":\"gpt-5\",\"input_tokens\":10000,\"output_tokens\":20000}";

    private final MutableClock clock = MutableClock.at("2026-12-06T10:00:00Z");
    private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();
    private final HttpClient client = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        apps.forEach(DropwizardTestSupport::after);
        TestApps.clearOverrides();
    }

    /** A node; {@code more} are config overrides (this node's config.yml). */
    private DropwizardTestSupport<DuckeConfiguration> node(String name, String cluster, int port, String members, String... more) {
        List<String> overrides = new ArrayList<>(List.of("nodeName", name,
                "hazelcast.clusterName", cluster, "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                "upstream.allowedModels", "gpt-realtime,gpt-5", "rateLimits.defaultLimit", "100000/minute",
                "rateLimits.status", "100000/minute"));
        overrides.addAll(List.of(more));
        DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, overrides.toArray(String[]::new));
        try {
            app.before();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        apps.add(app);
        return app;
    }

    private static Http http(DropwizardTestSupport<DuckeConfiguration> app) {
        return Http.local(app.getLocalPort());
    }

    private HttpResponse<String> task(DropwizardTestSupport<DuckeConfiguration> app, String task, String contentType, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.getAdminPort() + "/tasks/" + task))
                .timeout(Duration.ofSeconds(30))
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private long version(DropwizardTestSupport<DuckeConfiguration> app) throws Exception {
        HttpResponse<String> shown = task(app, "settings", null, null);
        assertThat(shown.statusCode()).as(shown.body()).isEqualTo(200);
        String first = shown.body().lines().findFirst().orElseThrow();
        assertThat(first).startsWith("settings version ");
        return Long.parseLong(first.substring("settings version ".length()).split(" ")[0]);
    }

    private static String start(Http http, String client) {
        HttpResponse<String> started = http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        return Http.json(started).get("session_id").asText();
    }

    private static JsonNode report(Http http, String session) {
        HttpResponse<String> r = http.post("/v1/sessions/" + session + "/usage", REPORT, "Authorization", SERVICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r);
    }

    private static BigDecimal usd(long tokens, String usdPerMillion) {
        return new BigDecimal(usdPerMillion).multiply(BigDecimal.valueOf(tokens)).movePointLeft(6);
    }

    private static List<JsonNode> charges(List<Http> nodes, String session) {
        List<JsonNode> all = new ArrayList<>();
        for (Http n : nodes) {
            Http.json(n.get("/v1/audit/charges?session=" + session, "Authorization", OPERATOR)).path("charges").forEach(all::add);
        }
        return all;
    }

    private void awaitTwoMembers(Http a, Http b) throws Exception {
        TestApps.awaitReady(2, a, b);
    }

    @Test
    void anApplyOnOneNodeChangesAPriceAndACapAndTheOtherNodePricesTheNextChargeAtTheNewVersion() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        DropwizardTestSupport<DuckeConfiguration> nodeA = node("node-a", cluster, portA, members);
        DropwizardTestSupport<DuckeConfiguration> nodeB = node("node-b", cluster, portB, members);
        Http a = http(nodeA);
        Http b = http(nodeB);
        awaitTwoMembers(a, b);

        String live = start(b, "203.0.113.20");
        JsonNode before = report(b, live);
        // config.yml's gpt-5: 10.00 in, 30.00 out per 1M tokens
        BigDecimal atV1 = usd(10_000, "10.00").add(usd(20_000, "30.00"));
        assertThat(before.get("call_cost").decimalValue()).isEqualByComparingTo(atV1);
        assertThat(before.get("price_version").asText()).startsWith("v1-");

        HttpResponse<String> applied = task(nodeA, "apply-settings?by=test", "application/yaml", """
                prices:
                  models:
                    gpt-5:
                      input: "12.50"
                costProtection:
                  maxSessionCostUsd: "8.00"
                """);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        assertThat(applied.body()).startsWith("settings version 2 applied (was 1), 2 changes:")
                .contains("costProtection.maxSessionCostUsd: 5.00 -> 8.00")
                .contains("prices.models.gpt-5.input: 10.00 -> 12.50")
                .contains("live sessions keep their caps");
        Poll.until("node B applied version 2", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> Http.json(b.get("/status")).path("settings_version").asLong() == 2);
        assertThat(version(nodeB)).isEqualTo(2);

        JsonNode after = report(b, live);
        BigDecimal atV2 = usd(10_000, "12.50").add(usd(20_000, "30.00"));
        assertThat(after.get("call_cost").decimalValue()).isEqualByComparingTo(atV2);
        assertThat(after.get("price_version").asText()).startsWith("v2-");
        JsonNode session = Http.json(b.get("/v1/sessions/" + live, "Authorization", SERVICE));
        assertThat(session.get("cost_usd").decimalValue()).isEqualByComparingTo(atV1.add(atV2));
        assertThat(session.get("max_cost_usd").decimalValue()).as("a live session keeps its cap").isEqualByComparingTo("5.00");

        HttpResponse<String> fresh = b.post("/v1/sessions", "{\"client_id\":\"203.0.113.21\",\"model\":\"gpt-5\"}",
                "Authorization", SERVICE);
        assertThat(Http.json(fresh).get("max_cost_usd").decimalValue()).as("a new session gets the new cap")
                .isEqualByComparingTo("8.00");

        // the audit names the version of each charge; its cost is that version's price of its tokens
        b.send("DELETE", "/v1/sessions/" + live, "Authorization", SERVICE);
        // each test node has an audit store of its own: a charge row is in the store of the node that wrote it
        Poll.until("both charges are in the audit stores", Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> charges(List.of(a, b), live).size() == 2);
        List<JsonNode> charges = charges(List.of(a, b), live);
        for (JsonNode c : charges) {
            String rate = c.get("price_version").asText().startsWith("v1-") ? "10.00" : "12.50";
            long input = c.get("tokens").get("text_input").asLong();
            long output = c.get("tokens").get("text_output").asLong();
            assertThat(c.get("cost_usd").decimalValue()).as(c.toString())
                    .isEqualByComparingTo(usd(input, rate).add(usd(output, "30.00")));
        }
        // journaled on the node that applied it: who, the version and each change
        Poll.until("the apply is in node A's admin journal", Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> Http.json(a.get("/v1/audit/admin-actions", "Authorization", OPERATOR)).path("admin_actions").toString()
                        .contains("apply-settings"));
        JsonNode action = Http.json(a.get("/v1/audit/admin-actions", "Authorization", OPERATOR)).get("admin_actions").get(0);
        assertThat(action.get("task").asText()).isEqualTo("apply-settings");
        assertThat(action.get("parameters").asText()).contains("no token from 127.0.0.1 by test");
        assertThat(action.get("result").asText()).contains("settings version 2 applied (was 1)")
                .contains("prices.models.gpt-5.input: 10.00 -> 12.50");
        assertThat(List.of(charges.get(0).get("price_version").asText().substring(0, 3),
                charges.get(1).get("price_version").asText().substring(0, 3))).containsExactlyInAnyOrder("v1-", "v2-");
    }

    @Test
    void aNodeStartedWithOtherPricesAndCapsJoinsAndFollowsTheCluster() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int portA = FreePorts.next();
        int portB = FreePorts.next();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        DropwizardTestSupport<DuckeConfiguration> nodeA = node("node-a", cluster, portA, members,
                "prices.models.gpt-5.input", "10.00", "costProtection.maxSessionCostUsd", "5.00");
        DropwizardTestSupport<DuckeConfiguration> nodeB = node("node-b", cluster, portB, members,
                "prices.models.gpt-5.input", "20.00", "costProtection.maxSessionCostUsd", "9.00");
        Http a = http(nodeA);
        Http b = http(nodeB);
        awaitTwoMembers(a, b);

        assertThat(Http.json(b.get("/status")).path("settings_version").asLong()).isEqualTo(1);
        String session = start(b, "203.0.113.30");
        assertThat(Http.json(b.get("/v1/sessions/" + session, "Authorization", SERVICE)).get("max_cost_usd").decimalValue())
                .as("the cluster's cap, not node B's config.yml").isEqualByComparingTo("5.00");
        assertThat(report(b, session).get("call_cost").decimalValue()).as("the cluster's price of gpt-5 input")
                .isEqualByComparingTo(usd(10_000, "10.00").add(usd(20_000, "30.00")));
    }

    @Test
    void badDocumentsAreRefusedWith400AndChangeNothing() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int port = FreePorts.next();
        DropwizardTestSupport<DuckeConfiguration> node = node("node-a", cluster, port, "");
        String shownBefore = task(node, "settings", null, null).body();
        List<String[]> bad = List.of(
                new String[]{"application/json", "{\"costProtection\": {\"maxSessionCost\": 2}}", "costProtection.maxSessionCost"},
                new String[]{"application/json", "{\"prices\": {\"models\": {\"gpt-5\": {\"input\": \"-1\"}}}}", "input"},
                new String[]{"application/yaml", "prices: {models: [unclosed", "not valid YAML or JSON"},
                new String[]{"application/json", "[\"prices\"]", "must be an object"},
                new String[]{"application/json", "\"prices\"", "must be an object"},
                new String[]{"application/json", "", "No settings given"});
        for (String[] b : bad) {
            HttpResponse<String> r = task(node, "apply-settings", b[0], b[1]);
            assertThat(r.statusCode()).as(b[1] + " -> " + r.body()).isEqualTo(400);
            JsonNode error = Http.json(r);
            assertThat(error.get("error").asText()).isEqualTo("invalid_request");
            assertThat(error.get("message").asText()).contains(b[2]);
        }
        assertThat(task(node, "settings", null, null).body()).as("version and document unchanged").isEqualTo(shownBefore);
        assertThat(version(node)).isEqualTo(1);
    }

    @Test
    void aFileCanBeAppliedAndApplyToLiveMovesLiveSessionsToTheNewCap() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int port = FreePorts.next();
        DropwizardTestSupport<DuckeConfiguration> node = node("node-a", cluster, port, "");
        Http http = http(node);
        String live = start(http, "203.0.113.40");
        Path file = Files.createTempFile("settings", ".yml");
        Files.writeString(file, "costProtection:\n  maxSessionCostUsd: \"2.00\"\n");
        try {
            HttpResponse<String> r = task(node, "apply-settings?apply_to_live=true&file="
                    + java.net.URLEncoder.encode(file.toString(), java.nio.charset.StandardCharsets.UTF_8), null, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("live sessions: 1 moved to the new session cap");
        } finally {
            Files.delete(file);
        }
        assertThat(Http.json(http.get("/v1/sessions/" + live, "Authorization", SERVICE)).get("max_cost_usd").decimalValue())
                .isEqualByComparingTo("2.00");
        HttpResponse<String> again = task(node, "apply-settings", "application/json", "{\"costProtection\": {\"maxSessionCostUsd\": 2}}");
        assertThat(again.body()).isEqualTo("settings version 2: nothing changed\n");
        assertThat(version(node)).isEqualTo(2);
    }
}
