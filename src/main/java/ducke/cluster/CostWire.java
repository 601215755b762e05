package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;
import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeKey;
import ducke.core.cost.ChargeKeys;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.MinuteBuckets;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.Share;
import ducke.core.cost.Holds;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendRow;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Explicit wire forms of the cost values kept in and returned from the grid. */
final class CostWire {

    private CostWire() {
    }

    static void writeLimits(ObjectDataOutput out, CostLimits l) throws IOException {
        out.writeBoolean(l.enforced());
        out.writeLong(l.maxSessionCostNanoUsd());
        out.writeLong(l.maxSessionDurationMillis());
        out.writeInt(l.warningBasisPoints());
        out.writeInt(l.maxConcurrentSessionsPerClient());
        out.writeLong(l.maxHourlyCostNanoUsd());
        out.writeLong(l.hourlyWindowMillis());
        out.writeLong(l.breakerThresholdNanoUsd());
        out.writeLong(l.breakerWindowMillis());
        out.writeLong(l.breakerCooldownMillis());
        out.writeLong(l.maxClientHourlyCostNanoUsd());
    }

    static CostLimits readLimits(ObjectDataInput in) throws IOException {
        return new CostLimits(in.readBoolean(), in.readLong(), in.readLong(), in.readInt(), in.readInt(), in.readLong(),
                in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
    }

    static void writeTokens(ObjectDataOutput out, TokenCounts t) throws IOException {
        for (TokenKind k : TokenKind.values()) {
            out.writeLong(t.get(k));
        }
    }

    static TokenCounts readTokens(ObjectDataInput in) throws IOException {
        return TokenCounts.of(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
    }

    static void writeChargeId(ObjectDataOutput out, ChargeId id) throws IOException {
        out.writeString(id.writer());
        out.writeLong(id.seq());
    }

    static ChargeId readChargeId(ObjectDataInput in) throws IOException {
        return new ChargeId(in.readString(), in.readLong());
    }

    /** A charge key, or none: a flag, then the key and its two digests. */
    static void writeChargeKey(ObjectDataOutput out, ChargeKey key) throws IOException {
        out.writeBoolean(key != null);
        if (key != null) {
            out.writeString(key.value());
            out.writeLong(key.keyHash());
            out.writeLong(key.reportHash());
        }
    }

    static ChargeKey readChargeKey(ObjectDataInput in) throws IOException {
        return in.readBoolean() ? new ChargeKey(in.readString(), in.readLong(), in.readLong()) : null;
    }

    static void writeLedger(ObjectDataOutput out, SessionLedger l) throws IOException {
        writeLedger(out, l, true);
    }

    /**
     * @param withKeys false for a ledger that travels back to a caller (a charge's result): callers
     *                 read costs and ends, never the keys, so up to {@link ChargeKeys#MAX_KEYS} of them
     *                 do not cross the network with every charge. Such a copy is never stored.
     */
    static void writeLedger(ObjectDataOutput out, SessionLedger l, boolean withKeys) throws IOException {
        out.writeBoolean(l != null);
        if (l == null) {
            return;
        }
        out.writeString(l.sessionId());
        out.writeString(l.clientId());
        out.writeString(l.nodeName());
        out.writeString(l.model());
        out.writeString(l.priceVersion());
        out.writeLong(l.startedAtMillis());
        out.writeLong(l.expiresAtMillis());
        out.writeLong(l.maxCostNanoUsd());
        out.writeInt(l.shares().size());
        for (Map.Entry<String, Share> e : l.shares().entrySet()) {
            out.writeString(e.getKey());
            out.writeLong(e.getValue().costNanoUsd());
            writeTokens(out, e.getValue().tokens());
            out.writeInt(e.getValue().charges());
            out.writeLong(e.getValue().lastSeq());
        }
        out.writeBoolean(l.warned());
        out.writeString(l.holder());
        out.writeString(l.endReason() == null ? null : l.endReason().label());
        out.writeLong(l.endedAtMillis());
        out.writeBoolean(l.audited());
        ChargeKeys keys = withKeys ? l.keys() : ChargeKeys.NONE;
        out.writeInt(keys.size());
        for (ChargeKeys.Entry e : keys.entries()) {
            out.writeLong(e.keyHash());
            out.writeLong(e.reportHash());
            out.writeLong(e.atMillis());
            out.writeBoolean(e.spendPending());
        }
    }

    static SessionLedger readLedger(ObjectDataInput in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        String id = in.readString();
        String client = in.readString();
        String node = in.readString();
        String model = in.readString();
        String version = in.readString();
        long started = in.readLong();
        long expires = in.readLong();
        long max = in.readLong();
        int n = in.readInt();
        Map<String, Share> shares = new HashMap<>();
        for (int i = 0; i < n; i++) {
            shares.put(in.readString(), new Share(in.readLong(), readTokens(in), in.readInt(), in.readLong()));
        }
        boolean warned = in.readBoolean();
        String holder = in.readString();
        String reason = in.readString();
        long ended = in.readLong();
        boolean audited = in.readBoolean();
        int k = in.readInt();
        List<ChargeKeys.Entry> keys = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            keys.add(new ChargeKeys.Entry(in.readLong(), in.readLong(), in.readLong(), in.readBoolean()));
        }
        return new SessionLedger(id, client, node, model, version, started, expires, max, shares, warned, holder,
                reason == null ? null : EndReason.fromLabel(reason), ended, audited, ChargeKeys.of(keys));
    }

    static void writeSnapshot(ObjectDataOutput out, SpendLedger.Snapshot s) throws IOException {
        out.writeLong(s.hourlyNanoUsd());
        out.writeLong(s.breakerNanoUsd());
        out.writeBoolean(s.breakerOpen());
        out.writeLong(s.breakerOpenedAtMillis());
        out.writeLong(s.breakerClosesAtMillis());
        out.writeString(s.breakerCause());
        out.writeLong(s.hourlyRetryAfterMillis());
        out.writeLong(s.asOfMillis());
    }

    static SpendLedger.Snapshot readSnapshot(ObjectDataInput in) throws IOException {
        return new SpendLedger.Snapshot(in.readLong(), in.readLong(), in.readBoolean(), in.readLong(), in.readLong(),
                in.readString(), in.readLong(), in.readLong());
    }

    /** Spend by minute: a count, then minute and amount pairs (a writer's spend row, a client's hourly spend). */
    static void writeBuckets(ObjectDataOutput out, MinuteBuckets b) throws IOException {
        out.writeInt(b.count());
        for (int i = 0; i < b.count(); i++) {
            out.writeLong(b.minute(i));
            out.writeLong(b.amount(i));
        }
    }

    static MinuteBuckets readBuckets(ObjectDataInput in) throws IOException {
        int n = in.readInt();
        long[] minutes = new long[n];
        long[] amounts = new long[n];
        for (int i = 0; i < n; i++) {
            minutes[i] = in.readLong();
            amounts[i] = in.readLong();
        }
        return MinuteBuckets.of(minutes, amounts);
    }

    /** A base for the stream serializers of cost values: one type id each, in this service's range. */
    abstract static class Base<T> implements StreamSerializer<T> {
        private final int typeId;

        Base(int typeId) {
            this.typeId = typeId;
        }

        @Override
        public int getTypeId() {
            return typeId;
        }

        @Override
        public final void write(ObjectDataOutput out, T value) throws IOException {
            encode(out, value, WireVersion.write(out));
        }

        @Override
        public final T read(ObjectDataInput in) throws IOException {
            return decode(in, WireVersion.read(in, getClass().getSimpleName()));
        }

        /** The value's fields in wire version {@code version}. */
        abstract void encode(ObjectDataOutput out, T value, int version) throws IOException;

        abstract T decode(ObjectDataInput in, int version) throws IOException;
    }

    static final class LedgerSerializer extends Base<SessionLedger> {
        LedgerSerializer() {
            super(7_311);
        }

        @Override
        void encode(ObjectDataOutput out, SessionLedger l, int version) throws IOException {
            writeLedger(out, l);
        }

        @Override
        SessionLedger decode(ObjectDataInput in, int version) throws IOException {
            return readLedger(in);
        }
    }

    /** Reservations ({@link Holds}): id, amount, expiry each. */
    static void writeHolds(ObjectDataOutput out, Holds holds) throws IOException {
        out.writeInt(holds.byId().size());
        for (Map.Entry<String, Holds.Hold> e : holds.byId().entrySet()) {
            out.writeString(e.getKey());
            out.writeLong(e.getValue().amountNanoUsd());
            out.writeLong(e.getValue().expiresAtMillis());
        }
    }

    static Holds readHolds(ObjectDataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1_000_000) {
            throw new IOException("implausible number of holds: " + n);
        }
        Map<String, Holds.Hold> byId = new HashMap<>();
        for (int i = 0; i < n; i++) {
            byId.put(in.readString(), new Holds.Hold(in.readLong(), in.readLong()));
        }
        return byId.isEmpty() ? Holds.NONE : new Holds(byId);
    }

