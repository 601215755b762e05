package ducke.audit;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.AuditStores;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every node stopped, a new cluster started on the same audit store: the hour's spend, each
 * client's hourly spend and an open breaker (with its reset time) are rebuilt before the first
 * session is admitted; spend older than the hour is not. Run on an H2 file and on PostgreSQL.
 */
class FullRestartAppTest {

    @Nested
    @DisplayName("H2 file")
    class OnH2 extends Story {
        @Override
        String[] database() {
            return AuditStores.h2File();
        }
    }

    @Nested
    @DisplayName("PostgreSQL")
    class OnPostgres extends Story {
        private AuditStores.PostgresSchema schema;

        @Override
        String[] database() throws SQLException {
            schema = new AuditStores.PostgresSchema("restart_test");
            return schema.settings();
        }

        @AfterEach
        void drop() throws SQLException {
            schema.close();
        }
    }

    abstract static class Story {

        private static final String SERVICE = "Bearer " + TestApps.SERVICE_TOKEN;

        private final MutableClock clock = MutableClock.at("2026-12-06T09:00:00Z");
        private final List<DropwizardTestSupport<DuckeConfiguration>> apps = new ArrayList<>();

        /** The audit store's settings, alternating keys and values: one database for every app of the test. */
        abstract String[] database() throws SQLException;

        @AfterEach
        void stopApps() {
            apps.forEach(DropwizardTestSupport::after);
            TestApps.clearOverrides();
        }

        /** A node alone in a cluster of a new name: every start is a new cluster. */
        private DropwizardTestSupport<DuckeConfiguration> start(String[] database) throws Exception {
            List<String> settings = new ArrayList<>(List.of("costProtection.sweepInterval", "50ms",
                    "rateLimits.defaultLimit", "100000/minute", "rateLimits.status", "100000/minute",
                    "costProtection.maxTotalCostPerHourUsd", "50.00", "costProtection.maxClientCostPerHourUsd", "10.00",
                    "costProtection.circuitBreakerThresholdUsd", "100.00"));
            settings.addAll(List.of(database));
            DropwizardTestSupport<DuckeConfiguration> app = TestApps.support(clock, settings.toArray(String[]::new));
            app.before();
            apps.add(app);
            return app;
        }

        private void stop(DropwizardTestSupport<DuckeConfiguration> app) {
            app.after();
            apps.remove(app);
        }

        private static HttpResponse<String> open(Http http, String client) {
            return http.post("/v1/sessions", "{\"client_id\":\"" + client + "\",\"model\":\"gpt-5\"}", "Authorization", SERVICE);
        }

        /** gpt-5, 200k in + 100k out: exactly $5.00 (which ends the session at its $5 cap). */
        private static void spendFive(Http http, String client) {
            HttpResponse<String> started = open(http, client);
            assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
            String id = Http.json(started).get("session_id").asText();
            HttpResponse<String> r = http.post("/v1/sessions/" + id + "/usage",
                    "{\"input_tokens\":200000,\"output_tokens\":100000}", "Authorization", SERVICE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }

        private static JsonNode status(Http http) {
            return Http.json(http.get("/status"));
        }

        private static Http ready(DropwizardTestSupport<DuckeConfiguration> app) throws Exception {
            Http http = Http.local(app.getLocalPort());
            TestApps.awaitReady(0, http);
            return http;
        }

        @Test
        void theHourItsClientsAndAnOpenBreakerOutliveEveryNode() throws Exception {
            String[] database = database();
            DropwizardTestSupport<DuckeConfiguration> first = start(database);
            Http http = ready(first);
            // spent 70 minutes before the rest: out of the hour by the time the cluster restarts
            spendFive(http, "198.51.100.99");
            spendFive(http, "198.51.100.99");
            clock.advance(Duration.ofMinutes(70));
            spendFive(http, "198.51.100.1");
            spendFive(http, "198.51.100.1");
            for (int i = 2; i <= 7; i++) {
                spendFive(http, "198.51.100." + i);
            }
            assertThat(status(http).get("hourly_cost_usd").decimalValue()).isEqualByComparingTo("40.00");
            stop(first);

            clock.advance(Duration.ofMinutes(1));
            DropwizardTestSupport<DuckeConfiguration> second = start(database);
            Http again = ready(second);
            assertThat(status(again).get("cluster").asText()).isNotEqualTo(first.getConfiguration().getHazelcast().getClusterName());
            assertThat(status(again).get("hourly_cost_usd").decimalValue()).as("the hour, without the spend older than it")
                    .isEqualByComparingTo("40.00");
            HttpResponse<String> client = open(again, "198.51.100.1");
            assertThat(client.statusCode()).as(client.body()).isEqualTo(429);
            assertThat(Http.json(client).get("error").asText()).isEqualTo("client_budget_exceeded");

            spendFive(again, "198.51.100.8");
            spendFive(again, "198.51.100.9");
            HttpResponse<String> capped = open(again, "198.51.100.10");
            assertThat(capped.statusCode()).as(capped.body()).isEqualTo(503);
            assertThat(Http.json(capped).get("error").asText()).isEqualTo("hourly_limit_exceeded");
            assertThat(Http.json(capped).get("hourly_cost_usd").decimalValue()).isEqualByComparingTo("50.00");

            HttpResponse<String> tripped = Http.local(second.getAdminPort()).post("/tasks/trip-circuit-breaker?reason=restart+test",
                    null);
            assertThat(tripped.statusCode()).as(tripped.body()).isEqualTo(200);
            String resetsAt = status(again).get("circuit_breaker_resets_at").asText();
            assertThat(status(again).get("circuit_breaker").asText()).isEqualTo("open");
            stop(second);

            clock.advance(Duration.ofMinutes(2));
            DropwizardTestSupport<DuckeConfiguration> third = start(database);
            Http last = ready(third);
            assertThat(status(last).get("circuit_breaker").asText()).isEqualTo("open");
            assertThat(status(last).get("circuit_breaker_resets_at").asText()).isEqualTo(resetsAt);
            HttpResponse<String> refused = open(last, "198.51.100.11");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(Http.json(refused).get("error").asText()).isEqualTo("circuit_breaker_open");
        }
    }
}
