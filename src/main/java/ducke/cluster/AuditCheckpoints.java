package ducke.cluster;

import com.hazelcast.map.IMap;
import ducke.core.cost.AuditSink;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.errors.WarnGate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The audit trail's view of live sessions, driven by the reaper: every {@code intervalMillis} the
 * live sessions of this node's partitions are written as open rows with their running cost, and
 * once per start, with a quorum, open rows of sessions the cluster no longer holds (left by a
 * crashed cluster) are closed as their last checkpoint says ({@code node_lost}). A crash thus loses
 * at most one interval of charges from the audit trail. Runs on the reaper thread.
 */
final class AuditCheckpoints {

    private static final Logger LOG = LoggerFactory.getLogger(AuditCheckpoints.class);

    private final IMap<String, SessionLedger> ledgers;
    private final AuditSink sink;
    private final long intervalMillis;
    private Long lastMillis;
    private boolean orphansClosed;
    private final WarnGate warnings = new WarnGate(60_000);

    AuditCheckpoints(IMap<String, SessionLedger> ledgers, AuditSink sink, long intervalMillis) {
        this.ledgers = ledgers;
        this.sink = sink;
        this.intervalMillis = intervalMillis;
    }

    /** After a reaper pass: {@code live} are the active sessions of this node's partitions. */
    void afterPass(List<SessionLedger> live, long nowMillis) {
        if (!orphansClosed) {
            orphansClosed = closeOrphans(nowMillis);
        }
        if (intervalMillis <= 0 || lastMillis != null && nowMillis - lastMillis < intervalMillis) {
            return;
        }
        List<SessionRecord> open = new ArrayList<>(live.size());
        live.forEach(l -> open.add(l.checkpoint(nowMillis)));
        try {
            if (!open.isEmpty()) {
                sink.checkpoint(open);
            }
            lastMillis = nowMillis;
        } catch (Exception e) {
            warn(nowMillis, "Could not checkpoint " + open.size() + " live session(s); trying again", e);
        }
    }

    /** Closes open rows whose sessions no ledger holds; true when done (or nothing to do). */
    private boolean closeOrphans(long nowMillis) {
        try {
            int closed = 0;
            List<String> open;
            Set<String> seen = new HashSet<>();
            while (!(open = sink.openSessions()).isEmpty() && seen.addAll(open)) {
                Set<String> held = ledgers.getAll(new HashSet<>(open)).keySet();
                List<String> lost = open.stream().filter(id -> !held.contains(id)).toList();
                closed += sink.closeLost(lost);
                if (lost.isEmpty()) {
                    break;
                }
            }
            if (closed > 0) {
                LOG.warn("Closed {} open audit row(s) of sessions no cluster holds any more: recorded as node_lost with "
                        + "their last checkpoint", closed);
            }
            return true;
        } catch (Exception e) {
            warn(nowMillis, "Could not close audit rows left open by a lost cluster; trying again", e);
            return false;
        }
    }

    private void warn(long nowMillis, String message, Exception e) {
        if (warnings.open(nowMillis)) {
            LOG.warn(message, e);
        }
    }
}
