package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionStore;
import ducke.core.cost.TokenCounts;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Entry processors on session ledgers: deterministic glue around {@link SessionRules}, with the
 * caller's time and limits travelling along so that backups compute the same value.
 */
final class LedgerProcessors {

    static final int CHARGE = 10;
    static final int END = 11;
    static final int AUDITED = 12;

    private LedgerProcessors() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case CHARGE -> new Charge();
            case END -> new End();
            case AUDITED -> new Audited();
            default -> null;
        };
    }

    static final class Charge extends GridProcessor<String, SessionLedger, SessionRules.Charge> {
        private long costNanoUsd;
        private TokenCounts tokens;
        private long nowMillis;
        private CostLimits limits;

        Charge() {
        }

        Charge(long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits) {
            this.costNanoUsd = costNanoUsd;
            this.tokens = tokens;
            this.nowMillis = nowMillis;
            this.limits = limits;
        }

        @Override
        public SessionRules.Charge process(Map.Entry<String, SessionLedger> entry) {
            SessionRules.Charge c = SessionRules.charge(entry.getValue(), costNanoUsd, tokens, nowMillis, limits);
            if (c.applied()) {
                entry.setValue(c.ledger());
            }
            return c;
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(costNanoUsd);
            CostWire.writeTokens(out, tokens);
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            costNanoUsd = in.readLong();
            tokens = CostWire.readTokens(in);
            nowMillis = in.readLong();
            limits = CostWire.readLimits(in);
        }
    }

    static final class End extends GridProcessor<String, SessionLedger, SessionStore.Ended> {
        private EndReason reason;
        private long nowMillis;

        End() {
        }

        End(EndReason reason, long nowMillis) {
            this.reason = reason;
            this.nowMillis = nowMillis;
        }

        @Override
        public SessionStore.Ended process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger before = entry.getValue();
            if (before == null) {
                return null;
            }
            SessionLedger after = SessionRules.end(before, reason, nowMillis);
            boolean endedNow = after != before;
            if (endedNow) {
                entry.setValue(after);
            }
            return new SessionStore.Ended(after, endedNow);
        }

        @Override
        public int getClassId() {
            return END;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(reason.label());
            out.writeLong(nowMillis);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            reason = EndReason.fromLabel(in.readString());
            nowMillis = in.readLong();
        }
    }

    /** Marks an ended ledger as handed to the audit sink, and lets it expire after the retention. */
    static final class Audited extends GridProcessor<String, SessionLedger, Boolean> {
        private long retentionMillis;

        Audited() {
        }

        Audited(long retentionMillis) {
            this.retentionMillis = retentionMillis;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger l = entry.getValue();
            if (l == null || l.active() || l.audited()) {
                return false;
            }
            if (entry instanceof ExtendedMapEntry<String, SessionLedger> e) {
                e.setValue(l.markedAudited(), retentionMillis, TimeUnit.MILLISECONDS);
            } else {
                entry.setValue(l.markedAudited());
            }
            return true;
        }

        @Override
        public int getClassId() {
            return AUDITED;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(retentionMillis);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            retentionMillis = in.readLong();
        }
    }
}
