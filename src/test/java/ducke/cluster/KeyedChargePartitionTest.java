package ducke.cluster;

import ducke.core.cost.ChargeJournal;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SpendView;
import ducke.core.cost.TokenUsage;
import ducke.testing.FreePorts;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real partition heal with keyed reports: the minority, without a quorum, journals a report; the
 * majority is sent the same report with the same key meanwhile and charges it; after the halves
 * merge, the minority's replay finds the key on the merged ledger and charges nothing more.
 */
class KeyedChargePartitionTest {

    private static final TokenUsage USAGE = TokenUsage.totals(100_000, 200_000);
    private static final long SEVEN_USD = Money.nanoUsd("7.00");

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::terminate);
    }

    private static HazelcastFactory factory(String cluster, int port, List<String> members) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(members);
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(Duration.seconds(0));
        // two of three: the lone member has no quorum and journals
        f.setMinClusterSize(2);
        f.setMergeFirstRunDelay(Duration.seconds(1));
        f.setMergeNextRunDelay(Duration.seconds(1));
        f.setCallTimeout(Duration.seconds(30));
        return f;
    }

    private static CostGuard guard(ClusterNode node) {
        return new CostGuard(PriceTable.defaults(), CostLimits.defaults(), node.sessionStore(), node.spendStore(),
                new SpendView(), node.breakerBroadcast(), CostObserver.NONE, node.nodeName(), SessionIds::next,
                node.health(), new ChargeJournal(100), CostGuard.newWriter(node.nodeName()));
    }

    @Test
    void aKeyedReportJournaledByTheMinorityAndChargedByTheMajorityCountsOnceAfterTheHeal() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int a1 = FreePorts.next();
        int a2 = FreePorts.next();
        int b = FreePorts.next();
        List<String> all = List.of("127.0.0.1:" + a1, "127.0.0.1:" + a2, "127.0.0.1:" + b);
        ClusterNode majority = Members.start(factory(cluster, a1, all), "majority-1");
        nodes.add(majority);
        nodes.add(Members.start(factory(cluster, a2, all), "majority-2"));
        Poll.until("the majority formed with its quorum", java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(10),
                () -> majority.memberCount() == 2 && majority.quorum() && majority.health().quorum());
        CostGuard onMajority = guard(majority);
        String id = onMajority.start("203.0.113.7", "gpt-5", "", clock.millis()).ledger().sessionId();

        // the other half knows only itself until the majority finds it
        ClusterNode minority = Members.start(factory(cluster, b, List.of("127.0.0.1:" + b)), "minority");
        nodes.add(minority);
        CostGuard onMinority = guard(minority);
        assertThat(minority.health().quorum()).isFalse();
        CostGuard.Usage journaled = onMinority.report(id, "gpt-5", USAGE, "report:k-1", clock.millis());
        assertThat(journaled.journaled()).isTrue();
        CostGuard.Usage charged = onMajority.report(id, "gpt-5", USAGE, "report:k-1", clock.millis());
        assertThat(charged.applied()).isTrue();

        Poll.until("the halves merged and the minority's journal is applied", java.time.Duration.ofSeconds(90),
                java.time.Duration.ofMillis(50), () -> minority.memberCount() == 3 && minority.health().quorum()
                        && onMinority.replayJournal() >= 0 && onMinority.journal().size() == 0);

        SessionLedger l = onMajority.get(id).orElseThrow();
        assertThat(l.costNanoUsd()).as("7.00 once, not 14.00").isEqualTo(SEVEN_USD);
        assertThat(l.chargedResponses()).isEqualTo(1);
        assertThat(onMajority.refreshSpend(clock.millis()).hourlyNanoUsd()).isEqualTo(SEVEN_USD);
        assertThat(onMinority.report(id, "gpt-5", USAGE, "report:k-1", clock.millis()).repeated())
                .as("and the key is known on every node now").isTrue();
    }
}
