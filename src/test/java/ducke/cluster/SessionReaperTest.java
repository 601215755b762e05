package ducke.cluster;

import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenUsage;
import ducke.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The reaper on real members: duration cap, breaker, lost nodes, and the hand-over to the audit sink. */
class SessionReaperTest {

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private CostGrid grid;

    @AfterEach
    void stop() {
        grid.nodes.forEach(ClusterNode::stop);
    }

    private CostGrid grid(int members) throws Exception {
        grid = new CostGrid(Members.start(members), CostLimits.defaults(), clock);
        return grid;
    }

    private static Map<String, SessionRecord> byId(List<SessionRecord> records) {
        return records.stream().collect(Collectors.toMap(SessionRecord::sessionId, Function.identity()));
    }

    @Test
    void durationCapEndsASessionWithoutAnyUsageAndFreesItsSlot() throws Exception {
        CostGuard guard = grid(1).guards.get(0);
        String id = guard.start("203.0.113.1", "gpt-realtime", "", clock.millis()).ledger().sessionId();
        guard.start("203.0.113.1", "gpt-realtime", "", clock.millis());
        guard.start("203.0.113.1", "gpt-realtime", "", clock.millis());
        assertThat(guard.start("203.0.113.1", "gpt-realtime", "", clock.millis()).refusal())
                .isEqualTo(CostGuard.Refusal.CONCURRENT_LIMIT);

        clock.advance(Duration.ofMinutes(30).minusMillis(1));
        grid.passEverywhere();
        assertThat(guard.get(id).orElseThrow().active()).isTrue();

        clock.advance(Duration.ofMillis(1));
        assertThat(grid.reapers.get(0).pass().endedNow()).isEqualTo(3);
        assertThat(guard.get(id).orElseThrow().endReason()).isEqualTo(EndReason.SESSION_TIMEOUT);
        assertThat(guard.get(id).orElseThrow().endedAtMillis()).isEqualTo(clock.millis());
        assertThat(guard.start("203.0.113.1", "gpt-realtime", "", clock.millis()).started()).isTrue();
    }

