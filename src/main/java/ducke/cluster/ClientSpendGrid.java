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

    private ClientSpendGrid() {
    }

    static IdentifiedDataSerializable create(int id) {
        return id == CHARGE ? new Charge() : null;
    }

    static final class Charge extends GridProcessor<String, ClientSpend, ClientSpend.Snapshot> {
        private long costNanoUsd;
        private long nowMillis;
        private CostLimits limits;

        Charge() {
        }

        Charge(long costNanoUsd, long nowMillis, CostLimits limits) {
            this.costNanoUsd = costNanoUsd;
            this.nowMillis = nowMillis;
            this.limits = limits;
        }

        @Override
        public ClientSpend.Snapshot process(Map.Entry<String, ClientSpend> e) {
            ClientSpend before = e.getValue() == null ? ClientSpend.EMPTY : e.getValue();
            ClientSpend after = before.charge(costNanoUsd, nowMillis, limits);
            if (!after.equals(before)) {
                long ttl = Math.max(1, after.idleAtMillis(limits) - nowMillis);
                if (e instanceof ExtendedMapEntry<String, ClientSpend> x) {
                    x.setValue(after, ttl, TimeUnit.MILLISECONDS);
                } else {
                    e.setValue(after);
                }
            }
            return after.snapshot(nowMillis, limits);
        }

        @Override
        public int getClassId() {
            return CHARGE;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(costNanoUsd);
            out.writeLong(nowMillis);
            CostWire.writeLimits(out, limits);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            costNanoUsd = in.readLong();
            nowMillis = in.readLong();
            limits = CostWire.readLimits(in);
        }
    }

    static final class ClientSpendSerializer extends CostWire.Base<ClientSpend> {
        ClientSpendSerializer() {
            super(7_318);
        }

        @Override
        public void write(ObjectDataOutput out, ClientSpend s) throws IOException {
            CostWire.writeBuckets(out, s.buckets());
        }

        @Override
        public ClientSpend read(ObjectDataInput in) throws IOException {
            return new ClientSpend(CostWire.readBuckets(in));
        }
    }

    static final class ClientSnapshotSerializer extends CostWire.Base<ClientSpend.Snapshot> {
        ClientSnapshotSerializer() {
            super(7_319);
        }

        @Override
        public void write(ObjectDataOutput out, ClientSpend.Snapshot s) throws IOException {
            out.writeLong(s.hourlyNanoUsd());
            out.writeLong(s.retryAfterMillis());
        }

        @Override
        public ClientSpend.Snapshot read(ObjectDataInput in) throws IOException {
            return new ClientSpend.Snapshot(in.readLong(), in.readLong());
        }
    }
}
