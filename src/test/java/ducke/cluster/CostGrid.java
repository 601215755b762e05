package ducke.cluster;

import ducke.core.cost.AuditSink;
import ducke.core.cost.ChargeBuffer;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.ChargeJournal;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.CostObserver;
import ducke.core.cost.PriceTable;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.SpendView;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Cost protection on real members: one guard and one reaper per member, sharing the grid. */
final class CostGrid {

    /** An audit sink double that records what it accepted and can be told to refuse. */
    static final class RecordingSink implements AuditSink {
        final List<SessionRecord> accepted = new ArrayList<>();
        final List<ChargeRecord> charges = new ArrayList<>();
        final AtomicInteger refusalsLeft = new AtomicInteger();

        @Override
        public synchronized void write(List<SessionRecord> records) throws Exception {
            if (refusalsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new Exception("audit store unavailable");
            }
            accepted.addAll(records);
        }

        @Override
        public synchronized void writeCharges(List<ChargeRecord> records) {
            charges.addAll(records);
        }

        synchronized List<SessionRecord> accepted() {
            return List.copyOf(accepted);
        }

        synchronized List<ChargeRecord> charges() {
            return List.copyOf(charges);
        }
    }

    final List<ClusterNode> nodes;
    final List<CostGuard> guards = new ArrayList<>();
    final List<SessionReaper> reapers = new ArrayList<>();
    final RecordingSink sink = new RecordingSink();

    CostGrid(List<ClusterNode> nodes, CostLimits limits, Clock clock) {
        this(nodes, limits, clock, null);
    }

    /** With {@code auditSink} null, every member hands its records to {@link #sink}. */
    CostGrid(List<ClusterNode> nodes, CostLimits limits, Clock clock, AuditSink auditSink) {
        this.nodes = nodes;
        for (ClusterNode node : nodes) {
            CostGuard guard = new CostGuard(PriceTable.defaults(), limits, node.sessionStore(), node.spendStore(),
                    new SpendView(), node.breakerBroadcast(), keepingCharges(node.chargeBuffer()), node.nodeName(), SessionIds::next,
                    node.health(), new ChargeJournal(1000), CostGuard.newWriter(node.nodeName()));
            guards.add(guard);
            reapers.add(node.sessionReaper(guard, auditSink == null ? sink : auditSink, clock, 3_600_000, 1_000));
        }
    }

    /** Hands every charge to the audit's outbox, as the application's audit observer does. */
    static CostObserver keepingCharges(ChargeBuffer buffer) {
        return new CostObserver() {
            @Override
            public void chargeRecorded(ChargeRecord record) {
                buffer.add(record);
            }
        };
    }

    /** One reaper pass on every member that is still running. */
    void passEverywhere() {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).memberCount() > 0) {
                reapers.get(i).pass();
            }
        }
    }
}
