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
    static final int RESERVE = 23;
    static final int RELEASE = 24;
    static final int SEED = 25;

    /** {@link Reserve}'s answers other than the amount taken. */
    static final long REFUSED = 0;
    static final long REFUSED_BREAKER_OPENED = -1;

    private SpendProcessors() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case CHARGE -> new Charge();
            case TRIP -> new Trip();
            case RESET -> new Reset();
            case RESERVE -> new Reserve();
            case RELEASE -> new Release();
            case SEED -> new Seed();
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
        /** A reservation's id: the one to take, to give back, or ("" none) to settle with a charge. */
        String holdId = "";
        long expiresAtMillis;
        /** A reservation's least acceptable amount ({@code amount} is the most). */
        long minAmount;

        static SpendLedger current(Map.Entry<String, SpendLedger> e) {
            return e.getValue() == null ? SpendLedger.EMPTY : e.getValue();
        }

        static void store(Map.Entry<String, SpendLedger> e, SpendLedger before, SpendLedger after) {
            if (!after.equals(before)) {
                e.setValue(after);
            }
        }


        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
            out.writeLong(amount);
            out.writeString(cause);
            CostWire.writeChargeId(out, id);
            out.writeString(holdId);
            out.writeLong(expiresAtMillis);
            out.writeLong(minAmount);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            nowMillis = in.readLong();
            limits = CostWire.readLimits(in);
            amount = in.readLong();
            cause = in.readString();
            id = CostWire.readChargeId(in);
            holdId = in.readString();
            expiresAtMillis = in.readLong();
            minAmount = in.readLong();
        }

        <T extends Base<R>> T with(long nowMillis, CostLimits limits, long amount, String cause) {
            this.nowMillis = nowMillis;
            this.limits = limits;
            this.amount = amount;
            this.cause = cause;
            @SuppressWarnings("unchecked") T self = (T) this;
            return self;
        }

        /** The reservation concerned, and (for a new one) when it lapses. */
        <T extends Base<R>> T hold(String id, long expiresAt) {
            this.holdId = id == null ? "" : id;
            this.expiresAtMillis = expiresAt;
            @SuppressWarnings("unchecked") T self = (T) this;
            return self;
        }

        /** The least a reservation may take. */
        <T extends Base<R>> T atLeast(long min) {
            this.minAmount = min;
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
            SpendLedger.Charged c = before.charge(id, amount, nowMillis, limits, holdId.isEmpty() ? null : holdId);
            store(e, before, c.ledger());
            return c;
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }
    }

    /**
     * Takes as much of a reservation as the breaker's window can take, at least {@code minAmount};
     * answers the amount taken, {@link #REFUSED} or {@link #REFUSED_BREAKER_OPENED}.
     */
    static final class Reserve extends Base<Long> {
        @Override
        public Long process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            SpendLedger.Reserved r = before.reserveUpTo(holdId, minAmount, amount, nowMillis, expiresAtMillis, limits);
            store(e, before, r.ledger());
            return r.ok() ? Math.max(1, r.amountNanoUsd()) : r.breakerOpenedNow() ? REFUSED_BREAKER_OPENED : REFUSED;
        }

        @Override
        public int getClassId() {
            return RESERVE;
        }
    }

    static final class Release extends Base<Boolean> {
        @Override
        public Boolean process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            SpendLedger after = before.release(holdId, nowMillis, limits);
            store(e, before, after);
            return Boolean.TRUE;
        }

        @Override
        public int getClassId() {
            return RELEASE;
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

    /**
     * Adds a ledger rebuilt from the audit store to the grid's ({@link SpendLedger#merge}: its own
     * writer's row, the breaker as last changed), so that installing it twice changes nothing.
     */
    static final class Seed extends Base<Boolean> {
        private SpendLedger seed = SpendLedger.EMPTY;

        Seed() {
        }

        Seed(SpendLedger seed) {
            this.seed = seed;
        }

        @Override
        public Boolean process(Map.Entry<String, SpendLedger> e) {
            SpendLedger before = current(e);
            store(e, before, SpendLedger.merge(before, seed).normalise(nowMillis, limits));
            return Boolean.TRUE;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            super.writeFields(out, version);
            out.writeObject(seed);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            super.readFields(in, version);
            seed = in.readObject();
        }

        @Override
        public int getClassId() {
            return SEED;
        }
    }
}
