package ducke.relay;

import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SpendView;
import ducke.core.cost.TokenUsage;
import ducke.testing.MemoryStores.MemorySessions;
import ducke.testing.MemoryStores.MemorySpend;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's money logic without a socket: the reservation each response starts on, its
 * settlement, the clamp a client near its cap gets, and the estimate charged when usage never
 * arrives. gpt-realtime as the defaults price it: 100 USD per 1M input tokens, 200 per 1M output.
 */
class MeteringTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final CostLimits LIMITS = CostLimits.defaults(); // session 5.00, client 10.00/hour, breaker 100.00
    private static final String CLIENT = "203.0.113.7";

    private final MemorySessions sessions = new MemorySessions();
    private final MemorySpend spend = new MemorySpend();
    private final AtomicInteger estimated = new AtomicInteger();
    private final CostObserver observer = new CostObserver() {
        @Override
        public void estimated(String modelLabel, long costNanoUsd) {
            estimated.incrementAndGet();
        }
    };

    private CostGuard guard(CostLimits limits) {
        return new CostGuard(PriceTable.defaults(), limits, sessions, spend, new SpendView(), s -> { }, observer, "node-a",
                SessionIds::next);
    }

    private Metering metering(CostGuard guard) {
        CostGuard.Start s = guard.start(CLIENT, "gpt-realtime", "", NOW);
        assertThat(s.started()).isTrue();
        return new Metering(guard, s.ledger(), 1, ResponseBudget.forModel(PriceTable.defaults().match("gpt-realtime").price(), 2_000));
    }

    private ClientSpend client() {
        return spend.client(CLIENT);
    }

    private static long usd(String v) {
        return Money.nanoUsd(v);
    }

    @Test
    void nothingStartsWithoutAStandingReservation() {
        Metering m = metering(guard(LIMITS));
        assertThat(m.startResponse("evt_1", Long.MAX_VALUE)).isEqualTo(Metering.Start.ACTIVE_RESPONSE);
        assertThat(m.reserveStanding(NOW)).isNull();
        assertThat(m.startResponse("evt_1", Long.MAX_VALUE)).isEqualTo(Metering.Start.FORWARD);
    }

    @Test
    void aResponseStartsOnTheReservationAndItsChargeSettlesIt() {
        Metering m = metering(guard(LIMITS));
        m.reserveStanding(NOW);
        long held = client().holds().total(NOW);
        // the session's first response: 2,000 tokens of input (0.20), 2 s more of audio (160 tokens at the
        // default 800 base64 characters a token: 0.016) and 4,096 tokens of output (0.8192), at most
        assertThat(held).isEqualTo(usd("0.2") + usd("0.016") + usd("0.8192"));
        assertThat(spend.ledger().holds().total(NOW)).isEqualTo(held);
        assertThat(m.startResponse("evt_1", Long.MAX_VALUE)).isEqualTo(Metering.Start.FORWARD);
        assertThat(m.responseCreated("resp_1", m.lastClamp())).isFalse();
        CostGuard.Usage u = m.responseDone("resp_1", TokenUsage.totals(1_000, 500), NOW);
        m.settled();
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("0.2"));
        assertThat(client().holds().isEmpty()).as("settled with the charge").isTrue();
        assertThat(client().snapshot(NOW, LIMITS).hourlyNanoUsd()).isEqualTo(usd("0.2"));
        assertThat(spend.ledger().holds().isEmpty()).isTrue();
    }

    @Test
    void aClientNearItsCapGetsAClampWithinWhatIsLeft() {
        CostGuard g = guard(LIMITS);
        Metering m = metering(g);
        spend.chargeClient(CLIENT, usd("9.50"), NOW, LIMITS);
        assertThat(m.reserveStanding(NOW)).isNull();
        assertThat(client().holds().total(NOW)).isEqualTo(usd("0.50"));
        // 0.50 left: 0.20 of input, 0.30 of output at 200 per 1M = 1,500 tokens
        assertThat(m.clamp()).isEqualTo(1_500);
        assertThat(m.sessionClampUpdate()).isLessThanOrEqualTo(1_500L);
    }

    @Test
    void noRoomForOneResponseEndsTheSessionForTheClientsBudget() {
        Metering m = metering(guard(LIMITS));
        spend.chargeClient(CLIENT, usd("9.90"), NOW, LIMITS);
        assertThat(m.reserveStanding(NOW)).isEqualTo(EndReason.CLIENT_BUDGET_EXCEEDED);
        assertThat(m.holdRefusal()).isEqualTo(EndReason.CLIENT_BUDGET_EXCEEDED);
        assertThat(client().holds().isEmpty()).isTrue();
        assertThat(m.startResponse("evt_1", Long.MAX_VALUE)).isNotEqualTo(Metering.Start.FORWARD);
    }

    @Test
    void aReservationTheBreakersWindowCannotTakeOpensTheBreaker() {
        Metering m = metering(guard(LIMITS));
        spend.charge(ducke.core.cost.ChargeId.live("w"), usd("99.90"), NOW, LIMITS);
        assertThat(m.reserveStanding(NOW)).isEqualTo(EndReason.CIRCUIT_BREAKER);
        assertThat(spend.ledger().snapshot(NOW, LIMITS).breakerOpen()).isTrue();
        assertThat(client().holds().isEmpty()).as("the client's part given back").isTrue();
    }

    @Test
    void unreadableUsageIsChargedTheReservationOnce() {
        Metering m = metering(guard(LIMITS));
        m.reserveStanding(NOW);
        m.startResponse("evt_1", Long.MAX_VALUE);
        m.responseCreated("resp_1", m.lastClamp());
        CostGuard.Usage u = m.responseDone("resp_1", null, NOW);
        m.settled();
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("0.2") + usd("0.8192"));
        assertThat(estimated.get()).isEqualTo(1);
        assertThat(client().holds().isEmpty()).isTrue();
    }

    @Test
    void whatIsInFlightWhenTheSessionEndsIsChargedItsReservationAndALateDoneIsNotChargedAgain() {
        CostGuard g = guard(LIMITS);
        Metering m = metering(g);
        m.reserveStanding(NOW);
        m.startResponse("evt_1", Long.MAX_VALUE);
        m.responseCreated("resp_1", m.lastClamp());
        assertThat(m.inFlight()).isEqualTo(1);
        assertThat(m.chargeOutstanding(NOW)).isEqualTo(1);
        assertThat(m.inFlight()).isZero();
        long cost = m.ledger().costNanoUsd();
        assertThat(cost).isEqualTo(usd("1.0192"));
        assertThat(m.responseDone("resp_1", TokenUsage.totals(2_000, 4_096), NOW)).isNull();
        m.settled();
        assertThat(sessions.get(m.ledger().sessionId()).orElseThrow().costNanoUsd()).isEqualTo(cost);
    }

    @Test
    void aResponseTheUpstreamStartsWithoutAReservationIsToBeCancelled() {
        Metering m = metering(guard(LIMITS));
        assertThat(m.responseCreated("resp_vad", 100)).isTrue();
        m.reserveStanding(NOW);
        assertThat(m.responseCreated("resp_vad2", 100)).as("paid for by the standing reservation").isFalse();
    }

    @Test
    void releasingGivesBackTheStandingReservation() {
        Metering m = metering(guard(LIMITS));
        m.reserveStanding(NOW);
        m.releaseHolds(NOW);
        assertThat(client().holds().isEmpty()).isTrue();
        assertThat(spend.ledger().holds().isEmpty()).isTrue();
    }

    @Test
    void appendedAudioRaisesTheStandingReservation() {
        Metering m = metering(guard(LIMITS));
        m.reserveStanding(NOW);
        long before = client().holds().total(NOW);
        assertThat(m.standingShortfall()).isNull();
        m.audioAppended(1_000_000); // 1,250 tokens at the default 800 characters a token
        m.sessionClampUpdate();
        Long raise = m.standingShortfall();
        assertThat(raise).isNotNull();
        assertThat(m.raiseStanding(raise, NOW)).isNull();
        assertThat(client().holds().total(NOW)).isGreaterThan(before);
    }
}
