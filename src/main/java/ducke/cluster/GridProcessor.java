package ducke.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;

/**
 * An entry processor of this service: serialized through {@link GridSerializers}, by class id, its
 * fields after the {@link WireVersion} byte.
 */
abstract class GridProcessor<K, V, R> implements EntryProcessor<K, V, R>, IdentifiedDataSerializable {

    @Override
    public final int getFactoryId() {
        return GridSerializers.FACTORY_ID;
    }

    @Override
    public final void writeData(ObjectDataOutput out) throws IOException {
        writeFields(out, WireVersion.write(out));
    }

    @Override
    public final void readData(ObjectDataInput in) throws IOException {
        readFields(in, WireVersion.read(in, getClass().getSimpleName()));
    }

    /** The processor's arguments in wire version {@code version}. */
    abstract void writeFields(ObjectDataOutput out, int version) throws IOException;

    abstract void readFields(ObjectDataInput in, int version) throws IOException;
}
