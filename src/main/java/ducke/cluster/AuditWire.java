package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionRecord;

import java.io.IOException;

/** Explicit wire forms of the records the audit's outbox keeps in the grid ({@link AuditOutbox}). */
final class AuditWire {

    private AuditWire() {
    }

    static final class SessionRecordSerializer extends CostWire.Base<SessionRecord> {
        SessionRecordSerializer() {
            super(7_330);
        }

        @Override
        void encode(ObjectDataOutput out, SessionRecord r, int version) throws IOException {
            out.writeString(r.sessionId());
            out.writeString(r.clientId());
            out.writeString(r.nodeName());
            out.writeString(r.model());
            out.writeLong(r.startedAtMillis());
            out.writeLong(r.endedAtMillis());
            out.writeString(r.endReason().label());
            CostWire.writeTokens(out, r.tokens());
            out.writeInt(r.chargedResponses());
            out.writeLong(r.costNanoUsd());
            out.writeString(r.priceVersion());
        }

        @Override
        SessionRecord decode(ObjectDataInput in, int version) throws IOException {
            return new SessionRecord(in.readString(), in.readString(), in.readString(), in.readString(), in.readLong(),
                    in.readLong(), EndReason.fromLabel(in.readString()), CostWire.readTokens(in), in.readInt(), in.readLong(),
                    in.readString());
        }
    }

    static final class ChargeRecordSerializer extends CostWire.Base<ChargeRecord> {
        ChargeRecordSerializer() {
            super(7_331);
        }

        @Override
        void encode(ObjectDataOutput out, ChargeRecord r, int version) throws IOException {
            out.writeString(r.sessionId());
            out.writeString(r.chargeKey());
            out.writeString(r.clientId());
            out.writeString(r.model());
            CostWire.writeTokens(out, r.tokens());
            out.writeLong(r.costNanoUsd());
            out.writeBoolean(r.estimated());
            out.writeLong(r.atMillis());
            out.writeString(r.priceVersion());
        }

        @Override
        ChargeRecord decode(ObjectDataInput in, int version) throws IOException {
            return new ChargeRecord(in.readString(), in.readString(), in.readString(), in.readString(),
                    CostWire.readTokens(in), in.readLong(), in.readBoolean(), in.readLong(), in.readString());
        }
    }
}