    @Test
    void everyEndedSessionReachesTheSinkExactlyOnceEvenWhenTheSinkFailsFirst() throws Exception {
        CostGrid g = grid(1);
        CostGuard guard = g.guards.get(0);
        String a = guard.start("203.0.113.2", "gpt-5", "", clock.millis()).ledger().sessionId();
        String b = guard.start("203.0.113.3", "gpt-5", "", clock.millis()).ledger().sessionId();
        guard.report(a, null, TokenUsage.totals(40_000, 120_000), clock.millis());
        guard.end(a, EndReason.API_ENDED, clock.millis());
        guard.end(b, EndReason.CLIENT_CLOSED, clock.millis());
        g.sink.refusalsLeft.set(2);

        g.passEverywhere();
        g.passEverywhere();
        assertThat(g.sink.accepted()).isEmpty();
        g.passEverywhere();
        g.passEverywhere();
        g.passEverywhere();

        Map<String, SessionRecord> records = byId(g.sink.accepted());
        assertThat(g.sink.accepted()).hasSize(2);
        assertThat(records.get(a).costNanoUsd()).isEqualTo(4_000_000_000L);
        assertThat(records.get(a).endReason()).isEqualTo(EndReason.API_ENDED);
        assertThat(records.get(a).chargedResponses()).isEqualTo(1);
        assertThat(records.get(a).priceVersion()).isEqualTo(guard.prices().version());
        assertThat(records.get(b).endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(guard.get(a).orElseThrow().audited()).isTrue();
    }

    @Test
    void openBreakerEndsEveryLiveSession() throws Exception {
        CostGrid g = grid(1);
        CostGuard guard = g.guards.get(0);
        String id = guard.start("203.0.113.4", "gpt-5", "", clock.millis()).ledger().sessionId();
        guard.trip("test", clock.millis());
        g.passEverywhere();
        assertThat(guard.get(id).orElseThrow().endReason()).isEqualTo(EndReason.CIRCUIT_BREAKER);
        assertThat(guard.start("203.0.113.5", "gpt-5", "", clock.millis()).refusal())
                .isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
    }

    @Test
    void sessionsHeldByALostMemberAreEndedAndAuditedByTheSurvivors() throws Exception {
        CostGrid g = grid(3);
        ClusterNode lost = g.nodes.get(2);
        String holder = lost.memberId();
        List<String> held = List.of(
                g.guards.get(0).start("203.0.113.6", "gpt-realtime", holder, clock.millis()).ledger().sessionId(),
                g.guards.get(1).start("203.0.113.7", "gpt-realtime", holder, clock.millis()).ledger().sessionId(),
                g.guards.get(2).start("203.0.113.8", "gpt-realtime", holder, clock.millis()).ledger().sessionId());
        String apiSession = g.guards.get(0).start("203.0.113.9", "gpt-5", "", clock.millis()).ledger().sessionId();
        g.guards.get(1).report(held.get(0), null, TokenUsage.totals(5_000, 10_000), clock.millis());

        lost.terminate();
        long deadline = System.currentTimeMillis() + 60_000;
        while (g.sink.accepted().size() < held.size()) {
            assertThat(System.currentTimeMillis()).as("lost sessions audited in time").isLessThan(deadline);
            g.passEverywhere();
        }
        g.passEverywhere();

        Map<String, SessionRecord> records = byId(g.sink.accepted());
        assertThat(g.sink.accepted()).hasSize(3);
        assertThat(records.keySet()).containsExactlyInAnyOrderElementsOf(held);
        assertThat(records.values()).allMatch(r -> r.endReason() == EndReason.NODE_LOST);
        assertThat(records.get(held.get(0)).costNanoUsd()).isEqualTo(2_500_000_000L);
        assertThat(g.guards.get(0).get(apiSession).orElseThrow().active()).isTrue();
    }

    @Test
    void aBreakerTrippedOnOneMemberIsKnownToEveryMemberAtOnce() throws Exception {
        CostGrid g = grid(2);
        g.nodes.get(1).onBreakerChange(s -> g.guards.get(1).view().force(s));
        assertThat(g.guards.get(1).view().breakerOpen(clock.millis())).isFalse();
        g.guards.get(0).trip("drill", clock.millis());
        long deadline = System.currentTimeMillis() + 10_000;
        while (!g.guards.get(1).view().breakerOpen(clock.millis())) {
            assertThat(System.currentTimeMillis()).as("breaker announcement arrived").isLessThan(deadline);
            Thread.onSpinWait();
        }
        assertThat(g.guards.get(1).view().get().breakerCause()).isEqualTo("drill");
        g.guards.get(0).resetBreaker(clock.millis());
        while (g.guards.get(1).view().breakerOpen(clock.millis())) {
            assertThat(System.currentTimeMillis()).as("reset announcement arrived").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void hourlySpendAgesOutAndTheBreakerClosesAfterItsCooldown() throws Exception {
        CostGuard guard = grid(1).guards.get(0);
        for (int i = 0; i < 10; i++) {
            String id = guard.start("198.51.100." + i, "gpt-5", "", clock.millis()).ledger().sessionId();
            guard.report(id, null, TokenUsage.totals(200_000, 100_000), clock.millis());
        }
        CostGuard.Start refused = guard.start("198.51.100.99", "gpt-5", "", clock.millis());
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.HOURLY_LIMIT);
        assertThat(refused.retryAfterMillis()).isEqualTo(Duration.ofMinutes(61).toMillis());

        clock.advance(Duration.ofMinutes(61));
        assertThat(guard.start("198.51.100.99", "gpt-5", "", clock.millis()).started()).isTrue();

        guard.trip("test", clock.millis());
        clock.advance(Duration.ofMinutes(60).minusMillis(1));
        assertThat(guard.start("198.51.100.98", "gpt-5", "", clock.millis()).refusal())
                .isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
        clock.advance(Duration.ofMillis(1));
        assertThat(guard.start("198.51.100.98", "gpt-5", "", clock.millis()).started()).isTrue();
    }
}
