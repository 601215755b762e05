package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostLimits;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One client's hourly spend in the grid: the entry processor that charges it (deterministic glue
 * around {@link ClientSpend#charge}, with the caller's time and limits travelling along) and the
 * wire forms. The entry expires once its newest bucket has left the window, so idle clients leave
 * the grid by themselves.
 */
final class ClientSpendGrid {

    static final int CHARGE = 40;
    static final int RESERVE = 41;
    static final int RELEASE = 42;
    static final int SEED = 43;

    private ClientSpendGrid() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case CHARGE -> new Charge();
            case RESERVE -> new Reserve();
            case RELEASE -> new Release();
            case SEED -> new Seed();
            default -> null;
        };
    }

    /**
     * Common fields: an amount (a charge's cost, a reservation's size), the caller's time and
     * limits, the reservation concerned ("" none) and when a new one lapses.
     */
    abstract static class Base<R> extends GridProcessor<String, ClientSpend, R> {
        long amountNanoUsd;
        long nowMillis;
        CostLimits limits;
        String holdId = "";
        long expiresAtMillis;

        Base() {
        }

        Base(long amountNanoUsd, long nowMillis, CostLimits limits, String holdId, long expiresAtMillis) {
            this.amountNanoUsd = amountNanoUsd;
            this.nowMillis = nowMillis;
            this.limits = limits;
            this.holdId = holdId == null ? "" : holdId;
            this.expiresAtMillis = expiresAtMillis;
        }

        static ClientSpend current(Map.Entry<String, ClientSpend> e) {
            return e.getValue() == null ? ClientSpend.EMPTY : e.getValue();
        }

        /** Stores a changed value, to expire once its spend has left the window and its holds lapsed. */
        void store(Map.Entry<String, ClientSpend> e, ClientSpend before, ClientSpend after) {
            if (after.equals(before)) {
                return;
            }
            if (after.isEmpty()) {
                e.setValue(null);
                return;
            }
            long ttl = Math.max(1, after.idleAtMillis(limits) - nowMillis);
            if (e instanceof ExtendedMapEntry<String, ClientSpend> x) {
                x.setValue(after, ttl, TimeUnit.MILLISECONDS);
            } else {
                e.setValue(after);
            }
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeLong(amountNanoUsd);
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
            out.writeString(holdId);
            out.writeLong(expiresAtMillis);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            amountNanoUsd = in.readLong();
            nowMillis = in.readLong();
            limits = CostWire.readLimits(in);
            holdId = in.readString();
            expiresAtMillis = in.readLong();
        }
    }

    /** Adds spend, settling the reservation {@code holdId} when one is named. */
    static final class Charge extends Base<ClientSpend.Snapshot> {
        Charge() {
        }

        Charge(long costNanoUsd, long nowMillis, CostLimits limits) {
            this(costNanoUsd, nowMillis, limits, "");
        }

        Charge(long costNanoUsd, long nowMillis, CostLimits limits, String releaseHoldId) {
            super(costNanoUsd, nowMillis, limits, releaseHoldId, 0);
        }

        @Override
        public ClientSpend.Snapshot process(Map.Entry<String, ClientSpend> e) {
            ClientSpend before = current(e);
            ClientSpend after = before.charge(amountNanoUsd, nowMillis, limits, holdId.isEmpty() ? null : holdId);
            store(e, before, after);
            return after.snapshot(nowMillis, limits);
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }
    }

    /**
     * Takes as much of a reservation ({@code amountNanoUsd} at most, {@code minNanoUsd} at least) as
     * the client's hour can take; answers the amount taken, 0 when refused.
     */
    static final class Reserve extends Base<Long> {
        private long minNanoUsd;

        Reserve() {
        }

        Reserve(String holdId, long minNanoUsd, long amountNanoUsd, long nowMillis, long expiresAtMillis, CostLimits limits) {
            super(amountNanoUsd, nowMillis, limits, holdId, expiresAtMillis);
            this.minNanoUsd = minNanoUsd;
        }

        @Override
        public Long process(Map.Entry<String, ClientSpend> e) {
            ClientSpend before = current(e);
            ClientSpend after = before.reserveUpTo(holdId, minNanoUsd, amountNanoUsd, nowMillis, expiresAtMillis, limits);
            if (after == null) {
                return 0L;
            }
            store(e, before, after);
            return limits.enforced() ? Math.max(1, after.held(holdId, nowMillis)) : amountNanoUsd;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            super.writeFields(out, version);
            out.writeLong(minNanoUsd);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            super.readFields(in, version);
            minNanoUsd = in.readLong();
        }

        @Override
        public int getClassId() {
            return RESERVE;
        }
    }

    static final class Release extends Base<Boolean> {
        Release() {
        }

        Release(String holdId, long nowMillis, CostLimits limits) {
            super(0, nowMillis, limits, holdId, 0);
        }

        @Override
        public Boolean process(Map.Entry<String, ClientSpend> e) {
            if (e.getValue() == null) {
                return Boolean.TRUE;
            }
            ClientSpend before = current(e);
            store(e, before, before.release(holdId, nowMillis));
            return Boolean.TRUE;
        }

        @Override
        public int getClassId() {
            return RELEASE;
        }
    }

    /** Adds a client's spend rebuilt from the audit store ({@link ClientSpend#merge}: installing it twice changes nothing). */
    static final class Seed extends Base<Boolean> {
        private ClientSpend seed = ClientSpend.EMPTY;

        Seed() {
        }

        Seed(ClientSpend seed, long nowMillis, CostLimits limits) {
            super(0, nowMillis, limits, "", 0);
            this.seed = seed;
        }

        @Override
        public Boolean process(Map.Entry<String, ClientSpend> e) {
            ClientSpend before = current(e);
            store(e, before, ClientSpend.merge(before, seed));
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

    static final class ClientSpendSerializer extends CostWire.Base<ClientSpend> {
        ClientSpendSerializer() {
            super(7_318);
        }

        @Override
        void encode(ObjectDataOutput out, ClientSpend s, int version) throws IOException {
            CostWire.writeBuckets(out, s.buckets());
            CostWire.writeHolds(out, s.holds());
        }

        @Override
        ClientSpend decode(ObjectDataInput in, int version) throws IOException {
            return new ClientSpend(CostWire.readBuckets(in), CostWire.readHolds(in));
        }
    }

    static final class ClientSnapshotSerializer extends CostWire.Base<ClientSpend.Snapshot> {
        ClientSnapshotSerializer() {
            super(7_319);
        }

        @Override
        void encode(ObjectDataOutput out, ClientSpend.Snapshot s, int version) throws IOException {
            out.writeLong(s.hourlyNanoUsd());
            out.writeLong(s.retryAfterMillis());
            out.writeLong(s.heldNanoUsd());
        }

        @Override
        ClientSpend.Snapshot decode(ObjectDataInput in, int version) throws IOException {
            return new ClientSpend.Snapshot(in.readLong(), in.readLong(), in.readLong());
        }
    }
}
