package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.cost.ReportAnswers;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Answers to keyed usage reports in a grid map, each with its own time to live; calls have the
 * grid-call deadline. No quorum is needed: an answer is only kept after the session's ledger (which
 * needs one) took or recognised the report, and a merge keeps either side's answer.
 */
final class GridReportAnswers implements ReportAnswers {

    static final String MAP = "ducke-report-answers";
    static final int PUT_IF_ABSENT = 60;

    private final IMap<String, String> map;
    private final GridCalls calls;

    GridReportAnswers(HazelcastInstance hz, GridCalls calls) {
        this.map = hz.getMap(MAP);
        this.calls = calls;
    }

    /** Session ids and keys hold no space: one string names both. */
    private static String entry(String sessionId, String key) {
        return sessionId + " " + key;
    }

    @Override
    public Optional<String> get(String sessionId, String key) {
        return Optional.ofNullable(calls.await("reading a report's answer", () -> map.getAsync(entry(sessionId, key))));
    }

    @Override
    public void put(String sessionId, String key, String answer, long ttlMillis) {
        calls.await("keeping a report's answer",
                () -> map.setAsync(entry(sessionId, key), answer, Math.max(1, ttlMillis), TimeUnit.MILLISECONDS));
    }

    @Override
    public String putIfAbsent(String sessionId, String key, String answer, long ttlMillis) {
        return calls.await("keeping a report's answer",
                () -> map.submitToKey(entry(sessionId, key), new PutIfAbsent(answer, Math.max(1, ttlMillis))));
    }

    static final class PutIfAbsent extends GridProcessor<String, String, String> {
        private String answer;
        private long ttlMillis;

        PutIfAbsent() {
        }

        PutIfAbsent(String answer, long ttlMillis) {
            this.answer = answer;
            this.ttlMillis = ttlMillis;
        }

        @Override
        public String process(Map.Entry<String, String> entry) {
            if (entry.getValue() != null) {
                return entry.getValue();
            }
            if (entry instanceof ExtendedMapEntry<String, String> e) {
                e.setValue(answer, ttlMillis, TimeUnit.MILLISECONDS);
            } else {
                entry.setValue(answer);
            }
            return answer;
        }

        @Override
        public int getClassId() {
            return PUT_IF_ABSENT;
        }

        @Override
        void writeFields(ObjectDataOutput out, int version) throws IOException {
            out.writeString(answer);
            out.writeLong(ttlMillis);
        }

        @Override
        void readFields(ObjectDataInput in, int version) throws IOException {
            answer = in.readString();
            ttlMillis = in.readLong();
        }
    }
}
