package ducke.audit;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cost.StateRebuild;
import ducke.errors.WarnGate;
import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tries {@link StateRebuild} once while the node starts (before its application port opens), then
 * every {@value #INTERVAL_MILLIS} ms until this node may admit sessions, then stops; logs one line with what was rebuilt (or that the cluster had its
 * state already), and failures (no database, no quorum) at most once a minute.
 */
public final class SpendRebuildRunner implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(SpendRebuildRunner.class);
    static final long INTERVAL_MILLIS = 250;

    private final StateRebuild rebuild;
    private final Clock clock;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ducke-spend-rebuild");
        t.setDaemon(true);
        return t;
    });
    private long startedNanos;
    private final WarnGate failures = new WarnGate(60_000);

    /** @param health told when the quorum arrives: the next try runs at once rather than at the next tick */
    public SpendRebuildRunner(StateRebuild rebuild, Clock clock, ClusterHealth health) {
        this.rebuild = rebuild;
        this.clock = clock;
        health.addListener(new ClusterHealth.Listener() {
            @Override
            public void quorumLost() {
            }

            @Override
            public void quorumRegained() {
                try {
                    if (!rebuild.ready()) {
                        scheduler.execute(SpendRebuildRunner.this::attempt);
                    }
                } catch (RejectedExecutionException e) {
                    // done, or stopping: nothing to try
                }
            }
        });
    }

    @Override
    public void start() {
        startedNanos = System.nanoTime();
        // the first failure is logged a minute after the start at the earliest
        failures.shut(TimeUnit.NANOSECONDS.toMillis(startedNanos));
        // once before the application port opens: a node with its quorum at hand (alone, or joining a
        // running cluster) is ready when it starts serving; the others go on trying in the background
        if (!attempt()) {
            scheduler.scheduleWithFixedDelay(this::attempt, INTERVAL_MILLIS, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        scheduler.shutdownNow();
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** One try; true once this node may admit sessions. */
    private boolean attempt() {
        StateRebuild.Attempt a;
        try {
            a = rebuild.attempt(clock.millis(), () -> System.nanoTime() / 1_000_000);
        } catch (RuntimeException e) {
            long now = System.nanoTime();
            if (failures.open(TimeUnit.NANOSECONDS.toMillis(now))) {
                LOG.warn("Spend state not rebuilt yet ({} s since start): {}; this node admits no session until it is",
                        TimeUnit.NANOSECONDS.toSeconds(now - startedNanos), e.toString());
            }
            return false;
        }
        if (!a.ready()) {
            return false;
        }
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        if (a.rebuilt()) {
            LOG.info("Spend state rebuilt from the audit store ({} row(s) read and reduced in {} ms; ready {} ms after start): {}",
                    a.rows(), a.readMillis(), tookMillis, a.summary());
        } else {
            LOG.info("Spend state: the cluster holds it already (ready {} ms after start)", tookMillis);
        }
        scheduler.shutdown();
        return true;
    }
}
