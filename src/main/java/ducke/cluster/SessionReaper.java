package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cluster.QuorumLostException;
import ducke.core.cost.AuditSink;
import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.SessionRules;
import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs on every node over the ledgers whose partitions this node owns, so that together the
 * nodes cover every session exactly once: ends sessions past their duration cap, ends all live
 * sessions while the breaker is open, ends sessions whose holding member left the cluster
 * ({@code node_lost}), and hands final records over to the audit's outbox in the grid
 * ({@link AuditOutbox}), then writes this node's share of the outbox (final records and charge
 * rows) to the audit sink. Records stay in the (backed-up) grid until the sink has taken them, so
 * a crash loses none of them. Live sessions are checkpointed to the audit sink ({@link AuditCheckpoints}).
 *
 * <p>Without a quorum the ledgers are left alone; with it, the guard's journal of charges made
 * without one is applied first. The outbox needs no quorum: whatever it holds is written whenever
 * the database takes it. The last member to stop ends every live session ({@code node_shutdown})
 * if it has a quorum, and every stopping member writes what its share of the outbox holds before
 * it leaves.
 */
public final class SessionReaper implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(SessionReaper.class);

    /**
     * What one pass did: {@code audited} final records handed over to the outbox, {@code sinkFailed}
     * when the sink refused what the outbox holds, {@code skipped} the ledgers without a quorum.
     */
    public record Pass(int active, int endedNow, int audited, boolean sinkFailed, int replayed, boolean skipped) {
        Pass failed(boolean sinkFailed) {
            return new Pass(active, endedNow, audited, sinkFailed, replayed, skipped);
        }
    }

    /** Attempts at writing the last member's final records before giving up on them. */
    private static final int FINAL_ATTEMPTS = 5;

    private final HazelcastInstance hz;
    private final IMap<String, SessionLedger> ledgers;
    private final CostGuard guard;
    private final AuditSink sink;
    private final AuditOutbox outbox;
    private final Clock clock;
    private final long retentionMillis;
    private final long intervalMillis;
    private final AuditCheckpoints checkpoints;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ducke-session-reaper");
        t.setDaemon(true);
        return t;
    });
    private volatile java.util.function.Predicate<SessionLedger> adopter = l -> false;
    private volatile int localActive;
    private volatile int localPending;
    private volatile long lastSinkWarningMillis;

    SessionReaper(HazelcastInstance hz, CostGuard guard, AuditSink sink, AuditOutbox outbox, Clock clock, long retentionMillis,
                  long intervalMillis, long checkpointIntervalMillis) {
        this.hz = hz;
        this.checkpoints = new AuditCheckpoints(hz.getMap(HazelcastFactory.SESSIONS_MAP), sink, checkpointIntervalMillis);
        this.ledgers = hz.getMap(HazelcastFactory.SESSIONS_MAP);
        this.guard = guard;
        this.sink = sink;
        this.outbox = outbox;
        this.clock = clock;
        this.retentionMillis = retentionMillis;
        this.intervalMillis = intervalMillis;
    }

    /** Active sessions in this node's partitions as of the last pass; summed over nodes, the cluster's. */
    public int localActive() {
        return localActive;
    }

    /**
     * Final records and charge rows in this node's partitions not yet accepted by the audit sink,
     * as of the last pass.
     */
    public int localPending() {
        return localPending + outbox.localBacklog();
    }

    @Override
    public void start() {
        scheduler.scheduleWithFixedDelay(this::passSafely, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops the passes; on the last member, ends every live session first (with a quorum). Then
     * writes what this node's share of the outbox holds, quorum or not: the last member tries
     * {@value #FINAL_ATTEMPTS} times, another member once (its share moves to the others anyway).
     */
    @Override
    public void stop() throws InterruptedException {
        scheduler.shutdown();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
        if (!hz.getLifecycleService().isRunning()) {
            return;
        }
        if (hz.getCluster().getMembers().size() == 1) {
            drainAsLastMember();
        } else {
            synchronized (this) {
                writeOutbox(clock.millis());
            }
        }
    }

    private volatile java.util.function.LongConsumer lastStop = now -> { };

    /**
     * What the last member of the cluster charges before it ends the live sessions and writes the
     * final records (the session API's open reservations): after it, the grid is gone.
     */
    public void beforeLastStop(java.util.function.LongConsumer charge) {
        this.lastStop = charge;
    }

    /** Asks for a pass as soon as possible (e.g. the breaker just opened). */
    public void wake() {
        if (!scheduler.isShutdown()) {
            scheduler.execute(this::passSafely);
        }
    }

    private void passSafely() {
        try {
            pass();
        } catch (QuorumLostException e) {
            // the quorum went while passing: the next pass waits for it
        } catch (RuntimeException e) {
            if (hz.getLifecycleService().isRunning()) {
                LOG.warn("Session reaper pass failed; retrying next interval", e);
            }
        }
    }

    /**
     * Waits (at most {@value #SETTLE_WAIT_MILLIS} ms) until this member owns what the members that
     * left held: their backups here are promoted asynchronously, and until then the local key sets
     * the last member drains miss their entries.
     */
    private void awaitPartitionsSettled() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_WAIT_MILLIS);
        while (!hz.getPartitionService().isClusterSafe() && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** How long the last member waits for its partitions to settle before it drains. */
    static final long SETTLE_WAIT_MILLIS = 10_000;

    /** One pass over the local ledgers, then over the local outbox. Runs on the reaper thread; public for tests. */
    /** Asked before a session whose holder left is ended {@code node_lost}: true when this node took it over. */
    void adoptWith(java.util.function.Predicate<SessionLedger> adopter) {
        this.adopter = adopter;
    }

    private boolean adopted(SessionLedger l) {
        try {
            return adopter.test(l);
        } catch (RuntimeException e) {
            LOG.warn("Could not take session {} over: {}", l.sessionId(), e.toString());
            return false;
        }
    }

    public synchronized Pass pass() {
        Pass reaped;
        try {
            reaped = guard.health().quorum() ? reap() : null;
        } catch (QuorumLostException e) {
            reaped = null;
        }
        if (reaped == null) {
            reaped = new Pass(localActive, 0, 0, false, 0, true);
        }
        return reaped.failed(!writeOutbox(clock.millis()));
    }

    private Pass reap() {
        int replayed = guard.replayJournal();
        long now = clock.millis();
        boolean breakerOpen = guard.limits().enforced() && guard.refreshSpend(now).breakerOpenAt(now);
        Set<String> members = new HashSet<>();
        for (Member m : hz.getCluster().getMembers()) {
            members.add(m.getUuid().toString());
        }
        Collection<SessionLedger> local = ledgers.getAll(ledgers.localKeySet()).values();
        List<SessionLedger> live = new ArrayList<>();
        int endedNow = 0;
        List<SessionRecord> pending = new ArrayList<>();
        for (SessionLedger l : local) {
            if (l.active()) {
                EndReason reason = endReason(l, now, breakerOpen, members);
                if (reason == EndReason.NODE_LOST && adopted(l)) {
                    reason = null;
                }
                if (reason == null) {
                    live.add(l);
                } else if (guard.end(l.sessionId(), reason, now).map(e -> e.endedNow()).orElse(false)) {
                    endedNow++;
                }
            } else if (!l.audited()) {
                pending.add(l.record());
            }
        }
        localActive = live.size();
        localPending = pending.size();
        checkpoints.afterPass(live, now);
        return new Pass(live.size(), endedNow, pending.isEmpty() ? 0 : handOver(pending, now), false, replayed, false);
    }

    /** Writes this node's share of the outbox; false when the sink refused it (it stays for the next attempt). */
    private boolean writeOutbox(long now) {
        try {
            outbox.drain(sink, false);
            return true;
        } catch (Exception e) {
            if (hz.getLifecycleService().isRunning() && now - lastSinkWarningMillis > 60_000) {
                lastSinkWarningMillis = now;
                LOG.warn("Audit sink refused what this node's share of the outbox holds ({} record(s) and charge row(s)); "
                        + "they stay in the grid and are offered again", outbox.localBacklog(), e);
            }
            return false;
        }
    }

    /**
     * The last member is stopping, and the grid with it: with a quorum every live session ends
     * ({@code node_shutdown}) and its final record is handed over; then everything the outbox
     * holds is written, or, failing that, logged.
     */
    private synchronized void drainAsLastMember() throws InterruptedException {
        awaitPartitionsSettled();
        int ended = 0;
        if (guard.health().quorum()) {
            guard.replayJournal();
            long now = clock.millis();
            try {
                lastStop.accept(now);
            } catch (RuntimeException e) {
                LOG.error("Last member: charging what the cluster still held failed", e);
            }
            for (SessionLedger l : ledgers.values()) {
                if (l.active() && guard.end(l.sessionId(), EndReason.NODE_SHUTDOWN, now).map(e -> e.endedNow()).orElse(false)) {
                    ended++;
                }
            }
            List<SessionRecord> pending = unaudited();
            if (!pending.isEmpty()) {
                outbox.handOver(pending);
                markAudited(pending);
            }
        } else {
            LOG.error("Last member stopping without a quorum: live sessions cannot be ended here; their audit rows "
                    + "stay open at their last checkpoint and are closed as node_lost when the cluster next starts. "
                    + "Final records and charge rows this member holds are written now");
        }
        for (int attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) {
            try {
                outbox.drain(sink, true);
                if (outbox.localBacklog() == 0) {
                    break;
                }
            } catch (Exception e) {
                LOG.warn("Last member: audit store refused {} final record(s) and charge row(s) (attempt {} of {})",
                        outbox.localBacklog(), attempt, FINAL_ATTEMPTS, e);
                if (attempt < FINAL_ATTEMPTS) {
                    Thread.sleep(1000);
                }
            }
        }
        Collection<SessionRecord> unwritten = outbox.localFinals();
        for (SessionRecord r : unwritten) {
            LOG.error("Last member: final record not written: session {} client {} cost {} USD, {} response(s), {}",
                    r.sessionId(), r.clientId(), ducke.core.cost.Money.usd(r.costNanoUsd()).toPlainString(),
                    r.chargedResponses(), r.endReason().label());
        }
        LOG.info("Last member stopping: ended {} live session(s), {} final record(s) left unwritten", ended, unwritten.size());
    }

    private List<SessionRecord> unaudited() {
        List<SessionRecord> pending = new ArrayList<>();
        for (SessionLedger l : ledgers.values()) {
            if (!l.active() && !l.audited()) {
                pending.add(l.record());
            }
        }
        return pending;
    }

    private void markAudited(List<SessionRecord> records) {
        Map<String, Integer> handed = new HashMap<>();
        records.forEach(r -> handed.put(r.sessionId(), r.chargedResponses()));
        ledgers.executeOnKeys(handed.keySet(), new LedgerProcessors.Audited(retentionMillis, handed));
    }

    private EndReason endReason(SessionLedger l, long now, boolean breakerOpen, Set<String> members) {
        if (SessionRules.expired(l, now, guard.limits())) {
            return EndReason.SESSION_TIMEOUT;
        }
        if (breakerOpen) {
            return EndReason.CIRCUIT_BREAKER;
        }
        if (!l.holder().isEmpty() && !members.contains(l.holder())) {
            return EndReason.NODE_LOST;
        }
        return null;
    }

    /** Hands final records over to the outbox and marks them audited; returns how many were marked. */
    private int handOver(List<SessionRecord> records, long now) {
        try {
            outbox.handOver(records);
        } catch (RuntimeException e) {
            if (now - lastSinkWarningMillis > 60_000) {
                lastSinkWarningMillis = now;
                LOG.warn("The audit's outbox did not take {} final record(s); they stay in their ledgers and are offered "
                        + "again", records.size(), e);
            }
            return 0;
        }
        localPending = 0;
        Map<String, Integer> handed = new HashMap<>();
        records.forEach(r -> handed.put(r.sessionId(), r.chargedResponses()));
        Map<String, Boolean> marked = ledgers.executeOnKeys(handed.keySet(),
                new LedgerProcessors.Audited(retentionMillis, handed));
        return (int) marked.values().stream().filter(Boolean.TRUE::equals).count();
    }
}
