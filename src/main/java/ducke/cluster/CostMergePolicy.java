package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SpendLedger;

import java.io.IOException;
import java.util.function.BinaryOperator;

/**
 * How the cost maps merge when a split cluster heals: both copies of an entry go through the
 * core's pure merge function (every writer's contribution kept once, ended beats live, a released
 * slot stays released), instead of Hazelcast's default that keeps one copy and drops the other's
 * charges. Runs on the member that owns the entry, once per entry present on the merging side.
 */
public abstract class CostMergePolicy<V> implements SplitBrainMergePolicy<V, MergingValue<V>, Object>,
        IdentifiedDataSerializable {

    static final int LEDGERS = 50;
    static final int SPEND = 51;
    static final int SLOTS = 52;
    static final int CLIENT_SPEND = 53;
    static final int CLIENT_BUDGETS = 54;

    private final BinaryOperator<V> merge;
    private final int classId;

    CostMergePolicy(BinaryOperator<V> merge, int classId) {
        this.merge = merge;
        this.classId = classId;
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case LEDGERS -> new Ledgers();
            case SPEND -> new Spend();
            case SLOTS -> new Slots();
            case CLIENT_SPEND -> new ClientSpends();
            case CLIENT_BUDGETS -> new ClientBudgets();
            default -> null;
        };
    }

    @Override
    public Object merge(MergingValue<V> merging, MergingValue<V> existing) {
        if (existing == null) {
            return merging.getRawValue();
        }
        return merge.apply(existing.getDeserializedValue(), merging.getDeserializedValue());
    }

    @Override
    public int getFactoryId() {
        return GridSerializers.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return classId;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        WireVersion.write(out);
        // stateless
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        WireVersion.read(in, getClass().getSimpleName());
        // stateless
    }

    /** Session ledgers: {@link SessionLedger#merge}. */
    public static final class Ledgers extends CostMergePolicy<SessionLedger> {
        public Ledgers() {
            super(SessionLedger::merge, LEDGERS);
        }
    }

    /** The spend ledger and breaker: {@link SpendLedger#merge}. */
    public static final class Spend extends CostMergePolicy<SpendLedger> {
        public Spend() {
            super(SpendLedger::merge, SPEND);
        }
    }

    /** A client's hourly spend: {@link ClientSpend#merge}. */
    public static final class ClientSpends extends CostMergePolicy<ClientSpend> {
        public ClientSpends() {
            super(ClientSpend::merge, CLIENT_SPEND);
        }
    }

    /** A client's day and month budgets: {@link ducke.core.cost.ClientBudget#merge}. */
    public static final class ClientBudgets extends CostMergePolicy<ducke.core.cost.ClientBudget> {
        public ClientBudgets() {
            super(ducke.core.cost.ClientBudget::merge, CLIENT_BUDGETS);
        }
    }

    /** Concurrent-session slots: {@link SessionSlots#merge}. */
    public static final class Slots extends CostMergePolicy<SessionSlots> {
        public Slots() {
            super(SessionSlots::merge, SLOTS);
        }
    }
}
