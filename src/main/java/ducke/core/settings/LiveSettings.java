package ducke.core.settings;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * This node's current version of the cluster's settings. A reader takes {@link #get()} once per
 * operation and works with that one value, so an operation never mixes two versions; a newer
 * version replaces the whole value at once. Versions only go forward: an older or equal one
 * offered late (events of the grid may overtake each other) is ignored. Thread-safe.
 */
public final class LiveSettings implements Supplier<Settings> {

    private final AtomicReference<Settings> current;
    private final List<Consumer<Settings>> listeners = new CopyOnWriteArrayList<>();

    public LiveSettings(Settings initial) {
        this.current = new AtomicReference<>(initial);
    }

    @Override
    public Settings get() {
        return current.get();
    }

    /**
     * Makes {@code next} current if it is newer than the current version, then tells the listeners.
     *
     * @return whether it was newer
     */
    public boolean offer(Settings next) {
        while (true) {
            Settings now = current.get();
            if (next.version() <= now.version()) {
                return false;
            }
            if (current.compareAndSet(now, next)) {
                listeners.forEach(l -> l.accept(next));
                return true;
            }
        }
    }

    /**
     * Makes {@code next} current whatever its version: the cluster's document after two halves of a
     * partitioned cluster merged is the one that counts, even if this node's half had gone further.
     */
    public void force(Settings next) {
        current.set(next);
        listeners.forEach(l -> l.accept(next));
    }

    /**
     * Runs {@code listener} after each newer version became current, on the thread that offered it.
     * Listeners that keep state read {@link #get()} rather than trusting the order of calls.
     */
    public void onChange(Consumer<Settings> listener) {
        listeners.add(listener);
    }
}
