package ducke.tasks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import ducke.DuckeConfiguration;
import ducke.testing.Http;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin tasks over the admin port: refusals in one line and one JSON body, and idempotent breaker tasks. */
@ExtendWith(DropwizardExtensionsSupport.class)
class AdminTasksAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T11:00:00Z")));
    private static final String OPERATOR = "Bearer " + TestApps.OPERATOR_TOKEN;

    private static Http admin() {
        return Http.local(APP.getAdminPort());
    }

    @Test
    void aClientThatIsNeitherAnAddressNorAnIdIsRefusedWith400() {
        HttpResponse<String> r = admin().post("/tasks/reset-rate-limits?client=not%20an%20ip!", null);
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode body = Http.json(r);
        assertThat(body.get("error").asText()).isEqualTo("invalid_request");
        assertThat(body.get("message").asText()).contains("neither an IP address, a network key nor a client id");
        assertThat(admin().post("/tasks/reset-rate-limits?client=2001:DB8::7", null).statusCode()).isEqualTo(200);
        assertThat(admin().post("/tasks/reset-rate-limits?client=alice@example", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aRefusedTaskLogsOneLineWithoutAStackTraceAndAnswersACleanBody() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        HttpResponse<String> r;
        try {
            r = admin().post("/tasks/end-session", null);
        } finally {
            root.detachAppender(logged);
        }
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(Http.json(r).get("message").asText()).isEqualTo("parameter 'id' is required");
        List<ILoggingEvent> warnings = new ArrayList<>(logged.list.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .filter(e -> e.getLoggerName().startsWith("ducke.") || e.getLoggerName().startsWith("io.dropwizard."))
                .toList());
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).getLevel()).isEqualTo(Level.WARN);
        assertThat(warnings.get(0).getFormattedMessage()).isEqualTo("Task end-session refused: parameter 'id' is required");
        assertThat(warnings.get(0).getThrowableProxy()).isNull();
    }

    @Test
    void taskInputCannotForgeLogLinesOrJournalEntries() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        HttpResponse<String> end;
        HttpResponse<String> trip;
        try {
            end = admin().post("/tasks/end-session?id=x%0d%0aERROR%20forged%20line%1b%5B31m%e2%80%ae", null);
            trip = admin().post("/tasks/trip-circuit-breaker?reason=a%0d%0aERROR%20forged%00", null);
        } finally {
            root.detachAppender(logged);
        }
        assertThat(end.statusCode()).isEqualTo(400);
        assertThat(Http.json(end).get("message").asText()).isEqualTo("'x??ERROR forged line?[31m?' is not a session id");
        assertThat(trip.statusCode()).isEqualTo(400);
        assertThat(Http.json(trip).get("message").asText()).isEqualTo("reason must be one line of printable text");
        assertThat(logged.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain("\n", "\r", "\u001b", "\u0000"));
        AtomicReference<JsonNode> actions = new AtomicReference<>();
        Poll.until("both refusals journaled", Duration.ofSeconds(20), Duration.ofMillis(50), () -> "" + actions.get(), () -> {
            actions.set(Http.json(Http.local(APP.getLocalPort()).get("/v1/audit/admin-actions?limit=10",
                    "Authorization", "Bearer " + TestApps.OPERATOR_TOKEN)).get("admin_actions"));
            return actions.get() != null && actions.get().toString().contains("forged")
                    && actions.get().toString().contains("trip-circuit-breaker");
        });
        assertThat(actions.get().toString()).doesNotContain("\\r", "\\n", "\\u001B", "\\u0000");
    }

    @Test
    void unknownTasksAndOtherMethodsGetTheErrorBody() {
        HttpResponse<String> unknown = admin().post("/tasks/no-such-task", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Http.json(unknown).get("message").asText()).isEqualTo("No such task");
        HttpResponse<String> get = admin().get("/tasks/reset-circuit-breaker");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(Http.json(get).get("error").asText()).isEqualTo("invalid_request");
    }

    @Test
    void trippingAnOpenBreakerOrResettingAClosedOneRecordsNoBreakerChange() throws Exception {
        HttpResponse<String> first = admin().post("/tasks/trip-circuit-breaker?reason=drill", null);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).startsWith("circuit breaker open (cause: admin: drill)");
        HttpResponse<String> second = admin().post("/tasks/trip-circuit-breaker?reason=again", null);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).startsWith("circuit breaker is already open (cause: admin: drill); nothing changed");
        assertThat(admin().post("/tasks/reset-circuit-breaker", null).body()).startsWith("circuit breaker closed");
        assertThat(admin().post("/tasks/reset-circuit-breaker", null).body())
                .isEqualTo("circuit breaker is already closed; nothing changed\n");
        assertThat(admin().post("/tasks/trip-circuit-breaker?reason=last", null).statusCode()).isEqualTo(200);
        assertThat(admin().post("/tasks/reset-circuit-breaker", null).statusCode()).isEqualTo(200);

        // the journal is written in order: had a no-op been recorded, it would sit between these four
        JsonNode changes = awaitBreakerChanges(4);
        assertThat(changes.size()).isEqualTo(4);
        List<String> newestFirst = new ArrayList<>();
        changes.forEach(c -> newestFirst.add(c.get("state").asText() + " " + c.get("cause").asText()));
        assertThat(newestFirst).containsExactly("closed reset", "open admin: last", "closed reset", "open admin: drill");
    }

    private static JsonNode awaitBreakerChanges(int count) throws Exception {
        Http http = Http.local(APP.getLocalPort());
        AtomicReference<JsonNode> changes = new AtomicReference<>();
        Poll.until(count + " breaker changes in the audit", Duration.ofSeconds(20), Duration.ofMillis(50),
                () -> "last: " + changes.get(), () -> {
                    changes.set(Http.json(http.get("/v1/audit/breaker-changes", "Authorization", OPERATOR)).get("breaker_changes"));
                    return changes.get().size() >= count;
                });
        return changes.get();
    }
}
