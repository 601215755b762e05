package ducke.relay;

import com.codahale.metrics.MetricRegistry;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cluster.ClusterView;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.core.ratelimit.LocalDenials;
import ducke.metrics.GuardMetrics;
import ducke.metrics.RelayMetrics;
import ducke.testing.MemoryStores.MemorySessions;
import ducke.testing.MemoryStores.MemorySpend;
import ducke.testing.MutableClock;
import ducke.testing.PromText;
import io.dropwizard.jackson.Jackson;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a relayed session ends, without a socket: a real guard over in-memory stores, a relay
 * context as {@link Relay#install} builds it (its upstream client never connects anywhere), and
 * the session's {@link SessionEnding} driven directly. gpt-realtime as the defaults price it: 100
 * USD per 1M input tokens, 200 per 1M output.
 */
class SessionEndingTest {

    private static final String CLIENT = "203.0.113.9";
    private static final long MIB = 1024 * 1024;

    private final MutableClock clock = MutableClock.at("2026-12-08T09:00:00Z");
    private final MemorySessions sessions = new MemorySessions();
    private final MemorySpend spend = new MemorySpend();
    private final AtomicInteger estimated = new AtomicInteger();
    private final List<SessionRecord> ended = new CopyOnWriteArrayList<>();
    private final CostObserver observer = new CostObserver() {
        @Override
        public void sessionEnded(SessionRecord record) {
            ended.add(record);
        }

        @Override
        public void estimated(String modelLabel, long costNanoUsd) {
            estimated.incrementAndGet();
        }
    };
    private final CostGuard guard = new CostGuard(PriceTable.defaults(), CostLimits.defaults(), sessions, spend,
            new ducke.core.cost.SpendView(), s -> { }, observer, "node-a", SessionIds::next);

    private GuardMetrics guardMetrics;
    private ScheduledExecutorService timers;
    private UpstreamClient upstreamClient;
    private RelayContext ctx;

    @BeforeEach
    void context() throws Exception {
        guardMetrics = new GuardMetrics(new MetricRegistry(), new OneNode(), new LocalDenials(10), List.of());
        RelayMetrics metrics = new RelayMetrics(guardMetrics);
        timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "session-ending-test-timers");
            t.setDaemon(true);
            return t;
        });
        upstreamClient = new UpstreamClient(Duration.ofSeconds(1), 16 * MIB);
        // started for its pool, which an ending started from a frame's thread continues on; never connected
        upstreamClient.start();
        var mapper = Jackson.newObjectMapper();
        ctx = new RelayContext(guard, null, clock, mapper, new GatewayEvents(mapper), metrics, new RelayRegistry(),
                upstreamClient, URI.create("ws://127.0.0.1:9/v1/realtime"), "sk-test", Duration.ofSeconds(1),
                MIB, 16 * MIB, 4 * MIB, Duration.ofSeconds(30), Duration.ofSeconds(2), Map.of(), timers, 1,
                Duration.ofMillis(200), 2_000, new ClientEventPolicy.Allowed(Set.of("function"), false),
                new Goodbye.Settings("", 200));
    }

    @AfterEach
    void stop() throws Exception {
        timers.shutdownNow();
        upstreamClient.stop();
    }

    /** A session as the relay builds it, with an ending of the test's own over its own metering. */
    private final class Live {
        final SessionLedger ledger;
        final RelaySession session;
        final Metering metering;
        final UpstreamLink upstream;
        final SessionEnding ending;

        Live() {
            CostGuard.Start s = guard.start(CLIENT, "gpt-realtime", "", clock.millis());
            assertThat(s.started()).isTrue();
            ledger = s.ledger();
            session = new RelaySession(ctx, new Handshake(ledger, CLIENT, () -> { }), false);
            metering = new Metering(guard, ledger, ctx.maxResponsesInFlight(),
                    ResponseBudget.forModel(guard.prices().match("gpt-realtime").price(), ctx.minInputReserveTokens()));
            upstream = new UpstreamLink(ctx, session);
            ending = new SessionEnding(ctx, session, metering, () -> upstream, () -> null);
        }

        SessionLedger stored() {
            return sessions.get(ledger.sessionId()).orElseThrow();
        }

        void awaitFinished() throws Exception {
            ending.finished().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anEndingWithNothingInFlightEndsTheLedgerOnceAndTheFirstReasonWins() throws Exception {
        CostGuard.Start s = guard.start(CLIENT, "gpt-realtime", "", clock.millis());
        RelaySession session = new RelaySession(ctx, new Handshake(s.ledger(), CLIENT, () -> { }), false);

        session.finish(EndReason.CLIENT_CLOSED, null, null);

        assertThat(session.finished()).as("nothing in flight: ended at once").isDone();
        assertThat(sessions.get(s.ledger().sessionId()).orElseThrow().endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(ended).hasSize(1);
        assertThat(closed("client_closed")).isEqualTo(1.0);

        clock.advance(Duration.ofSeconds(5));
        session.finish(EndReason.ADMIN_ENDED, null, null);

        SessionLedger stored = sessions.get(s.ledger().sessionId()).orElseThrow();
        assertThat(stored.endReason()).as("the first reason wins").isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(stored.endedAtMillis()).isEqualTo(clock.millis() - 5_000);
        assertThat(ended).as("the ledger ends once").hasSize(1);
        assertThat(closed("client_closed")).isEqualTo(1.0);
        assertThat(closed("admin_ended")).isZero();
    }

    @Test
    void aResponseInFlightWhenTheUpstreamIsNotOpenIsChargedItsReservationWithoutWaitingForItsUsage() throws Exception {
        Live live = new Live();
        assertThat(live.metering.reserveStanding(clock.millis())).isNull();
        assertThat(live.metering.startResponse("evt_1", Long.MAX_VALUE)).isEqualTo(Metering.Start.FORWARD);
        assertThat(live.metering.responseCreated("resp_1", live.metering.lastClamp())).isFalse();
        assertThat(live.metering.inFlight()).isEqualTo(1);
        assertThat(live.upstream.open()).as("never connected").isFalse();

        live.ending.now(EndReason.CLIENT_CLOSED, null, null);

        // no tail can come from an upstream that is not open: nothing is cancelled there, nothing awaited
        assertThat(live.ending.finished()).as("ended without waiting for the final usage").isDone();
        assertThat(live.upstream.pendingBytes()).as("no response.cancel sent").isZero();
        assertThat(relay("relay_final_usage_missed_total", "")).isZero();
        // the reservation: 2,000 tokens of input (0.20) and 4,096 of output (0.8192)
        assertThat(live.stored().costNanoUsd()).isEqualTo(Money.nanoUsd("1.0192"));
        assertThat(estimated.get()).as("charged as an estimate").isEqualTo(1);
        assertThat(live.stored().endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(spend.client(CLIENT).holds().isEmpty()).as("no reservation left held").isTrue();
    }

    @Test
    void aChargeTheClusterDoesNotConfirmEndsTheSessionClusterDegraded() throws Exception {
        Live live = new Live();

        live.ending.charging(() -> {
            throw new ClusterUnavailableException("grid call missed its deadline (test)", 1, null);
        });
        live.awaitFinished();

        assertThat(live.stored().endReason()).isEqualTo(EndReason.CLUSTER_DEGRADED);
        assertThat(relay("relay_charges_unconfirmed_total", "")).isEqualTo(1.0);
        assertThat(closed("cluster_degraded")).isEqualTo(1.0);
    }

    @Test
    void aLedgerEndAnnouncedDuringAChargeEndsTheSessionOnlyAfterTheChargeReturns() throws Exception {
        Live live = new Live();
        AtomicBoolean startedDuringCharge = new AtomicBoolean(true);
        AtomicBoolean finishedDuringCharge = new AtomicBoolean(true);

        live.ending.charging(() -> {
            // another node (an operator) ends the ledger while this charge is under way
            SessionLedger endedElsewhere = guard.end(live.ledger.sessionId(), EndReason.ADMIN_ENDED, clock.millis())
                    .orElseThrow().ledger();
            live.ending.ledgerEnded(endedElsewhere);
            startedDuringCharge.set(live.ending.started());
            finishedDuringCharge.set(live.ending.finished().isDone());
        });

        assertThat(startedDuringCharge).as("the ending waits for the charge").isFalse();
        assertThat(finishedDuringCharge).isFalse();
        assertThat(live.ending.started()).isTrue();
        live.awaitFinished();
        assertThat(closed("admin_ended")).isEqualTo(1.0);
        assertThat(live.stored().endReason()).isEqualTo(EndReason.ADMIN_ENDED);
    }

    @Test
    void theDurationTimerEndsASessionPastItsExpirySessionTimeout() throws Exception {
        Live live = new Live();
        clock.set(Instant.ofEpochMilli(live.ledger.expiresAtMillis() + 1_000));

        live.ending.scheduleExpiry();
        live.awaitFinished();

        assertThat(live.stored().endReason()).isEqualTo(EndReason.SESSION_TIMEOUT);
        assertThat(closed("session_timeout")).isEqualTo(1.0);
    }

    // ---- metrics, as /metrics exposes them ----

    private double closed(String reason) throws IOException {
        return relay("relay_sessions_closed_total", "reason=\"" + reason + "\"");
    }

    private double relay(String name, String labels) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, guardMetrics.registry().scrape());
        return PromText.value(out.toString(StandardCharsets.UTF_8), name, labels);
    }

    /** The cluster as the metrics' member gauge sees it: this node alone. */
    private static final class OneNode implements ClusterView {
        @Override
        public String nodeName() {
            return "node-a";
        }

        @Override
        public String clusterName() {
            return "test";
        }

        @Override
        public int memberCount() {
            return 1;
        }

        @Override
        public String memberId() {
            return "node-a";
        }

        @Override
        public boolean healthy() {
            return true;
        }
    }
}
