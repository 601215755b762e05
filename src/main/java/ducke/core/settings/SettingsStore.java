package ducke.core.settings;

import java.util.function.Consumer;

/** Where the cluster holds its one settings document (the grid); every write is a compare-and-set. */
public interface SettingsStore {

    /**
     * Stores {@code first} unless the cluster holds a document already.
     *
     * @return the document the cluster holds now: {@code first}, or the one it had
     */
    VersionedDocument seed(VersionedDocument first);

    /** The document the cluster holds; null when none was seeded yet. */
    VersionedDocument current();

    /**
     * Replaces {@code expected} by {@code next} if the cluster still holds {@code expected}: of two
     * writers that read the same document, one wins.
     */
    boolean replace(VersionedDocument expected, VersionedDocument next);

    /** Runs {@code listener} with every document written from now on, on a thread of the store. */
    void onChange(Consumer<VersionedDocument> listener);

    /**
     * Runs {@code listener} with the document the cluster kept when two halves merged (it may be an
     * older version than this node's half had), on a thread of the store.
     */
    void onMerge(Consumer<VersionedDocument> listener);
}
