package ducke.core.cost;

import ducke.core.cluster.ClusterUnavailableException;
import ducke.testing.MemoryStores.MemorySessions;
import ducke.testing.MemoryStores.MemorySpend;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The reservation service over the guard with its stores in memory: what is held where, and what a
 * failure leaves behind. gpt-5 (config defaults): 10 USD per million input tokens, 30 per million
 * output; a client's hour holds 10.00 by default.
 */
class ApiReservationsTest {

    private static final long T0 = 1_700_000_040_000L;
    private static final long MINUTE = 60_000L;

    /** The session's list in a map, compare-and-set by value; {@link #failing} makes every swap fail as an unanswered grid call. */
    static final class MemoryReservations implements ReservationStore {
        final Map<String, OpenReservations> map = new ConcurrentHashMap<>();
        final AtomicBoolean failing = new AtomicBoolean();

        @Override
        public OpenReservations get(String sessionId) {
            return map.getOrDefault(sessionId, OpenReservations.NONE);
        }

        @Override
        public synchronized boolean swap(String sessionId, OpenReservations expected, OpenReservations next) {
            if (failing.get()) {
                throw new ClusterUnavailableException("The cluster did not answer within 10 ms while taking a reservation", 1, null);
            }
            if (!get(sessionId).equals(expected)) {
                return false;
            }
            if (next.isEmpty()) {
                map.remove(sessionId);
            } else {
                map.put(sessionId, next);
            }
            return true;
        }

        @Override
        public Map<String, OpenReservations> ownedHere() {
            return Map.copyOf(map);
        }
    }

    private final MemorySessions sessions = new MemorySessions();
    private final MemorySpend spend = new MemorySpend();
    private final MemoryReservations store = new MemoryReservations();
    private final AtomicInteger ids = new AtomicInteger();

    private CostGuard guard(CostLimits limits) {
        return new CostGuard(PriceTable.defaults(), limits, sessions, spend, new SpendView(), s -> { }, new CostObserver() { },
                "node-a", () -> String.format("sess_%032x", ids.incrementAndGet()));
    }

    private static String session(CostGuard g, String holder) {
        CostGuard.Start s = g.start("203.0.113.9", "gpt-5", holder, T0);
        assertThat(s.started()).as(String.valueOf(s.refusal())).isTrue();
        return s.ledger().sessionId();
    }

    @Test
    void aRealtimeSessionIsRefusedItsResponsesAreTheRelays() {
        CostGuard g = guard(CostLimits.defaults());
        ApiReservations r = new ApiReservations(g, store, new CostObserver() { });
        String relayed = session(g, "node-a");
        ApiReservations.Outcome o = r.reserve(relayed, 1000, 1000, MINUTE, T0).orElseThrow();
        assertThat(o.refused().refusal()).isEqualTo(ApiReservations.Refusal.NOT_API);
        assertThat(store.map).isEmpty();
        assertThat(r.reserve("sess_" + "0".repeat(32), 1, 1, MINUTE, T0)).isEmpty();
    }

    @Test
    void aListThatCannotBeWrittenGivesTheClientsHoldBackAndListsNothing() {
        CostGuard g = guard(CostLimits.defaults());
        ApiReservations r = new ApiReservations(g, store, new CostObserver() { });
        String s = session(g, "");
        String other = session(g, "");
        String third = session(g, "");
        // 5.00 of the client's 10.00 hour: 200,000 input + 100,000 output tokens
        store.failing.set(true);
        assertThatThrownBy(() -> r.reserve(s, 200_000, 100_000, MINUTE, T0)).isInstanceOf(ClusterUnavailableException.class);
        store.failing.set(false);
        assertThat(store.map).isEmpty();
        // the hold was given back: two more of 5.00 fit the hour, a third does not
        assertThat(r.reserve(s, 200_000, 100_000, MINUTE, T0).orElseThrow().reserved()).isNotNull();
        assertThat(r.reserve(other, 200_000, 100_000, MINUTE, T0).orElseThrow().reserved()).isNotNull();
        assertThat(r.reserve(third, 1, 1, MINUTE, T0).orElseThrow().refused().refusal())
                .isEqualTo(ApiReservations.Refusal.CLIENT_BUDGET);
    }

