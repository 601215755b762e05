package ducke.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.DuckeConfiguration;
import ducke.cli.StartupException;
import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.settings.LiveSettings;
import ducke.core.settings.SettingsStore;
import ducke.core.settings.VersionedDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Keeps this node on the cluster's version of the settings. At start-up the first node of a
 * cluster stores its own config.yml settings as version 1; any later node takes the cluster's
 * version and logs where its config.yml differs. Every write of the document (on any node) reaches
 * every node through the store's listener, and {@link LiveSettings} swaps to it at once. An
 * operator's change ({@link #apply}) is validated whole, then written with a compare-and-set.
 */
public final class SettingsSync {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsSync.class);

    /** What an apply did: the version before and after (equal when nothing changed), and each change. */
    public record Applied(long previousVersion, long version, List<String> changes, SettingsDocument before,
                          SettingsDocument after) {
        public boolean changed() {
            return version != previousVersion;
        }
    }

    /** Another apply won the compare-and-set: nothing of this one was written. */
    public static final class Conflict extends RuntimeException {
        public Conflict(long version) {
            super("The cluster's settings changed meanwhile (now version " + version + "); nothing was applied: apply again",
                    null, false, false);
        }
    }

    private final SettingsStore store;
    private final LiveSettings live;

    private SettingsSync(SettingsStore store, LiveSettings live) {
        this.store = store;
        this.live = live;
    }

    /**
     * Seeds or follows the cluster's settings and listens for new versions.
     *
     * @throws StartupException when the cluster's document cannot be read by this node
     */
    public static SettingsSync start(SettingsStore store, DuckeConfiguration config) {
        SettingsDocument mine = SettingsDocument.of(config);
        VersionedDocument first = new VersionedDocument(1, mine.json());
        VersionedDocument current = seed(store, first);
        SettingsDocument theirs;
        try {
            theirs = SettingsDocument.parse(current.json());
        } catch (SettingsDocument.Invalid | IllegalArgumentException e) {
            throw new StartupException("Cannot start: this node cannot read the cluster's settings (version "
                    + current.version() + "): " + e.getMessage());
        }
        List<String> differences = theirs.flat().changesFrom(mine.flat());
        if (current == first) {
            LOG.info("Cluster settings: this node is the first; version 1 is its config.yml");
        } else if (differences.isEmpty()) {
            LOG.info("Cluster settings: following version {}, which agrees with this node's config.yml", current.version());
        } else {
            LOG.warn("Cluster settings: this node's config.yml differs from the cluster's version {}; the node follows the "
                    + "cluster (config.yml value -> cluster value): {}", current.version(), String.join("; ", differences));
        }
        SettingsSync sync = new SettingsSync(store, new LiveSettings(theirs.build(current.version())));
        store.onChange(sync::follow);
        store.onMerge(sync::adopt);
        // a version written between the first read and the listener's start is not missed
        VersionedDocument now = store.current();
        if (now != null) {
            sync.follow(now);
        }
        return sync;
    }

    /** Seeding calls at start-up before the node gives up (each waits the grid-call deadline). */
    static final int SEED_ATTEMPTS = 3;

    /**
     * The cluster's document, or {@code first} when this node is the first: a node that starts while
     * the grid rebalances (a member just left, another joins) may find one call slower than the grid
     * deadline, which is no reason to fail the start. The write is {@code putIfAbsent}, so an attempt
     * that took effect after its caller gave up makes the next one find the document (the same).
     */
    static VersionedDocument seed(SettingsStore store, VersionedDocument first) {
        for (int attempt = 1; ; attempt++) {
            try {
                return store.seed(first);
            } catch (ClusterUnavailableException e) {
                if (attempt == SEED_ATTEMPTS) {
                    throw e;
                }
                LOG.warn("Cluster settings: attempt {} of {} to read or seed the cluster's document failed ({}); trying again",
                        attempt, SEED_ATTEMPTS, e.getMessage());
            }
        }
    }

    public LiveSettings live() {
        return live;
    }

    /** The document the cluster holds now, and its version. */
    public VersionedDocument current() {
        VersionedDocument d = store.current();
        return d == null ? new VersionedDocument(live.get().version(), "{}") : d;
    }

    /**
     * Changes the cluster's settings by {@code patch} (a JSON merge patch over the current document),
     * as one new version, applied on this node before it returns and on every other node as soon as
     * it hears of it. A patch that changes nothing writes no version.
     *
     * @throws SettingsDocument.Invalid for a document start-up would refuse; nothing changed
     * @throws Conflict when another apply wrote a version meanwhile; nothing changed
     */
    public Applied apply(ObjectNode patch) {
        VersionedDocument base = store.current();
        SettingsDocument before = SettingsDocument.parse(base.json());
        SettingsDocument after = before.merge(patch);
        List<String> changes = after.flat().changesFrom(before.flat());
        if (changes.isEmpty()) {
            return new Applied(base.version(), base.version(), changes, before, before);
        }
        VersionedDocument next = new VersionedDocument(base.version() + 1, after.json());
        if (!store.replace(base, next)) {
            throw new Conflict(store.current().version());
        }
        follow(next);
        return new Applied(base.version(), next.version(), changes, before, after);
    }

    /** Makes {@code d} this node's settings whatever its version: the one the cluster kept after a merge. */
    private void adopt(VersionedDocument d) {
        try {
            live.force(SettingsDocument.parse(d.json()).build(d.version()));
            LOG.warn("Cluster settings: version {} kept after two parts of the cluster merged; applied", d.version());
        } catch (RuntimeException e) {
            LOG.error("Cluster settings: version {} kept after a merge cannot be applied on this node: {}", d.version(),
                    e.getMessage());
        }
    }

    /** Makes {@code d} this node's settings if it is newer than what it has. */
    private void follow(VersionedDocument d) {
        if (d.version() <= live.get().version()) {
            return;
        }
        try {
            if (live.offer(SettingsDocument.parse(d.json()).build(d.version()))) {
                LOG.info("Cluster settings: version {} applied", d.version());
            }
        } catch (RuntimeException e) {
            LOG.error("Cluster settings: version {} cannot be applied on this node; it stays on version {}: {}", d.version(),
                    live.get().version(), e.getMessage());
        }
    }
}
