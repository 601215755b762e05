package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cost.ChargeId;
import ducke.core.cost.CostLimits;
import ducke.core.cost.SpendLedger;

import java.io.IOException;
import java.util.Map;

/** Entry processors on the one spend ledger: charge, trip and reset, each one atomic step. */
final class SpendProcessors {

    static final int CHARGE = 20;
    static final int TRIP = 21;
    static final int RESET = 22;

    private SpendProcessors() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case CHARGE -> new Charge();
            case TRIP -> new Trip();
            case RESET -> new Reset();
            default -> null;
        };
    }

    /** Common fields: the caller's time, the limits, and an argument (cost in nano-USD, or none). */
    abstract static class Base<R> extends GridProcessor<String, SpendLedger, R> {
        long nowMillis;
        CostLimits limits;
        long amount;
        String cause = "";
        ChargeId id = ChargeId.live("");

        static SpendLedger current(Map.Entry<String, SpendLedger> e) {
            return e.getValue() == null ? SpendLedger.EMPTY : e.getValue();
        }

        static void store(Map.Entry<String, SpendLedger> e, SpendLedger before, SpendLedger after) {
            if (!after.equals(before)) {
                e.setValue(after);
            }
        }


        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
            out.writeLong(amount);
            out.writeString(cause);
            CostWire.writeChargeId(out, id);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            nowMillis = in.readLong();
            limits = CostWire.readLimits(in);
            amount = in.readLong();
            cause = in.readString();
            id = CostWire.readChargeId(in);
        }

        <T extends Base<R>> T with(long nowMillis, CostLimits limits, long amount, String cause) {
            this.nowMillis = nowMillis;
            this.limits = limits;
            this.amount = amount;
            this.cause = cause;
            @SuppressWarnings("unchecked") T self = (T) this;
            return self;
        }

        /** The writer (and replay sequence) a charge is made as. */
        <T extends Base<R>> T as(ChargeId chargeId) {
            this.id = chargeId;
            @SuppressWarnings("unchecked") T self = (T) this;
            return self;
        }
    }

    static final class Charge extends Base<SpendLedger.Charged> {
        @Override
        public SpendLedger.Charged process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            SpendLedger.Charged c = before.charge(id, amount, nowMillis, limits);
            store(e, before, c.ledger());
            return c;
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }
    }

    static final class Trip extends Base<SpendLedger.Snapshot> {
        @Override
        public SpendLedger.Snapshot process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            SpendLedger after = before.trip(nowMillis, limits, cause);
            store(e, before, after);
            return after.snapshot(nowMillis, limits);
        }

        @Override
        public int getClassId() {
            return TRIP;
        }
    }

    static final class Reset extends Base<SpendLedger.Snapshot> {
        @Override
        public SpendLedger.Snapshot process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            SpendLedger after = before.reset(nowMillis, limits);
            store(e, before, after);
            return after.snapshot(nowMillis, limits);
        }

        @Override
        public int getClassId() {
            return RESET;
        }
    }
}