    @Test
    void withCostProtectionOffTheSessionsCapDoesNotRefuse() {
        CostLimits d = CostLimits.defaults();
        CostLimits off = new CostLimits(false, d.maxSessionCostNanoUsd(), d.maxSessionDurationMillis(), d.warningBasisPoints(),
                d.maxConcurrentSessionsPerClient(), d.maxHourlyCostNanoUsd(), d.hourlyWindowMillis(), d.breakerThresholdNanoUsd(),
                d.breakerWindowMillis(), d.breakerCooldownMillis(), d.maxClientHourlyCostNanoUsd());
        CostGuard g = guard(off);
        ApiReservations r = new ApiReservations(g, store, new CostObserver() { });
        String s = session(g, "");
        // 6.00, over the 5.00 session cap: metered, not capped
        ApiReservations.Outcome o = r.reserve(s, 300_000, 100_000, MINUTE, T0).orElseThrow();
        assertThat(o.reserved().open().nanoUsd()).isEqualTo(Money.nanoUsd("6.00"));
        assertThat(store.get(s).heldNanoUsd()).isEqualTo(Money.nanoUsd("6.00"));
    }

    /** A guard whose part of the cluster can lose its quorum, with a journal for what it cannot charge meanwhile. */
    private CostGuard journaling(ducke.core.cluster.ClusterHealth health) {
        return new CostGuard(PriceTable.defaults(), CostLimits.defaults(), sessions, spend, new SpendView(), s -> { },
                new CostObserver() { }, "node-a", () -> String.format("sess_%032x", ids.incrementAndGet()), health,
                new ChargeJournal(8), "node-a/1");
    }

    private void quorum(ducke.core.cluster.ClusterHealth health, boolean on) {
        health.membersSeen(on ? 3 : 1);
        sessions.quorum.set(on);
        spend.quorum.set(on);
    }

    @Test
    void aReportJournaledWithoutQuorumAndTheEstimateAtExpiryAreOneCharge() {
        for (boolean expiresFirst : new boolean[]{true, false}) {
            ducke.core.cluster.ClusterHealth health = new ducke.core.cluster.ClusterHealth(2, 3, 3, 15_000);
            CostGuard g = journaling(health);
            ApiReservations r = new ApiReservations(g, store, new CostObserver() { });
            String s = session(g, "");
            String id = r.reserve(s, 1000, 1000, MINUTE, T0).orElseThrow().reserved().open().id(); // 0.04

            quorum(health, false);
            CostGuard.Usage journaled = r.settle(s, id, null, TokenUsage.totals(100, 300), T0 + 1_000).orElseThrow(); // 0.01
            assertThat(journaled.journaled()).isTrue();
            assertThat(store.get(s).find(id)).as("still listed: nothing could be taken off").isPresent();
            quorum(health, true);

            if (expiresFirst) {
                assertThat(r.sweep(T0 + MINUTE).charged()).isEqualTo(1);
                g.replayJournal();
                assertThat(g.get(s).orElseThrow().costNanoUsd()).as("the estimate, and the journaled report adds nothing")
                        .isEqualTo(Money.nanoUsd("0.04"));
            } else {
                g.replayJournal();
                assertThat(r.sweep(T0 + MINUTE).charged()).as("the replayed report took the key").isZero();
                assertThat(g.get(s).orElseThrow().costNanoUsd()).as("what was used").isEqualTo(Money.nanoUsd("0.01"));
            }
            assertThat(store.get(s).isEmpty()).isTrue();
        }
    }

    @Test
    void theSweepChargesOnlyExpiredReservationsAndTheLastStopChargesEveryOpenOne() {
        CostGuard g = guard(CostLimits.defaults());
        ApiReservations r = new ApiReservations(g, store, new CostObserver() { });
        String s = session(g, "");
        String early = r.reserve(s, 1000, 1000, MINUTE, T0).orElseThrow().reserved().open().id();
        r.reserve(s, 2000, 1000, 2 * MINUTE, T0).orElseThrow();
        assertThat(r.sweep(T0 + MINUTE - 1).charged()).isZero();
        assertThat(r.sweep(T0 + MINUTE).charged()).isEqualTo(1);
        assertThat(g.get(s).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.04"));
        assertThat(store.get(s).find(early)).isEmpty();
        assertThat(r.sweep(T0 + MINUTE).charged()).as("swept once").isZero();
        assertThat(r.chargeAllOpen(T0 + MINUTE).charged()).isEqualTo(1);
        assertThat(g.get(s).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.09"));
        assertThat(store.map).isEmpty();

        // a session whose ledger is gone: its expired reservation is dropped, said so, and not swept again
        String gone = session(g, "");
        r.reserve(gone, 1000, 1000, MINUTE, T0).orElseThrow();
        sessions.expire(gone);
        assertThat(r.sweep(T0 + MINUTE)).isEqualTo(new ApiReservations.Swept(0, 1, 0, null));
        assertThat(store.map).isEmpty();
    }
}
