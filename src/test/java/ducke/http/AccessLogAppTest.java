package ducke.http;

import ducke.DuckeConfiguration;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.RawHttp;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every request reaches the access log, also one whose query is not valid percent-encoding: the
 * log line shows it with its {@code %} escaped, and the status the client got
 * ({@link DecodableQueryRequestLog}). Before, logback-access failed on such a query and the line
 * was lost, so a prober could hide its requests from the operator.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class AccessLogAppTest {

    private static final Path LOG = tempLog();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-30T12:00:00Z"), "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.status", "100000/minute",
            "server.requestLog.appenders[0].type", "file",
            "server.requestLog.appenders[0].currentLogFilename", LOG.toString(),
            "server.requestLog.appenders[0].archive", "false"));

    private static Path tempLog() {
        try {
            Path dir = Files.createTempDirectory("ducke-access-log");
            dir.toFile().deleteOnExit();
            return dir.resolve("access.log");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String logText() {
        try {
            return Files.exists(LOG) ? Files.readString(LOG) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void requestsWithUndecodableQueriesAreRefusedAndStillLogged() throws Exception {
        List<String> marks = List.of("?probe=%zz&m=1", "?probe=%C0%AF&m=2", "?probe=%&m=3", "?probe=ok%20fine&m=4");
        java.util.Map<String, Integer> statuses = new java.util.HashMap<>();
        for (String query : marks) {
            RawHttp.Answer a = RawHttp.send(APP.getLocalPort(), "GET /status" + query + " HTTP/1.1\r\nHost: test", "");
            assertThat(a.status()).as(query + ": " + a.body()).isLessThan(500);
            statuses.put(query, a.status());
        }
        Poll.until("every probe in the access log", Duration.ofSeconds(20), Duration.ofMillis(20),
                AccessLogAppTest::logText,
                () -> marks.stream().allMatch(m -> logText().contains("m=" + m.charAt(m.length() - 1) + " HTTP/1.1")));
        String log = logText();
        assertThat(log).contains("GET /status?probe=%25zz&m=1 HTTP/1.1\" " + statuses.get(marks.get(0)))
                .contains("GET /status?probe=%25C0%25AF&m=2 HTTP/1.1\" " + statuses.get(marks.get(1)))
                .contains("GET /status?probe=%25&m=3 HTTP/1.1\" " + statuses.get(marks.get(2)))
                .contains("GET /status?probe=ok%20fine&m=4 HTTP/1.1\" " + statuses.get(marks.get(3)));
    }
}
