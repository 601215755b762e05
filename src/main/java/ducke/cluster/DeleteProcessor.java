package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.ratelimit.BucketState;

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
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }
}
