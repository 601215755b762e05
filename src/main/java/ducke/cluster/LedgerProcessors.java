package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeKey;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionStore;
import ducke.core.cost.TokenCounts;

import java.io.IOException;
import java.util.HashMap;
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
    static final int CREATE = 13;
    static final int CONFIRM_SPEND = 14;
    static final int RECAP = 15;
    static final int REHOLD = 16;
    static final int SET_CAP = 17;

    private LedgerProcessors() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case CHARGE -> new Charge();
            case END -> new End();
            case AUDITED -> new Audited();
            case CREATE -> new Create();
            case CONFIRM_SPEND -> new ConfirmSpend();
            case RECAP -> new Recap();
            case REHOLD -> new Rehold();
            case SET_CAP -> new SetCap();
            default -> null;
        };
    }

    /** Records that a keyed charge's spend part completed ({@link SessionRules#spendConfirmed}). */
    static final class ConfirmSpend extends GridProcessor<String, SessionLedger, Boolean> {
        private ChargeKey key;

        ConfirmSpend() {
        }

        ConfirmSpend(ChargeKey key) {
            this.key = key;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger before = entry.getValue();
            SessionLedger after = SessionRules.spendConfirmed(before, key);
            if (after != before) {
                entry.setValue(after);
            }
            return after != before;
        }

        @Override
        public int getClassId() {
            return CONFIRM_SPEND;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            CostWire.writeChargeKey(out, key);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            key = CostWire.readChargeKey(in);
        }
    }

    /** Hands a live session held by a member that left to another ({@link SessionRules#reheld}). */
    static final class Rehold extends GridProcessor<String, SessionLedger, Boolean> {
        private String from;
        private String to;

        Rehold() {
        }

        Rehold(String from, String to) {
            this.from = from;
            this.to = to;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger before = entry.getValue();
            SessionLedger after = SessionRules.reheld(before, from, to);
            if (after != before) {
                entry.setValue(after);
            }
            return after != before;
        }

        @Override
        public int getClassId() {
            return REHOLD;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeString(from);
            out.writeString(to);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            from = in.readString();
            to = in.readString();
        }
    }

    /** Sets a live session's cap ({@link SessionRules#capped}); returns the ledger after it, null when unknown. */
    static final class SetCap extends GridProcessor<String, SessionLedger, SessionLedger> {
        private long capNanoUsd;

        SetCap() {
        }

        SetCap(long capNanoUsd) {
            this.capNanoUsd = capNanoUsd;
        }

        @Override
        public SessionLedger process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger before = entry.getValue();
            SessionLedger after = SessionRules.capped(before, capNanoUsd);
            if (after != before) {
                entry.setValue(after);
            }
            return after;
        }

        @Override
        public int getClassId() {
            return SET_CAP;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeLong(capNanoUsd);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            capNanoUsd = in.readLong();
        }
    }

    /** Moves a live session's cap to a new configured cap ({@link SessionRules#recapped}). */
    static final class Recap extends GridProcessor<String, SessionLedger, Boolean> {
        private long oldCapNanoUsd;
        private long newCapNanoUsd;

        Recap() {
        }

        Recap(long oldCapNanoUsd, long newCapNanoUsd) {
            this.oldCapNanoUsd = oldCapNanoUsd;
            this.newCapNanoUsd = newCapNanoUsd;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger before = entry.getValue();
            SessionLedger after = SessionRules.recapped(before, oldCapNanoUsd, newCapNanoUsd);
            if (after != before) {
                entry.setValue(after);
            }
            return after != before;
        }

        @Override
        public int getClassId() {
            return RECAP;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeLong(oldCapNanoUsd);
            out.writeLong(newCapNanoUsd);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            oldCapNanoUsd = in.readLong();
            newCapNanoUsd = in.readLong();
        }
    }

    static final class Charge extends GridProcessor<String, SessionLedger, SessionRules.Charge> {
        private ChargeId id;
        private ChargeKey key;
        private long costNanoUsd;
        private TokenCounts tokens;
        private long nowMillis;
        private CostLimits limits;

        Charge() {
        }

        Charge(ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits) {
            this.id = id;
            this.key = key;
            this.costNanoUsd = costNanoUsd;
            this.tokens = tokens;
            this.nowMillis = nowMillis;
            this.limits = limits;
        }

        /**
         * A charge after the end takes the ledger out of its retention countdown (the ledger stays
         * until its new record is audited, which starts the countdown again).
         */
        @Override
        public SessionRules.Charge process(Map.Entry<String, SessionLedger> entry) {
            SessionRules.Charge c = SessionRules.charge(entry.getValue(), id, key, costNanoUsd, tokens, nowMillis, limits);
            if (c.afterEnd() && entry instanceof ExtendedMapEntry<String, SessionLedger> e) {
                e.setValue(c.ledger(), Long.MAX_VALUE, TimeUnit.MILLISECONDS);
            } else if (c.applied()) {
                entry.setValue(c.ledger());
            }
            return c;
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            CostWire.writeChargeId(out, id);
            CostWire.writeChargeKey(out, key);
            out.writeLong(costNanoUsd);
            CostWire.writeTokens(out, tokens);
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            id = CostWire.readChargeId(in);
            key = CostWire.readChargeKey(in);
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
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeString(reason.label());
            out.writeLong(nowMillis);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            reason = EndReason.fromLabel(in.readString());
            nowMillis = in.readLong();
        }
    }

    /**
     * Marks ended ledgers as handed to the audit sink, and lets them expire after the retention.
     * Only a ledger still at the version that was handed over is marked: one charged meanwhile
     * (more charges) stays unaudited, so its newer record is handed over on the next pass.
     */
    static final class Audited extends GridProcessor<String, SessionLedger, Boolean> {
        private long retentionMillis;
        private Map<String, Integer> handedCharges;

        Audited() {
        }

        /** @param handedCharges per session id, the {@code chargedResponses} of the record the sink took */
        Audited(long retentionMillis, Map<String, Integer> handedCharges) {
            this.retentionMillis = retentionMillis;
            this.handedCharges = Map.copyOf(handedCharges);
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            SessionLedger l = entry.getValue();
            Integer handed = handedCharges.get(entry.getKey());
            if (l == null || l.active() || l.audited() || handed == null || handed != l.chargedResponses()) {
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
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeLong(retentionMillis);
            out.writeInt(handedCharges.size());
            for (Map.Entry<String, Integer> e : handedCharges.entrySet()) {
                out.writeString(e.getKey());
                out.writeInt(e.getValue());
            }
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            retentionMillis = in.readLong();
            int n = in.readInt();
            Map<String, Integer> m = new HashMap<>();
            for (int i = 0; i < n; i++) {
                m.put(in.readString(), in.readInt());
            }
            handedCharges = Map.copyOf(m);
        }
    }

    /** Stores a new ledger unless its id is taken; true when stored. */
    static final class Create extends GridProcessor<String, SessionLedger, Boolean> {
        private SessionLedger ledger;

        Create() {
        }

        Create(SessionLedger ledger) {
            this.ledger = ledger;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionLedger> entry) {
            if (entry.getValue() != null) {
                return false;
            }
            entry.setValue(ledger);
            return true;
        }

        @Override
        public int getClassId() {
            return CREATE;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            CostWire.writeLedger(out, ledger);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            ledger = CostWire.readLedger(in);
        }
    }
}
