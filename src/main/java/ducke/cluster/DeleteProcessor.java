package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.ratelimit.BucketState;

import java.io.IOException;
import java.util.Map;

/** Removes a bucket; answers whether there was one. */
final class DeleteProcessor extends GridProcessor<String, BucketState, Boolean> {

    @Override
    public Boolean process(Map.Entry<String, BucketState> entry) {
        boolean existed = entry.getValue() != null;
        if (existed) {
            entry.setValue(null);
        }
        return existed;
    }


    @Override
    public int getClassId() {
        return GridSerializers.DELETE;
    }

    @Override
    void writeFields(ObjectDataOutput out, int version) throws IOException {
    }

    @Override
    void readFields(ObjectDataInput in, int version) throws IOException {
    }
}
