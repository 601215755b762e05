package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import ducke.core.cluster.ClusterHealth;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * Runs on every member when one stops gracefully, before it leaves: the cluster then expects one
 * member less, so its quorum shrinks instead of being lost ({@link ClusterHealth#memberDeparting}).
 */
final class DepartureTask implements Callable<Boolean>, HazelcastInstanceAware, IdentifiedDataSerializable {

    static final String CLUSTER_HEALTH = "ducke.clusterHealth";

    private transient HazelcastInstance instance;

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.instance = hazelcastInstance;
    }

    @Override
    public Boolean call() {
        if (instance.getUserContext().get(CLUSTER_HEALTH) instanceof ClusterHealth health) {
            health.memberDeparting();
            return true;
        }
        return false;
    }

    @Override
    public int getFactoryId() {
        return GridSerializers.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return GridSerializers.DEPARTURE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        WireVersion.write(out);
        // no fields
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        WireVersion.read(in, getClass().getSimpleName());
        // no fields
    }
}
