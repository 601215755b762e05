package ducke.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/** An entry processor of this service: serialized through {@link GridSerializers}, by class id. */
abstract class GridProcessor<K, V, R> implements EntryProcessor<K, V, R>, IdentifiedDataSerializable {

    @Override
    public final int getFactoryId() {
        return GridSerializers.FACTORY_ID;
    }
}
