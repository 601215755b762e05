package ducke.app;

import ducke.DuckeConfiguration;
import ducke.testing.DashboardQueries;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an operator sees on a node nobody has used yet: every metric the dashboards query and every
 * labelled series already at zero on the first scrape, and a home page with every field live.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FreshNodeAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T08:00:00Z")));
    private static final Pattern FAMILY = Pattern.compile("(?m)^# TYPE (\\S+) (counter|histogram|gauge)$");

    private static String firstScrape;

    private static synchronized String firstScrape() {
        if (firstScrape == null) {
            firstScrape = Http.local(APP.getLocalPort()).get("/metrics").body();
        }
        return firstScrape;
    }

    private static boolean hasSample(String scrape, String name) {
        return Pattern.compile("(?m)^" + Pattern.quote(name) + "(_total|_bucket|_count|_sum)?[{ ]").matcher(scrape).find();
    }

    @Test
    @Order(1)
    void everyMetricTheDashboardsQueryHasASampleOnTheFirstScrape() throws Exception {
        Set<String> queried = new TreeSet<>();
        for (Path dashboard : List.of(Path.of("grafana/dashboards/duck-e.json"))) {
            queried.addAll(DashboardQueries.metricNames(dashboard));
        }
        assertThat(queried).contains("budget_exceeded_total", "token_usage_total", "rate_limit_exceeded_total");
        String scrape = firstScrape();
        List<String> missing = queried.stream().filter(name -> !hasSample(scrape, name)).toList();
        assertThat(missing).as("dashboard metrics without a sample on a fresh node").isEmpty();
    }

    @Test
    @Order(2)
    void everyLabelledSeriesOfTheServiceStartsAtZero() {
        String scrape = firstScrape();
        List<String> empty = new ArrayList<>();
        Matcher m = FAMILY.matcher(scrape);
        while (m.find()) {
            String family = m.group(1);
            boolean ours = family.startsWith("rate_limit_") || family.startsWith("relay_") || family.startsWith("audit_")
                    || Set.of("token_usage_total", "budget_exceeded_total", "session_duration_seconds", "api_cost_total_usd",
                    "unknown_model_charges_total").contains(family);
            if (ours && !hasSample(scrape, family)) {
                empty.add(family);
            }
        }
        assertThat(empty).as("families without samples").isEmpty();
        assertThat(scrape).contains("budget_exceeded_total{limit=\"session_cost\"} 0.0",
                "budget_exceeded_total{limit=\"concurrent_sessions\"} 0.0",
                "rate_limit_exceeded_total{endpoint=\"websocket\"} 0.0",
                "rate_limit_grid_errors_total{action=\"fail_open\",endpoint=\"web_search\"} 0.0",
                "token_usage_total{model=\"gpt-realtime\",type=\"audio_output\"} 0.0",
                "token_usage_total{model=\"unknown\",type=\"cached_input\"} 0.0",
                "api_cost_total_usd{model=\"gpt-5-mini\"} 0.0",
                "session_duration_seconds_count{status=\"api_ended\"} 0",
                "relay_handshakes_total{outcome=\"concurrent_limit\"} 0.0",
                "relay_sessions_closed_total{reason=\"client_closed\"} 0.0",
                "relay_tool_calls_blocked_total{tool=\"weather\"} 0.0",
                "relay_frames_total{direction=\"upstream_to_client\"} 0.0");
    }

    @Test
    @Order(3)
    void theHomePageShowsTheBreakerAndTheHourlySpendAndRefreshesEveryField() {
        String page = Http.local(APP.getLocalPort()).get("/").body();
        assertThat(page).contains("<td id=\"breaker\" class=\"ok\">closed</td>");
        assertThat(page).contains("<td id=\"spend\">$0.00 of $50.00 cap</td>");
        Matcher cells = Pattern.compile("<td id=\"(\\w+)\"").matcher(page);
        List<String> ids = new ArrayList<>();
        while (cells.find()) {
            ids.add(cells.group(1));
        }
        assertThat(ids).contains("st", "node", "cluster", "members", "breaker", "spend", "cp", "rl", "uptime", "version");
        String script = page.substring(page.indexOf("<script>"));
        assertThat(ids).allSatisfy(id -> assertThat(script).as("refresh sets #%s", id).contains("set('" + id + "',"));

        Http.local(APP.getAdminPort()).post("/tasks/trip-circuit-breaker?reason=page", null);
        assertThat(Http.local(APP.getLocalPort()).get("/").body())
                .contains("<td id=\"breaker\" class=\"bad\">open until 2026-11-27T09:00:00Z</td>");
    }
}
