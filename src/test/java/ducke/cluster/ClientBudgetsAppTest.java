package ducke.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.AuditStores;
import ducke.testing.FreePorts;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client's budgets over calendar days and months on a cluster of two nodes: spent across sessions
 * on both nodes, refused with the window's reset as the wait, kept when every node restarts (rebuilt
 * from the audit store), raised by a backend's override, started over at midnight and on the first
 * of the month (the test's clock). Run on an H2 file and on PostgreSQL.
 */
class ClientBudgetsAppTest {

    private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

    @Nested
    @DisplayName("H2 file")
    class OnH2 extends Story {
        @Override
        String[] database() {
            return AuditStores.h2File();
        }

        @Test
        void sessionTimeIsReservedForTheDayAndCountedWhenASessionEnds() throws Exception {
            List<Http> nodes = cluster(database());
            Http a = nodes.get(0);
            Http b = nodes.get(1);
            assertThat(a.put("/v1/clients/user-9/budget", "{\"day_minutes\":1,\"day_usd\":null}", "Authorization", SERVICE)
                    .statusCode()).isEqualTo(200);
            HttpResponse<String> first = open(a, "user-9");
            assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
            JsonNode s = Http.json(first);
            assertThat(Duration.between(clock.instant(), Instant.parse(s.get("expires_at").asText()))).isEqualTo(Duration.ofMinutes(1));
            assertThat(s.get("max_duration_seconds").asLong()).isEqualTo(60);
            // the minute is reserved by the live session: another is refused for now, not until midnight
            HttpResponse<String> second = open(b, "user-9");
            assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
            assertThat(Http.json(second).get("window").asText()).isEqualTo("day_minutes");
            assertThat(second.headers().firstValue("Retry-After")).hasValue("1");
            clock.advance(Duration.ofSeconds(15));
            assertThat(b.send("DELETE", "/v1/sessions/" + s.get("session_id").asText(), "Authorization", SERVICE).statusCode())
                    .isEqualTo(200);
            JsonNode view = budget(b, "user-9");
            assertThat(view.at("/day_minutes/used").decimalValue()).isEqualByComparingTo("0.25");
            assertThat(view.at("/day_minutes/reserved").decimalValue()).isEqualByComparingTo("0");
            assertThat(view.at("/day/limit_usd").isNull()).as("no day budget for this client: %s", view).isTrue();
            HttpResponse<String> third = open(b, "user-9");
            assertThat(third.statusCode()).as(third.body()).isEqualTo(201);
            assertThat(Duration.between(clock.instant(), Instant.parse(Http.json(third).get("expires_at").asText())))
                    .isEqualTo(Duration.ofSeconds(45));
        }

        @Test
        void aSessionAcrossMidnightCountsInTheNewDayOnlyItsPartAfterMidnight() throws Exception {
            List<Http> nodes = cluster(database());
            Http a = nodes.get(0);
            assertThat(a.put("/v1/clients/user-7/budget", "{\"day_minutes\":5,\"day_usd\":null}", "Authorization", SERVICE)
                    .statusCode()).isEqualTo(200);
            clock.advance(Duration.between(clock.instant(), Instant.parse("2026-12-06T23:59:30Z")));
            HttpResponse<String> opened = open(a, "user-7");
            assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
            clock.advance(Duration.ofMinutes(1));                               // 00:00:30 on the 7th
            assertThat(a.send("DELETE", "/v1/sessions/" + Http.json(opened).get("session_id").asText(), "Authorization", SERVICE)
                    .statusCode()).isEqualTo(200);
            JsonNode view = budget(nodes.get(1), "user-7");
            assertThat(view.at("/day_minutes/used").decimalValue()).as("30 s of the new day, not the minute: %s", view)
                    .isEqualByComparingTo("0.5");
        }

        @Test
        void badBudgetsAreRefusedAndChangeNothing() throws Exception {
            Http a = cluster(database()).get(0);
            for (String body : List.of("{\"day_usd\":-1}", "{\"day_usd\":\"abc\"}", "{\"day_usd\":1e12}", "{\"weekly_usd\":1}",
                    "[1]", "{\"day_usd\":0.0000000001}", "{\"day_minutes\":true}")) {
                HttpResponse<String> r = a.put("/v1/clients/user-3/budget", body, "Authorization", SERVICE);
                assertThat(r.statusCode()).as(body + " → " + r.body()).isEqualTo(422);
                assertThat(Http.json(r).get("error").asText()).isEqualTo("invalid_request");
            }
            assertThat(a.put("/v1/clients/bad%20id!/budget", "{}", "Authorization", SERVICE).statusCode()).isEqualTo(422);
            assertThat(a.put("/v1/clients/user-3/budget", "{\"day_usd\":1}").statusCode()).isEqualTo(401);
            assertThat(a.put("/v1/clients/user-3/budget", "{\"day_usd\":1}", "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN)
                    .statusCode()).isEqualTo(403);
            JsonNode view = Http.json(a.get("/v1/clients/user-3/budget", "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN));
            assertThat(view.get("override").isNull()).as(view.toString()).isTrue();
            assertThat(view.at("/day/limit_usd").decimalValue()).as("the default").isEqualByComparingTo("0.50");
            HttpResponse<String> removed = a.send("DELETE", "/v1/clients/user-3/budget", "Authorization", SERVICE);
            assertThat(removed.statusCode()).isEqualTo(200);
            assertThat(Http.json(removed).at("/day/limit_usd").decimalValue()).isEqualByComparingTo("0.50");
        }
    }

    @Nested
    @DisplayName("PostgreSQL")
    class OnPostgres extends Story {
        private AuditStores.PostgresSchema schema;

        @Override
        String[] database() throws SQLException {
            schema = new AuditStores.PostgresSchema("budget_test");
            return schema.settings();
        }

        @AfterEach
        void drop() throws SQLException {
            schema.close();
        }
    }

    abstract static class Story {

        final MutableClock clock = MutableClock.at("2026-12-06T09:00:00Z");
        private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

        abstract String[] database() throws SQLException;

        @AfterEach
        void stopApps() {
            apps.forEach(DropwizardTestSupport::after);
            apps.clear();
            TestApps.clearOverrides();
        }

        /** Two nodes of a cluster of a new name on {@code database}: every call is a new cluster on the same audit store. */
        List<Http> cluster(String[] database) throws Exception {
            String name = "test-" + UUID.randomUUID();
            int portA = FreePorts.next();
            int portB = FreePorts.next();
            String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
            List<Http> nodes = new ArrayList<>();
            for (int port : new int[]{portA, portB}) {
                List<String> settings = new ArrayList<>(List.of("nodeName", "node-" + port, "hazelcast.clusterName", name,
                        "hazelcast.port", Integer.toString(port), "hazelcast.members", members,
                        "rateLimits.defaultLimit", "100000/minute", "rateLimits.status", "100000/minute",
                        "costProtection.maxClientCostPerDayUsd", "0.50", "costProtection.maxClientCostPerMonthUsd", "5.00"));
                settings.addAll(List.of(database));
                DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, settings.toArray(String[]::new));
                app.before();
                apps.add(app);
                nodes.add(Http.local(app.getLocalPort()));
            }
            TestApps.awaitReady(2, nodes.toArray(Http[]::new));
            return nodes;
        }

        private void stopAll() {
            stopApps();
        }

        static HttpResponse<String> open(Http http, String client) {
            return http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
        }

        /** A session on {@code http} that reports {@code in} and {@code out} gpt-5 tokens (10 and 30 USD per 1M) and ends. */
        private static void spend(Http http, String client, long in, long out) {
            HttpResponse<String> started = open(http, client);
            assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
            String id = Http.json(started).get("session_id").asText();
            HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage",
                    "{\"input_tokens\":" + in + ",\"output_tokens\":" + out + "}", "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(http.send("DELETE", "/v1/sessions/" + id, "Authorization", SERVICE).statusCode()).isEqualTo(200);
        }

        static JsonNode budget(Http http, String client) {
            HttpResponse<String> r = http.get("/v1/clients/" + client + "/budget", "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return Http.json(r);
        }

        private void refused(Http http, String client, String window, Instant resetsAt) {
            HttpResponse<String> r = open(http, client);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
            JsonNode body = Http.json(r);
            assertThat(body.get("error").asText()).isEqualTo("client_budget_exceeded");
            assertThat(body.get("window").asText()).isEqualTo(window);
            assertThat(body.get("resets_at").asText()).isEqualTo(resetsAt.toString());
            assertThat(r.headers().firstValue("Retry-After"))
                    .hasValue(Long.toString(Duration.between(clock.instant(), resetsAt).toSeconds()));
        }

        @Test
        void aDayBudgetHoldsAcrossSessionsNodesAndAFullRestartAndABackendRaisesIt() throws Exception {
            String[] database = database();
            List<Http> nodes = cluster(database);
            Http a = nodes.get(0);
            Http b = nodes.get(1);
            // 0.20 + 0.20 + 0.10: three sessions on two nodes spend the day's 0.50
            spend(a, "user-7", 5_000, 5_000);
            spend(b, "user-7", 5_000, 5_000);
            spend(a, "user-7", 4_000, 2_000);
            Instant midnight = Instant.parse("2026-12-07T00:00:00Z");
            refused(b, "user-7", "day", midnight);
            JsonNode before = budget(a, "user-7");
            assertThat(before.at("/day/spent_usd").decimalValue()).isEqualByComparingTo("0.50");
            assertThat(before.at("/day/limit_usd").decimalValue()).isEqualByComparingTo("0.50");
            assertThat(before.at("/month/spent_usd").decimalValue()).isEqualByComparingTo("0.50");
            assertThat(before.get("exceeded").asText()).isEqualTo("day");
            assertThat(before.at("/day/resets_at").asText()).isEqualTo(midnight.toString());
            assertThat(PromText.value(a.get("/metrics").body(), "budget_exceeded_total", "limit=\"client_day\"")
                    + PromText.value(b.get("/metrics").body(), "budget_exceeded_total", "limit=\"client_day\"")).isEqualTo(1.0);

            stopAll();
            nodes = cluster(database);
            a = nodes.get(0);
            b = nodes.get(1);
            refused(a, "user-7", "day", midnight);
            assertThat(budget(b, "user-7").at("/day/spent_usd").decimalValue()).as("rebuilt from the charge rows").isEqualByComparingTo("0.50");

            HttpResponse<String> raised = b.put("/v1/clients/user-7/budget", "{\"day_usd\":1.00}", "Authorization", SERVICE);
            assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);
            assertThat(Http.json(raised).at("/override/day_usd").decimalValue()).isEqualByComparingTo("1.00");
            assertThat(Http.json(raised).has("exceeded") && Http.json(raised).get("exceeded").isNull()).isTrue();
            spend(a, "user-7", 20_000, 10_000);
            refused(b, "user-7", "day", midnight);

            // the override outlives a full restart too
            stopAll();
            nodes = cluster(database);
            a = nodes.get(0);
            JsonNode after = budget(a, "user-7");
            assertThat(after.at("/override/day_usd").decimalValue()).isEqualByComparingTo("1.00");
            assertThat(after.at("/day/spent_usd").decimalValue()).isEqualByComparingTo("1.00");

            // a new day: the day's spend starts over, the month's goes on (a backend lowered it to what was spent)
            assertThat(a.put("/v1/clients/user-7/budget", "{\"day_usd\":\"1.00\",\"month_usd\":\"1.00\"}", "Authorization", SERVICE)
                    .statusCode()).isEqualTo(200);
            clock.advance(Duration.between(clock.instant(), midnight));
            Instant newMonth = Instant.parse("2027-01-01T00:00:00Z");
            refused(a, "user-7", "month", newMonth);
            assertThat(budget(a, "user-7").at("/day/spent_usd").decimalValue()).isEqualByComparingTo("0");
            clock.advance(Duration.between(clock.instant(), newMonth));
            HttpResponse<String> january = open(a, "user-7");
            assertThat(january.statusCode()).as(january.body()).isEqualTo(201);
            assertThat(budget(a, "user-7").at("/month/spent_usd").decimalValue()).isEqualByComparingTo("0");
        }
    }
}
