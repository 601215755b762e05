package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.ratelimit.Bandwidth;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LeaseReturn;
import ducke.core.ratelimit.LimitPolicy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Compact wire forms of everything this service puts on the grid. No Java serialization. */
final class GridSerializers implements DataSerializableFactory {

    static final int FACTORY_ID = 7_301;
    static final int CONSUME = 1;
    static final int DELETE = 2;
    static final int FORGET_DENIALS = 3;
    static final int DEPARTURE = 4;
    static final int GIVE_BACK = 5;

    @Override
    public IdentifiedDataSerializable create(int typeId) {
        return switch (typeId) {
            case CONSUME -> new ConsumeProcessor();
            case DELETE -> new DeleteProcessor();
            case FORGET_DENIALS -> new ForgetDenialsTask();
            case DEPARTURE -> new DepartureTask();
            case GIVE_BACK -> new GiveBackProcessor();
            case LedgerProcessors.CHARGE, LedgerProcessors.END, LedgerProcessors.AUDITED, LedgerProcessors.CREATE,
                    LedgerProcessors.CONFIRM_SPEND, LedgerProcessors.RECAP, LedgerProcessors.REHOLD, LedgerProcessors.SET_CAP ->
                    LedgerProcessors.create(typeId);
            case SpendProcessors.CHARGE, SpendProcessors.TRIP, SpendProcessors.RESET, SpendProcessors.RESERVE,
                    SpendProcessors.RELEASE, SpendProcessors.SEED -> SpendProcessors.create(typeId);
            case SlotProcessors.ACQUIRE, SlotProcessors.RELEASE -> SlotProcessors.create(typeId);
            case ClientSpendGrid.CHARGE, ClientSpendGrid.RESERVE, ClientSpendGrid.RELEASE, ClientSpendGrid.SEED ->
                    ClientSpendGrid.create(typeId);
            case GridReportAnswers.PUT_IF_ABSENT -> new GridReportAnswers.PutIfAbsent();
            case ClientBudgetGrid.APPLY -> new ClientBudgetGrid.Apply();
            case CostMergePolicy.LEDGERS, CostMergePolicy.SPEND, CostMergePolicy.SLOTS, CostMergePolicy.CLIENT_SPEND,
                    CostMergePolicy.CLIENT_BUDGETS ->
                    CostMergePolicy.create(typeId);
            default -> null;
        };
    }

    static void writePolicy(ObjectDataOutput out, LimitPolicy policy) throws IOException {
        out.writeInt(policy.size());
        for (Bandwidth b : policy.bandwidths()) {
            writeBandwidth(out, b);
        }
    }

    static LimitPolicy readPolicy(ObjectDataInput in) throws IOException {
        int n = in.readInt();
        List<Bandwidth> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(readBandwidth(in));
        }
        return new LimitPolicy(list);
    }

    static void writeBandwidth(ObjectDataOutput out, Bandwidth b) throws IOException {
        out.writeLong(b.capacity());
        out.writeLong(b.periodMillis());
    }

    static Bandwidth readBandwidth(ObjectDataInput in) throws IOException {
        return new Bandwidth(in.readLong(), in.readLong());
    }

    static void writeLeaseReturn(ObjectDataOutput out, LeaseReturn r) throws IOException {
        out.writeLong(r.generation());
        out.writeLong(r.leased());
        out.writeLong(r.unused());
    }

    static LeaseReturn readLeaseReturn(ObjectDataInput in) throws IOException {
        return new LeaseReturn(in.readLong(), in.readLong(), in.readLong());
    }

    static final class BucketStateSerializer extends CostWire.Base<BucketState> {
        BucketStateSerializer() {
            super(7_302);
        }

        @Override
        void encode(ObjectDataOutput out, BucketState s, int version) throws IOException {
            out.writeLong(s.lastRefillMillis());
            out.writeInt(s.size());
            for (int i = 0; i < s.size(); i++) {
                out.writeLong(s.units(i));
            }
            out.writeLong(s.leasedTokens());
            out.writeLong(s.leaseUntilMillis());
            out.writeLong(s.leaseGeneration());
        }

        @Override
        BucketState decode(ObjectDataInput in, int version) throws IOException {
            long last = in.readLong();
            long[] units = new long[in.readInt()];
            for (int i = 0; i < units.length; i++) {
                units[i] = in.readLong();
            }
            return new BucketState(units, last, in.readLong(), in.readLong(), in.readLong());
        }
    }

    /** Decisions travel back from the partition owner without their bucket state. */
    static final class DecisionSerializer extends CostWire.Base<Decision> {
        DecisionSerializer() {
            super(7_303);
        }

        @Override
        void encode(ObjectDataOutput out, Decision d, int version) throws IOException {
            out.writeBoolean(d.allowed());
            out.writeLong(d.limit());
            out.writeLong(d.windowSeconds());
            out.writeLong(d.remaining());
            out.writeLong(d.resetMillis());
            out.writeLong(d.retryAfterMillis());
            writeBandwidth(out, d.limiting());
            out.writeLong(d.entryTtlMillis());
            out.writeLong(d.granted());
            out.writeLong(d.leaseGeneration());
        }

        @Override
        Decision decode(ObjectDataInput in, int version) throws IOException {
            return new Decision(in.readBoolean(), null, in.readLong(), in.readLong(), in.readLong(),
                    in.readLong(), in.readLong(), readBandwidth(in), in.readLong(), in.readLong(), in.readLong());
        }
    }
}