    static final class SpendSerializer extends Base<SpendLedger> {
        SpendSerializer() {
            super(7_312);
        }

        @Override
        void encode(ObjectDataOutput out, SpendLedger s, int version) throws IOException {
            out.writeInt(s.rows().size());
            for (Map.Entry<String, SpendRow> e : s.rows().entrySet()) {
                SpendRow r = e.getValue();
                out.writeString(e.getKey());
                out.writeLong(r.charges());
                out.writeLong(r.lastSeq());
                writeBuckets(out, r.buckets());
            }
            SpendLedger.Breaker b = s.breaker();
            out.writeBoolean(b.open());
            out.writeLong(b.openedAtMillis());
            out.writeLong(b.closesAtMillis());
            out.writeString(b.cause());
            out.writeLong(b.spendAtOpenNanoUsd());
            out.writeLong(b.closedAtMillis());
            out.writeLong(b.baselineNanoUsd());
            writeHolds(out, s.holds());
        }

        @Override
        SpendLedger decode(ObjectDataInput in, int version) throws IOException {
            int rows = in.readInt();
            Map<String, SpendRow> byWriter = new HashMap<>();
            for (int w = 0; w < rows; w++) {
                String writer = in.readString();
                long charges = in.readLong();
                long lastSeq = in.readLong();
                byWriter.put(writer, new SpendRow(charges, lastSeq, readBuckets(in)));
            }
            SpendLedger.Breaker breaker = new SpendLedger.Breaker(in.readBoolean(), in.readLong(), in.readLong(),
                    in.readString(), in.readLong(), in.readLong(), in.readLong());
            return new SpendLedger(byWriter, breaker, readHolds(in));
        }
    }

