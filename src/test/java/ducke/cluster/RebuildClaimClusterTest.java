package ducke.cluster;

import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendRebuild;
import ducke.core.cost.StateRebuild;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Three real members of a new cluster claim the rebuild at once: exactly one wins; a departed claimant is replaced. */
class RebuildClaimClusterTest {

    private static final long NOW = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
    private static final CostLimits LIMITS = CostLimits.defaults();

    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::terminate);
    }

    private static SpendRebuild.Result forty() {
        SpendRebuild.History h = new SpendRebuild.History(
                List.of(new SpendRebuild.ChargeRow("s1", "c1", NOW - 60_000, Money.nanoUsd("40.00"))), List.of(), List.of());
        return SpendRebuild.reduce(h, NOW, LIMITS);
    }

    @Test
    void exactlyOneMemberRebuildsAndTheOthersFindItDone() throws Exception {
        nodes.addAll(Members.start(3));
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<StateRebuild.Store.Claim>> claims = new ArrayList<>();
        for (ClusterNode n : nodes) {
            Callable<StateRebuild.Store.Claim> claim = () -> n.rebuildStore().claim(NOW);
            claims.add(pool.submit(claim));
        }
        List<StateRebuild.Store.Claim> got = new ArrayList<>();
        for (Future<StateRebuild.Store.Claim> f : claims) {
            got.add(f.get());
        }
        pool.shutdown();
        assertThat(got).containsOnlyOnce(StateRebuild.Store.Claim.MINE).containsOnly(StateRebuild.Store.Claim.MINE,
                StateRebuild.Store.Claim.WAITING);

        ClusterNode winner = nodes.get(got.indexOf(StateRebuild.Store.Claim.MINE));
        winner.rebuildStore().install(forty(), NOW, LIMITS);
        winner.rebuildStore().install(forty(), NOW, LIMITS);
        winner.rebuildStore().done(NOW, "rebuilt");

        for (ClusterNode n : nodes) {
            assertThat(n.rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.DONE);
            assertThat(n.rebuildStore().rebuiltAsOfMillis()).isEqualTo(NOW);
        }
        assertThat(nodes.get(0).spendStore().snapshot(NOW, LIMITS).hourlyNanoUsd()).as("installed twice, counted once")
                .isEqualTo(Money.nanoUsd("40.00"));
        assertThat(nodes.get(1).spendStore().clientSnapshot("c1", NOW, LIMITS).hourlyNanoUsd()).isEqualTo(Money.nanoUsd("40.00"));
    }

    @Test
    void aClaimantThatLeftBeforeItWasDoneIsReplaced() throws Exception {
        nodes.addAll(Members.start(3));
        assertThat(nodes.get(0).rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.MINE);
        assertThat(nodes.get(1).rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.WAITING);

        nodes.get(0).stop();
        Poll.until("the others see two members", java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(20),
                () -> nodes.get(1).memberCount() == 2 && nodes.get(1).quorum());

        assertThat(nodes.get(1).rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.MINE);
        assertThat(nodes.get(2).rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.WAITING);
    }

    @Test
    void aGridThatHoldsSpendAlreadyIsNotRebuilt() throws Exception {
        nodes.addAll(Members.start(2));
        nodes.get(0).spendStore().charge(ducke.core.cost.ChargeId.live("w"), Money.nanoUsd("1.00"), NOW, LIMITS);

        assertThat(nodes.get(1).rebuildStore().claim(NOW)).isEqualTo(StateRebuild.Store.Claim.DONE);
        assertThat(nodes.get(0).rebuildStore().rebuiltAsOfMillis()).isZero();
        SpendLedger.Snapshot s = nodes.get(0).spendStore().snapshot(NOW, LIMITS);
        assertThat(s.hourlyNanoUsd()).isEqualTo(Money.nanoUsd("1.00"));
    }
}
