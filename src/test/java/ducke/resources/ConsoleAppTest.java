package ducke.resources;

import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator console is one public, self-contained page (no token needed to load it, nothing
 * fetched from elsewhere) with the login form, and the home page links to it and shows the uptime
 * as a duration.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ConsoleAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-12-06T10:00:00Z")));

    @Test
    void theConsoleIsOneSelfContainedHtmlPageWithTheLoginForm() {
        HttpResponse<String> r = Http.local(APP.getLocalPort()).get("/console");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(r.body()).contains("<form id=\"login\"", "<input id=\"token\"", "id=\"error\"", "id=\"sessions\"",
                "id=\"spend-chart\"", "id=\"breaker-state\"", "id=\"trip\"", "id=\"reset\"", "sessionStorage",
                "/v1/operator/overview?window=60m&limit=10");
        assertThat(r.body()).as("no external scripts or styles").doesNotContain("<script src", "<link ", "@import")
                .doesNotContainPattern("(src|href|url)[=(][\"']?https?:").doesNotContain("localStorage", "document.cookie");
    }

    @Test
    void twoConsolesPollingEveryTwoSecondsStayInsideTheDefaultLimitOfOneAddress() {
        // config.yml's default: "any other route" 100/minute per client; the test's clock does not move
        Http node = Http.local(APP.getLocalPort());
        for (int i = 0; i < 2 * 30; i++) {
            HttpResponse<String> r = node.get("/v1/operator/overview?window=60m&limit=10", "Authorization",
                    "Bearer " + TestApps.OPERATOR_TOKEN);
            assertThat(r.statusCode()).as("request " + (i + 1) + ": " + r.body()).isEqualTo(200);
        }
        HttpResponse<String> last = node.get("/v1/operator/overview", "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN);
        assertThat(last.headers().firstValue("X-RateLimit-Limit")).as(last.headers().map().toString()).hasValue("100");
    }

    @Test
    void theHomePageLinksToTheConsoleAndShowsTheUptimeAsADuration() {
        String page = Http.local(APP.getLocalPort()).get("/").body();
        assertThat(page).contains("<a href=\"/console\" id=\"console-link\">console</a>");
        assertThat(page).containsPattern("<td id=\"uptime\" title=\"since [^\"]+\">\\d+ (s|min)</td>");
    }

    @Test
    void anUptimeReadsInTheLargestUnitsThatFit() {
        assertThat(HomeResource.duration(0)).isEqualTo("0 s");
        assertThat(HomeResource.duration(59)).isEqualTo("59 s");
        assertThat(HomeResource.duration(60)).isEqualTo("1 min");
        assertThat(HomeResource.duration(3 * 3600 + 12 * 60 + 5)).isEqualTo("3 h 12 min");
        assertThat(HomeResource.duration(2 * 86_400 + 5 * 3600 + 59)).isEqualTo("2 d 5 h");
    }
}
