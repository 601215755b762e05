package ducke.cluster;

import com.hazelcast.map.IMap;
import ducke.core.cluster.QuorumLostException;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;
import ducke.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real members losing and regaining the quorum: a member left alone by crashes refuses new
 * sessions and journals usage until members join again, then charges it exactly once; members
 * that stop gracefully leave the last one with a quorum.
 */
class PartitionClusterTest {

    private static final TokenUsage USAGE = TokenUsage.totals(10_000, 20_000);
    private static final long USAGE_NANO = Money.nanoUsd("0.70");

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(ClusterNode::terminate);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as(what).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    private static void awaitSafe(ClusterNode node, int members) {
        await(members + " members, partitions backed up",
                () -> node.memberCount() == members && node.hazelcast().getPartitionService().isClusterSafe());
    }

    @Test
    void aMemberLeftAloneByCrashesRefusesSessionsJournalsUsageAndChargesItOnceWhenMembersReturn() throws Exception {
        List<ClusterNode> nodes = Members.start(3);
        started.addAll(nodes);
        CostGrid grid = new CostGrid(nodes, CostLimits.defaults(), clock);
        CostGuard alone = grid.guards.get(0);
        String id = alone.start("203.0.113.1", "gpt-5", "", clock.millis()).ledger().sessionId();
        alone.report(id, null, USAGE, clock.millis());

        // one crash at a time, so that every entry keeps a copy on member 0
        nodes.get(2).terminate();
        awaitSafe(nodes.get(0), 2);
        assertThat(nodes.get(0).health().quorum()).as("two of three are a quorum").isTrue();
        await("the grid's protection follows the membership", () -> nodes.get(0).quorum() && nodes.get(1).quorum());
        nodes.get(1).terminate();
        // the node's quorum watch and the grid's split-brain protection hear of the departure each on its
        // own listener: the grid refuses once the latter has
        await("member 0 notices it is alone", () -> !nodes.get(0).health().quorum() && !nodes.get(0).gridQuorum());

        assertThat(alone.start("203.0.113.2", "gpt-5", "", clock.millis()).refusal())
                .isEqualTo(CostGuard.Refusal.CLUSTER_DEGRADED);
        assertThatThrownBy(() -> alone.get(id)).isInstanceOf(QuorumLostException.class);
        CostGuard.Usage journaled = alone.report(id, null, USAGE, clock.millis());
        assertThat(journaled.journaled()).isTrue();
        assertThat(alone.report(id, null, USAGE, clock.millis()).journaled()).isTrue();
        assertThat(grid.reapers.get(0).pass().skipped()).isTrue();

        ClusterNode back = Members.another(nodes.get(0));
        started.add(back);
        await("the quorum is back", () -> nodes.get(0).quorum());
        await("the journal is applied", () -> grid.reapers.get(0).pass().replayed() == 0 && alone.journal().size() == 0);

        SessionLedger l = alone.get(id).orElseThrow();
        assertThat(l.costNanoUsd()).isEqualTo(3 * USAGE_NANO);
        assertThat(l.chargedResponses()).isEqualTo(3);
        assertThat(alone.refreshSpend(clock.millis()).hourlyNanoUsd()).isEqualTo(3 * USAGE_NANO);
        grid.reapers.get(0).pass();
        assertThat(alone.get(id).orElseThrow().costNanoUsd()).as("applying again changes nothing").isEqualTo(3 * USAGE_NANO);
        assertThat(alone.start("203.0.113.2", "gpt-5", "", clock.millis()).started()).isTrue();
    }

    @Test
    void membersStoppingGracefullyOneByOneLeaveTheLastWithAQuorum() throws Exception {
        List<ClusterNode> nodes = Members.start(3);
        started.addAll(nodes);
        CostGrid grid = new CostGrid(nodes, CostLimits.defaults(), clock);
        String id = grid.guards.get(2).start("203.0.113.3", "gpt-5", "", clock.millis()).ledger().sessionId();

        nodes.get(2).stop();
        nodes.get(1).stop();
        await("member 0 is alone", () -> nodes.get(0).health().members() == 1);

        assertThat(nodes.get(0).health().quorum()).isTrue();
        assertThat(nodes.get(0).health().required()).isEqualTo(1);
        CostGuard last = grid.guards.get(0);
        assertThat(last.report(id, null, USAGE, clock.millis()).applied()).isTrue();
        assertThat(last.end(id, EndReason.API_ENDED, clock.millis()).orElseThrow().endedNow()).isTrue();
        assertThat(last.start("203.0.113.4", "gpt-5", "", clock.millis()).started()).isTrue();
    }

    @Test
    void theGridRefusesCostStateButNotRateBucketsWithoutAQuorum() throws Exception {
        List<ClusterNode> nodes = Members.start(2);
        started.addAll(nodes);
        nodes.get(1).terminate();
        await("member 0 notices it is alone", () -> !nodes.get(0).health().quorum());
        // Hazelcast's split-brain protection hears of the departure on its own listener, a moment
        // after (or before) the node's quorum watch
        await("the grid's split-brain protection sees it too", () -> {
            try {
                nodes.get(0).sessionStore().get("sess_x");
                return false;
            } catch (QuorumLostException refused) {
                return true;
            }
        });
        IMap<String, SessionLedger> ledgers = nodes.get(0).hazelcast().getMap(HazelcastFactory.SESSIONS_MAP);
        assertThatThrownBy(() -> nodes.get(0).sessionStore().get("sess_x")).isInstanceOf(QuorumLostException.class);
        assertThatThrownBy(() -> nodes.get(0).spendStore().snapshot(clock.millis(), CostLimits.defaults()))
                .isInstanceOf(QuorumLostException.class);
        assertThatThrownBy(() -> ledgers.put("sess_x", null)).isInstanceOf(RuntimeException.class);
        assertThat(nodes.get(0).rateLimitStore(5_000)).isNotNull();
        nodes.get(0).hazelcast().getMap(HazelcastFactory.RATE_BUCKETS_MAP).put("k", "v");
    }
}
