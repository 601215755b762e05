package ducke.cluster;

import ducke.core.cost.ChargeJournal;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SpendView;
import ducke.core.cost.TokenUsage;
import ducke.journal.JournalFile;
import ducke.testing.FreePorts;
import ducke.testing.MutableClock;
import ducke.testing.Poll;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A long partition: the node that relayed a session is cut off and journals its charges, then
 * restarts; meanwhile the rest of the cluster ended the session and its ledger expired. The
 * money was spent all the same: the journal's entry still counts in the cluster's spend, the
 * client's spend, and the audit.
 */
class JournalExpiredLedgerClusterTest {

    private static final TokenUsage USAGE = TokenUsage.totals(10_000, 20_000);
    private static final long USAGE_NANO = Money.nanoUsd("0.70");
    private static final String CLIENT = "203.0.113.9";

    private final MutableClock clock = MutableClock.at("2026-11-27T10:00:00Z");
    private final List<ClusterNode> started = new ArrayList<>();
    private final List<JournalFile> files = new ArrayList<>();

    @TempDir
    Path data;

    /** What the audit and the metrics hear of the journal. */
    private static final class Heard implements CostObserver {
        final List<String> outcomes = new CopyOnWriteArrayList<>();
        final List<ChargeRecord> records = new CopyOnWriteArrayList<>();

        @Override
        public void journal(String outcome) {
            outcomes.add(outcome);
        }

        @Override
        public void chargeRecorded(ChargeRecord record) {
            records.add(record);
        }

    }

    @AfterEach
    void stop() throws Exception {
        started.forEach(ClusterNode::terminate);
        for (JournalFile f : files) {
            f.close();
        }
    }

    private static HazelcastFactory member(String cluster, int port, List<String> list) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(list);
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(Duration.seconds(0));
        f.setMinClusterSize(2);
        return f;
    }

    /** One process of node A: its grid member and its guard, journaling to the data directory. */
    private CostGuard process(ClusterNode node, Heard heard) throws Exception {
        JournalFile file = JournalFile.open(data);
        files.add(file);
        return new CostGuard(PriceTable.defaults(), CostLimits.defaults(), node.sessionStore(), node.spendStore(),
                new SpendView(), node.breakerBroadcast(), heard, node.nodeName(), SessionIds::next, node.health(),
                new ChargeJournal(100, file.restored(), file), CostGuard.newWriter(node.nodeName()));
    }

    /**
     * The client's hourly spend, read once the new member's own split-brain protection has caught up
     * with its quorum watch (for a moment after joining, keys it owns may still be refused).
     */
    private static long clientSpend(ClusterNode node, long now) throws Exception {
        long[] spent = {-1};
        Poll.until("the client's spend can be read", java.time.Duration.ofSeconds(30), java.time.Duration.ofMillis(20),
                () -> "", () -> {
                    try {
                        spent[0] = node.spendStore().clientSnapshot(CLIENT, now, CostLimits.defaults()).hourlyNanoUsd();
                        return true;
                    } catch (ducke.core.cluster.QuorumLostException notYet) {
                        return false;
                    }
                });
        return spent[0];
    }

    @Test
    void aChargeWhoseLedgerExpiredDuringThePartitionCountsInSpendClientSpendAndAuditAfterARestart() throws Exception {
        List<ClusterNode> majority = Members.start(2);
        started.addAll(majority);
        CostGrid grid = new CostGrid(majority, CostLimits.defaults(), clock);
        String cluster = Members.factory(majority.get(0)).getClusterName();
        SessionLedger session = grid.guards.get(0).start(CLIENT, "gpt-5", "node-a", clock.millis()).ledger();

        // node A relays the session, and is cut off: it lists itself and a member that never answers
        int cutPort = FreePorts.next();
        ClusterNode cut = Members.start(member(cluster, cutPort, List.of("127.0.0.1:" + cutPort, "127.0.0.1:" + FreePorts.next())),
                "node-a");
        started.add(cut);
        Heard first = new Heard();
        CostGuard before = process(cut, first);
        assertThat(cut.health().quorum()).isFalse();
        assertThat(before.report(session, null, USAGE, clock.millis()).journaled()).isTrue();
        ChargeJournal.Entry journaled = before.journal().oldest();
        cut.terminate();
        files.remove(0).close();

        // the rest of the cluster ended the session long ago; its ledger is gone
        majority.get(0).hazelcast().getMap(HazelcastFactory.SESSIONS_MAP).delete(session.sessionId());
        assertThat(grid.guards.get(0).get(session.sessionId())).isEmpty();

        // node A's next process reaches the cluster
        int nextPort = FreePorts.next();
        List<String> all = new ArrayList<>(Members.factory(majority.get(0)).getMembers());
        all.add("127.0.0.1:" + nextPort);
        ClusterNode next = Members.start(member(cluster, nextPort, all), "node-a");
        started.add(next);
        Heard heard = new Heard();
        CostGuard after = process(next, heard);
        assertThat(after.journal().size()).isEqualTo(1);
        Poll.until("the journal of the first process is applied", java.time.Duration.ofSeconds(60),
                java.time.Duration.ofMillis(20), () -> "outcomes " + heard.outcomes,
                () -> next.health().quorum() && after.replayJournal() >= 0 && after.journal().size() == 0);

        long now = clock.millis();
        assertThat(after.refreshSpend(now).hourlyNanoUsd()).as("the cluster's hourly spend").isEqualTo(USAGE_NANO);
        assertThat(clientSpend(next, now)).as("the client's hourly spend").isEqualTo(USAGE_NANO);
        assertThat(heard.outcomes).containsExactly("applied_orphan");
        assertThat(heard.records).singleElement().satisfies(r -> {
            assertThat(r.sessionId()).isEqualTo(session.sessionId());
            assertThat(r.chargeKey()).isEqualTo("journal:" + journaled.id().writer() + "#" + journaled.id().seq());
            assertThat(r.clientId()).isEqualTo(CLIENT);
            assertThat(r.model()).isEqualTo("gpt-5");
            assertThat(r.costNanoUsd()).isEqualTo(USAGE_NANO);
        });
        assertThat(journaled.id().writer()).as("applied as the writer of the first process")
                .isNotEqualTo(after.writer());
        assertThat(after.replayJournal()).isZero();
        assertThat(after.refreshSpend(now).hourlyNanoUsd()).isEqualTo(USAGE_NANO);
    }
}
