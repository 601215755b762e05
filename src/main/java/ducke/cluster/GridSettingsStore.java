package ducke.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import ducke.core.settings.SettingsStore;
import ducke.core.settings.VersionedDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/**
 * The cluster's settings document: one entry of a map, its value the document's wire form
 * ({@link VersionedDocument#encode()}). A write is {@code putIfAbsent} (the first node) or
 * {@code replace(key, old, new)}, which compares the stored bytes: of two applies that read the
 * same version, one wins.
 */
final class GridSettingsStore implements SettingsStore {

    private static final Logger LOG = LoggerFactory.getLogger(GridSettingsStore.class);
    static final String KEY = "current";

    private final IMap<String, byte[]> map;
    private final GridCalls calls;

    GridSettingsStore(HazelcastInstance hz, GridCalls calls) {
        this.map = hz.getMap(HazelcastFactory.SETTINGS_MAP);
        this.calls = calls;
    }

    @Override
    public VersionedDocument seed(VersionedDocument first) {
        byte[] had = calls.awaitBlocking("seeding the cluster's settings", () -> map.putIfAbsent(KEY, first.encode()));
        return had == null ? first : VersionedDocument.decode(had);
    }

    @Override
    public VersionedDocument current() {
        byte[] now = calls.await("reading the cluster's settings", () -> map.getAsync(KEY));
        return now == null ? null : VersionedDocument.decode(now);
    }

    @Override
    public boolean replace(VersionedDocument expected, VersionedDocument next) {
        return calls.awaitBlocking("writing the cluster's settings", () -> map.replace(KEY, expected.encode(), next.encode()));
    }

    @Override
    public void onChange(Consumer<VersionedDocument> listener) {
        map.addEntryListener(new Listener(listener), KEY, true);
    }

    @Override
    public void onMerge(Consumer<VersionedDocument> listener) {
        map.addEntryListener((EntryMergedListener<String, byte[]>) e -> new Listener(listener).deliver(e.getValue()), KEY, true);
    }

    private record Listener(Consumer<VersionedDocument> listener)
            implements EntryAddedListener<String, byte[]>, EntryUpdatedListener<String, byte[]> {
        @Override
        public void entryAdded(EntryEvent<String, byte[]> e) {
            deliver(e.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, byte[]> e) {
            deliver(e.getValue());
        }

        private void deliver(byte[] value) {
            try {
                listener.accept(VersionedDocument.decode(value));
            } catch (RuntimeException ex) {
                LOG.error("The cluster's settings changed, but this node cannot apply them: {}", ex.getMessage());
            }
        }
    }
}
