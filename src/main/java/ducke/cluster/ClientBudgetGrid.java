package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.BudgetWindows;
import ducke.core.cost.ClientBudget;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One client's day and month budgets in the grid: the one entry processor that changes them
 * (deterministic glue around {@link ClientBudget}, with the caller's time, windows and defaults
 * travelling along; {@link Op} says which change) and the wire form of the value. An entry without
 * an override leaves the grid once its month is over and its reservations have lapsed.
 */
final class ClientBudgetGrid {

    static final int APPLY = 70;

    /** What {@link Apply} does; its byte is on the wire. */
    enum Op { RESERVE, CHARGE, RELEASE, RESERVE_TIME, USE_TIME, OVERRIDE, SEED }

    private ClientBudgetGrid() {
    }

    /** Answers: an amount taken (≥ 1) or 0 for a reservation, the amount charged or used otherwise. */
    static final class Apply extends GridProcessor<String, ClientBudget, Long> {
        Op op = Op.RELEASE;
        String holdId = "";
        long amount;
        long min;
        long nowMillis;
        long expiresAtMillis;
        BudgetWindows windows = new BudgetWindows(0, 1, 0, 1);
        BudgetLimits defaults = BudgetLimits.UNLIMITED;
        BudgetOverride override;
        ClientBudget seed;

        Apply() {
        }

        Apply(Op op, String holdId, long min, long amount, long nowMillis, long expiresAtMillis, BudgetWindows windows,
              BudgetLimits defaults) {
            this.op = op;
            this.holdId = holdId == null ? "" : holdId;
            this.min = min;
            this.amount = amount;
            this.nowMillis = nowMillis;
            this.expiresAtMillis = expiresAtMillis;
            this.windows = windows;
            this.defaults = defaults;
        }

        Apply withOverride(BudgetOverride o) {
            this.override = o;
            return this;
        }

        Apply withSeed(ClientBudget s) {
            this.seed = s;
            return this;
        }

        @Override
        public Long process(Map.Entry<String, ClientBudget> e) {
            ClientBudget before = e.getValue() == null ? ClientBudget.EMPTY : e.getValue();
            String hold = holdId.isEmpty() ? null : holdId;
            ClientBudget after = switch (op) {
                case RESERVE -> before.reserveUpTo(holdId, min, amount, nowMillis, expiresAtMillis, windows, defaults);
                case CHARGE -> before.charge(amount, windows, nowMillis, hold);
                case RELEASE -> before.release(holdId, nowMillis);
                case RESERVE_TIME -> before.reserveTime(holdId, min, amount, nowMillis, expiresAtMillis, windows, defaults);
                case USE_TIME -> before.useTime(holdId, amount, windows, nowMillis);
                case OVERRIDE -> before.withOverride(override);
                case SEED -> ClientBudget.merge(before, seed);
            };
            if (after == null) {
                return 0L;
            }
            store(e, before, after);
            return switch (op) {
                case RESERVE -> before.limits(defaults).money() ? Math.max(1, after.held(holdId, nowMillis)) : amount;
                case RESERVE_TIME -> before.limits(defaults).dayMillis() != BudgetLimits.NONE
                        ? Math.max(1, after.heldTime(holdId, nowMillis)) : amount;
                default -> amount;
            };
        }

        private void store(Map.Entry<String, ClientBudget> e, ClientBudget before, ClientBudget after) {
            if (after.equals(before)) {
                return;
            }
            if (after.idle(windows, nowMillis)) {
                e.setValue(null);
                return;
            }
            long idleAt = after.idleAtMillis(windows);
            if (idleAt != Long.MAX_VALUE && e instanceof ExtendedMapEntry<String, ClientBudget> x) {
                x.setValue(after, Math.max(1, idleAt - nowMillis), TimeUnit.MILLISECONDS);
            } else {
                e.setValue(after);
            }
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeByte(op.ordinal());
            out.writeString(holdId);
            out.writeLong(min);
            out.writeLong(amount);
            out.writeLong(nowMillis);
            out.writeLong(expiresAtMillis);
            writeWindows(out, windows);
            writeLimits(out, defaults);
            out.writeBoolean(override != null);
            if (override != null) {
                writeOverride(out, override);
            }
            out.writeBoolean(seed != null);
            if (seed != null) {
                writeBudget(out, seed);
            }
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            int o = in.readByte();
            if (o < 0 || o >= Op.values().length) {
                throw new IOException("unknown budget operation " + o);
            }
            op = Op.values()[o];
            holdId = in.readString();
            min = in.readLong();
            amount = in.readLong();
            nowMillis = in.readLong();
            expiresAtMillis = in.readLong();
            windows = readWindows(in);
            defaults = readLimits(in);
            override = in.readBoolean() ? readOverride(in) : null;
            seed = in.readBoolean() ? readBudget(in) : null;
        }

        @Override
        public int getClassId() {
            return APPLY;
        }
    }

    static final class ClientBudgetSerializer extends CostWire.Base<ClientBudget> {
        ClientBudgetSerializer() {
            super(7_332);
        }

        @Override
        void encode(ObjectDataOutput out, ClientBudget b, int version) throws IOException {
            writeBudget(out, b);
        }

        @Override
        ClientBudget decode(ObjectDataInput in, int version) throws IOException {
            return readBudget(in);
        }
    }

    static void writeBudget(ObjectDataOutput out, ClientBudget b) throws IOException {
        out.writeBoolean(b.override() != null);
        if (b.override() != null) {
            writeOverride(out, b.override());
        }
        out.writeLong(b.dayStartMillis());
        out.writeLong(b.daySpendNanoUsd());
        out.writeLong(b.dayUsedMillis());
        out.writeLong(b.monthStartMillis());
        out.writeLong(b.monthSpendNanoUsd());
        CostWire.writeHolds(out, b.holds());
        CostWire.writeHolds(out, b.timeHolds());
    }

    static ClientBudget readBudget(ObjectDataInput in) throws IOException {
        BudgetOverride o = in.readBoolean() ? readOverride(in) : null;
        return new ClientBudget(o, in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
                CostWire.readHolds(in), CostWire.readHolds(in));
    }

    private static void writeOverride(ObjectDataOutput out, BudgetOverride o) throws IOException {
        out.writeLong(o.dayNanoUsd());
        out.writeLong(o.monthNanoUsd());
        out.writeLong(o.dayMillis());
        out.writeLong(o.updatedAtMillis());
    }

    private static BudgetOverride readOverride(ObjectDataInput in) throws IOException {
        return new BudgetOverride(in.readLong(), in.readLong(), in.readLong(), in.readLong());
    }

    private static void writeWindows(ObjectDataOutput out, BudgetWindows w) throws IOException {
        out.writeLong(w.dayStartMillis());
        out.writeLong(w.dayEndMillis());
        out.writeLong(w.monthStartMillis());
        out.writeLong(w.monthEndMillis());
    }

    private static BudgetWindows readWindows(ObjectDataInput in) throws IOException {
        return new BudgetWindows(in.readLong(), in.readLong(), in.readLong(), in.readLong());
    }

    private static void writeLimits(ObjectDataOutput out, BudgetLimits l) throws IOException {
        out.writeLong(l.dayNanoUsd());
        out.writeLong(l.monthNanoUsd());
        out.writeLong(l.dayMillis());
    }

    private static BudgetLimits readLimits(ObjectDataInput in) throws IOException {
        return new BudgetLimits(in.readLong(), in.readLong(), in.readLong());
    }
}
