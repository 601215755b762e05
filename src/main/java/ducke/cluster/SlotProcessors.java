package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cost.SessionSlots;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Entry processors on a client's concurrent-session slots. */
final class SlotProcessors {

    static final int ACQUIRE = 30;
    static final int RELEASE = 31;

    private SlotProcessors() {
    }

    static IdentifiedDataSerializable create(int id) {
        return switch (id) {
            case ACQUIRE -> new Acquire();
            case RELEASE -> new Release();
            default -> null;
        };
    }

    /**
     * Stores slots so that the entry expires when its last slot (or remembered release) lapses;
     * an empty one is removed.
     */
    static void store(Map.Entry<String, SessionSlots> e, SessionSlots slots, long nowMillis) {
        if (slots.isEmpty()) {
            e.setValue(null);
        } else if (e instanceof ExtendedMapEntry<String, SessionSlots> x) {
            x.setValue(slots, Math.max(1, slots.lastLapseMillis() - nowMillis), TimeUnit.MILLISECONDS);
        } else {
            e.setValue(slots);
        }
    }

    static final class Acquire extends GridProcessor<String, SessionSlots, Boolean> {
        private String sessionId;
        private long expiresAtMillis;
        private int max;
        private long nowMillis;

        Acquire() {
        }

        Acquire(String sessionId, long expiresAtMillis, int max, long nowMillis) {
            this.sessionId = sessionId;
            this.expiresAtMillis = expiresAtMillis;
            this.max = max;
            this.nowMillis = nowMillis;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionSlots> e) {
            SessionSlots current = e.getValue() == null ? SessionSlots.EMPTY : e.getValue();
            SessionSlots after = current.tryAcquire(sessionId, expiresAtMillis, max, nowMillis);
            if (after == null) {
                return false;
            }
            store(e, after, nowMillis);
            return true;
        }


        @Override
        public int getClassId() {
            return ACQUIRE;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeString(sessionId);
            out.writeLong(expiresAtMillis);
            out.writeInt(max);
            out.writeLong(nowMillis);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            sessionId = in.readString();
            expiresAtMillis = in.readLong();
            max = in.readInt();
            nowMillis = in.readLong();
        }
    }

    static final class Release extends GridProcessor<String, SessionSlots, Boolean> {
        private String sessionId;
        private long nowMillis;

        Release() {
        }

        Release(String sessionId, long nowMillis) {
            this.sessionId = sessionId;
            this.nowMillis = nowMillis;
        }

        @Override
        public Boolean process(Map.Entry<String, SessionSlots> e) {
            if (e.getValue() == null) {
                return false;
            }
            SessionSlots after = e.getValue().release(sessionId);
            if (after == e.getValue()) {
                return false;
            }
            store(e, after, nowMillis);
            return true;
        }


        @Override
        public int getClassId() {
            return RELEASE;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeString(sessionId);
            out.writeLong(nowMillis);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            sessionId = in.readString();
            nowMillis = in.readLong();
        }
    }
}
