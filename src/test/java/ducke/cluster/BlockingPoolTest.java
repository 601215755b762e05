package ducke.cluster;

import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cost.SessionLedger;
import ducke.core.settings.SettingsStore;
import ducke.core.settings.VersionedDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ducke.testing.Poll;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Grid calls that block run on the node's own bounded pools, never on the common pool. The
 * operator's whole-map reads: when every reader and every queued slot is taken (as a frozen member
 * holds them), a further read is refused at once with {@code cluster_degraded}'s exception instead
 * of queueing, and reads work again once the readers are free. The settings seed, writes and
 * rebuild calls: they answer while every common-pool thread is held (a blocking call there had
 * outlived its caller's deadline and delayed the next node's start past its own).
 */
class BlockingPoolTest {

    private final List<ClusterNode> nodes = new ArrayList<>();
    private final CountDownLatch frozen = new CountDownLatch(1);
    private BlockingPool readers;

    @AfterEach
    void stop() {
        frozen.countDown();
        if (readers != null) {
            readers.close();
        }
        nodes.forEach(ClusterNode::terminate);
    }

    @Test
    void busyReadersRefuseTheNextReadAtOnceAndFreeReadersServeAgain() throws Exception {
        nodes.addAll(Members.start(1));
        readers = BlockingPool.operatorReads("test");
        GridActivity activity = new GridActivity(nodes.get(0).hazelcast(), new GridCalls(60_000, BlockingPool.gridCalls("test")),
                readers);
        assertThat(hold(readers, BlockingPool.OPERATOR_READ_THREADS + BlockingPool.OPERATOR_READ_QUEUE,
                BlockingPool.OPERATOR_READ_THREADS)).as("every reader is held").isTrue();
        assertThat(readers.threads()).isEqualTo(BlockingPool.OPERATOR_READ_THREADS);

        // refused by the pool, not after the 60 s deadline of this test's grid calls
        assertThatThrownBy(activity::ledgers).isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("every operator reader is still waiting for the grid");
        assertThatThrownBy(activity::pausedSessions).isInstanceOf(ClusterUnavailableException.class);

        frozen.countDown();
        AtomicReference<Collection<SessionLedger>> read = new AtomicReference<>();
        Poll.until("a free reader", System.currentTimeMillis() + 10_000, () -> {
            try {
                read.set(activity.ledgers());
                return true;
            } catch (ClusterUnavailableException e) {
                return false;
            }
        });
        assertThat(read.get()).isEmpty();
        assertThat(activity.calls()).isEmpty();
    }

    @Test
    void theNodesReadersEndWithIt() throws Exception {
        nodes.addAll(Members.start(1));
        ClusterNode node = nodes.get(0);
        Set<Thread> before = readerThreads();
        assertThat(node.activity().ledgers()).isEmpty();
        Set<Thread> ours = new HashSet<>(readerThreads());
        ours.removeAll(before);
        assertThat(ours).as("the read ran on a reader of the node's own").isNotEmpty()
                .allMatch(t -> t.getName().startsWith("ducke-operator-read-" + node.nodeName() + "-") && t.isDaemon());
        node.stop();
        Poll.until("the node's readers ended", System.currentTimeMillis() + 10_000, () -> ours.stream().noneMatch(Thread::isAlive));
    }

    @Test
    void settingsAndRebuildCallsAnswerWhileEveryCommonPoolThreadIsHeld() throws Exception {
        nodes.addAll(Members.start(1));
        ClusterNode node = nodes.get(0);
        Set<Thread> before = threads("ducke-grid-call-");
        int common = ForkJoinPool.getCommonPoolParallelism();
        assertThat(hold(ForkJoinPool.commonPool(), common, common)).as("every common-pool thread is held").isTrue();

        SettingsStore store = node.settingsStore();
        VersionedDocument first = new VersionedDocument(1, "{\"a\":1}");
        assertThat(store.seed(first)).isSameAs(first);
        assertThat(store.seed(new VersionedDocument(1, "{\"a\":2}")).json()).isEqualTo(first.json());
        assertThat(store.replace(first, new VersionedDocument(2, "{\"a\":3}"))).isTrue();
        assertThat(store.current().version()).isEqualTo(2);
        assertThat(node.rebuildStore().claim(0)).isNotNull();

        Set<Thread> ours = new HashSet<>(threads("ducke-grid-call-"));
        ours.removeAll(before);
        assertThat(ours).as("the calls ran on the node's own threads").isNotEmpty()
                .allMatch(t -> t.getName().startsWith("ducke-grid-call-" + node.nodeName() + "-") && t.isDaemon());
        node.stop();
        Poll.until("the node's grid-call threads ended", System.currentTimeMillis() + 10_000,
                () -> ours.stream().noneMatch(Thread::isAlive));
    }

    /** Submits {@code tasks} that wait until the test ends; true once {@code running} of them run. */
    private boolean hold(java.util.concurrent.Executor pool, int tasks, int running) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(running);
        for (int i = 0; i < tasks; i++) {
            pool.execute(() -> {
                holding.countDown();
                try {
                    frozen.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        return holding.await(10, TimeUnit.SECONDS);
    }

    private static Set<Thread> readerThreads() {
        return threads("ducke-operator-read-");
    }

    private static Set<Thread> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .filter(t -> t.getName().startsWith(prefix)).collect(Collectors.toSet());
    }
}
