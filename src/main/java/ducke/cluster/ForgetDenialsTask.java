package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.ratelimit.LocalDenials;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Runs on every member: forgets the locally cached denials, and drops the leases, of some bucket keys. */
final class ForgetDenialsTask implements Callable<Integer>, HazelcastInstanceAware, IdentifiedDataSerializable {

    static final String LOCAL_DENIALS = "ducke.localDenials";

    private List<String> keys;
    private transient HazelcastInstance instance;

    ForgetDenialsTask() {
    }

    ForgetDenialsTask(List<String> keys) {
        this.keys = List.copyOf(keys);
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.instance = hazelcastInstance;
    }

    @Override
    public Integer call() {
        Object denials = instance.getUserContext().get(LOCAL_DENIALS);
        return denials instanceof LocalDenials d ? d.forget(keys) : 0;
    }

    @Override
    public int getFactoryId() {
        return GridSerializers.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return GridSerializers.FORGET_DENIALS;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        WireVersion.write(out);
        out.writeInt(keys.size());
        for (String k : keys) {
            out.writeString(k);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        WireVersion.read(in, getClass().getSimpleName());
        int n = in.readInt();
        keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(in.readString());
        }
    }
}
