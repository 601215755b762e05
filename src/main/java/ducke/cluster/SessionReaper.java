package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
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
 * ({@code node_lost}), and hands final records to the audit sink until it accepts them. The
 * records stay in the (backed-up) ledger map until then, so a crash loses none of them.
 */
public final class SessionReaper implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(SessionReaper.class);

    /** What one pass did. */
    public record Pass(int active, int endedNow, int audited, boolean sinkFailed) {
    }

    private final HazelcastInstance hz;
    private final IMap<String, SessionLedger> ledgers;
    private final CostGuard guard;
    private final AuditSink sink;
    private final Clock clock;
    private final long retentionMillis;
    private final long intervalMillis;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ducke-session-reaper");
        t.setDaemon(true);
        return t;
    });
    private volatile int localActive;
    private volatile int localPending;
    private volatile long lastSinkWarningMillis;

    SessionReaper(HazelcastInstance hz, CostGuard guard, AuditSink sink, Clock clock, long retentionMillis, long intervalMillis) {
        this.hz = hz;
        this.ledgers = hz.getMap(HazelcastFactory.SESSIONS_MAP);
        this.guard = guard;
        this.sink = sink;
        this.clock = clock;
        this.retentionMillis = retentionMillis;
        this.intervalMillis = intervalMillis;
    }

    /** Active sessions in this node's partitions as of the last pass; summed over nodes, the cluster's. */
    public int localActive() {
        return localActive;
    }

    /** Final records in this node's partitions not yet accepted by the audit sink, as of the last pass. */
    public int localPending() {
        return localPending;
    }

    @Override
    public void start() {
        scheduler.scheduleWithFixedDelay(this::passSafely, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() throws InterruptedException {
        scheduler.shutdown();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
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
        } catch (RuntimeException e) {
            if (hz.getLifecycleService().isRunning()) {
                LOG.warn("Session reaper pass failed; retrying next interval", e);
            }
        }
    }

    /** One pass over the local ledgers. Runs on the reaper thread; public for tests. */
    public synchronized Pass pass() {
        long now = clock.millis();
        boolean breakerOpen = guard.limits().enforced() && guard.refreshSpend(now).breakerOpenAt(now);
        Set<String> members = new HashSet<>();
        for (Member m : hz.getCluster().getMembers()) {
            members.add(m.getUuid().toString());
        }
        Collection<SessionLedger> local = ledgers.getAll(ledgers.localKeySet()).values();
        int active = 0;
        int endedNow = 0;
        List<SessionRecord> pending = new ArrayList<>();
        for (SessionLedger l : local) {
            if (l.active()) {
                EndReason reason = endReason(l, now, breakerOpen, members);
                if (reason == null) {
                    active++;
                } else if (guard.end(l.sessionId(), reason, now).map(e -> e.endedNow()).orElse(false)) {
                    endedNow++;
                }
            } else if (!l.audited()) {
                pending.add(l.record());
            }
        }
        localActive = active;
        localPending = pending.size();
        return new Pass(active, endedNow, pending.isEmpty() ? 0 : handOver(pending, now), false);
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

    private int handOver(List<SessionRecord> records, long now) {
        try {
            sink.write(records);
        } catch (Exception e) {
            if (now - lastSinkWarningMillis > 60_000) {
                lastSinkWarningMillis = now;
                LOG.warn("Audit sink refused {} record(s); they stay in the grid and are offered again", records.size(), e);
            }
            return 0;
        }
        localPending = 0;
        Set<String> ids = new HashSet<>();
        records.forEach(r -> ids.add(r.sessionId()));
        Map<String, Boolean> marked = ledgers.executeOnKeys(ids, new LedgerProcessors.Audited(retentionMillis));
        return (int) marked.values().stream().filter(Boolean.TRUE::equals).count();
    }
}
