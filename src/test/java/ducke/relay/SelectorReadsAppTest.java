package ducke.relay;

import ducke.DuckeConfiguration;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Relayed sockets are read on the selector thread ({@link SelectorReads}) with the Jetty version in
 * use, and what that changes keeps its promises: a burst of audio appends (handled where they are
 * read, up to {@link SelectorReads#FRAMES_PER_PASS} per read readiness) mixed with events that leave
 * the selector thread (policy, metering) reaches the upstream complete and in order, and the
 * upstream's events reach the client in order.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SelectorReadsAppTest {

    private static final FakeUpstream UPSTREAM = Fakes.upstream();
    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-30T18:00:00Z"),
            "upstream.url", UPSTREAM.url(),
            "costProtection.maxSessionCostUsd", "100",
            "costProtection.maxTotalCostPerHourUsd", "100000",
            "costProtection.circuitBreakerThresholdUsd", "100000",
            "rateLimits.defaultLimit", "100000/minute"));

    @AfterAll
    static void stopUpstream() throws Exception {
        UPSTREAM.close();
    }

    private static String audio(int i) {
        return "{\"type\":\"input_audio_buffer.append\",\"event_id\":\"evt_a" + i + "\",\"audio\":\""
                + "QUJD".repeat(100) + Integer.toString(i, 36) + "\"}";
    }

    private static String item(int i) {
        return "{\"type\":\"conversation.item.create\",\"event_id\":\"evt_i" + i + "\",\"item\":{\"type\":\"message\","
                + "\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"turn " + i + "\"}]}}";
    }

    @Test
    void burstsOfAudioAndOtherEventsPassInOrderWhileReadOnTheSelectorThread() throws Exception {
        long installedBefore = SelectorReads.installations();
        WsClient c = WsClient.connect(APP.getLocalPort(), "", "X-Forwarded-For", "198.51.100.21");
        c.started = c.nextEvent();
        c.until("session.created");
        assertThat(SelectorReads.installations() - installedBefore)
                .as("the client's and the upstream's connection read on the selector").isEqualTo(2);
        FakeUpstream.Connection up = UPSTREAM.connections().get(UPSTREAM.connections().size() - 1);

        List<String> sent = new ArrayList<>();
        int items = 0;
        for (int i = 0; i < 400; i++) {
            String frame = i % 64 == 40 ? item(items++) : audio(i);
            sent.add(frame);
            c.send(frame);
        }
        Poll.until("the upstream received every frame", Duration.ofSeconds(30), Duration.ofMillis(10),
                () -> "received " + up.received.size(),
                () -> up.received.stream().filter(f -> !f.contains("\"session.update\"")).count() == sent.size());
        List<String> relayed = up.received.stream().filter(f -> !f.contains("\"session.update\"")).toList();
        assertThat(relayed).containsExactlyElementsOf(sent);

        // the upstream answered every item with conversation.item.created, in order
        for (int i = 0; i < items; i++) {
            assertThat(c.until("conversation.item.created").at("/item/content/0/text").asText()).isEqualTo("turn " + i);
        }
        c.ws.sendClose(1000, "bye").join();
        assertThat(c.awaitClose()).isEqualTo(1000);
    }
}