    static final class SlotsSerializer extends Base<SessionSlots> {
        SlotsSerializer() {
            super(7_313);
        }

        @Override
        void encode(ObjectDataOutput out, SessionSlots s, int version) throws IOException {
            writeTimes(out, s.lapsesAtMillis());
            writeTimes(out, s.releasedUntilMillis());
        }

        @Override
        SessionSlots decode(ObjectDataInput in, int version) throws IOException {
            return new SessionSlots(readTimes(in), readTimes(in));
        }

        private static void writeTimes(ObjectDataOutput out, Map<String, Long> times) throws IOException {
            out.writeInt(times.size());
            for (Map.Entry<String, Long> e : times.entrySet()) {
                out.writeString(e.getKey());
                out.writeLong(e.getValue());
            }
        }

        private static Map<String, Long> readTimes(ObjectDataInput in) throws IOException {
            int n = in.readInt();
            Map<String, Long> m = new HashMap<>();
            for (int i = 0; i < n; i++) {
                m.put(in.readString(), in.readLong());
            }
            return m;
        }
    }

    static final class ChargeSerializer extends Base<SessionRules.Charge> {
        ChargeSerializer() {
            super(7_314);
        }

        @Override
        void encode(ObjectDataOutput out, SessionRules.Charge c, int version) throws IOException {
            writeLedger(out, c.ledger(), false);
            out.writeBoolean(c.applied());
            out.writeLong(c.callCostNanoUsd());
            out.writeBoolean(c.warningNow());
            out.writeString(c.endedNow() == null ? null : c.endedNow().label());
            out.writeBoolean(c.repeated());
            out.writeString(c.key().name());
        }

        @Override
        SessionRules.Charge decode(ObjectDataInput in, int version) throws IOException {
            SessionLedger l = readLedger(in);
            boolean applied = in.readBoolean();
            long cost = in.readLong();
            boolean warning = in.readBoolean();
            String ended = in.readString();
            return new SessionRules.Charge(l, applied, cost, warning, ended == null ? null : EndReason.fromLabel(ended),
                    in.readBoolean(), ChargeKeys.Seen.valueOf(in.readString()));
        }
    }

    static final class EndedSerializer extends Base<SessionStore.Ended> {
        EndedSerializer() {
            super(7_315);
        }

        @Override
        void encode(ObjectDataOutput out, SessionStore.Ended e, int version) throws IOException {
            writeLedger(out, e.ledger());
            out.writeBoolean(e.endedNow());
        }

        @Override
        SessionStore.Ended decode(ObjectDataInput in, int version) throws IOException {
            return new SessionStore.Ended(readLedger(in), in.readBoolean());
        }
    }

    /** Spend results travel without the ledger itself: callers need only the snapshot. */
    static final class ChargedSerializer extends Base<SpendLedger.Charged> {
        ChargedSerializer() {
            super(7_316);
        }

        @Override
        void encode(ObjectDataOutput out, SpendLedger.Charged c, int version) throws IOException {
            writeSnapshot(out, c.snapshot());
            out.writeBoolean(c.breakerOpenedNow());
        }

        @Override
        SpendLedger.Charged decode(ObjectDataInput in, int version) throws IOException {
            return new SpendLedger.Charged(null, readSnapshot(in), in.readBoolean());
        }
    }

    static final class SnapshotSerializer extends Base<SpendLedger.Snapshot> {
        SnapshotSerializer() {
            super(7_317);
        }

        @Override
        void encode(ObjectDataOutput out, SpendLedger.Snapshot s, int version) throws IOException {
            writeSnapshot(out, s);
        }

        @Override
        SpendLedger.Snapshot decode(ObjectDataInput in, int version) throws IOException {
            return readSnapshot(in);
        }
    }
}
