package ducke.core.ratelimit;

import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Denials this node remembers so that a client already over its limit is rejected without a grid
 * round trip until its retry time. Bounded: expired entries are swept when the map is full, and
 * nothing new is cached while it stays full. Thread-safe.
 *
 * <p>Resets bump an epoch; a denial fetched from the grid before a reset is not cached after it.
 * The node's {@link LocalLeases} share the epoch and are dropped by the same {@link #forget}, so
 * a reset reaches everything this node remembers of the shared buckets.
 */
public final class LocalDenials {

    private record Entry(Decision decision, long deniedAtMillis, long untilMillis) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong epoch = new AtomicLong();
    private final int maxEntries;
    private final LocalLeases leases;

    /** @param maxEntries most denials remembered, and most keys whose leases are tracked (0: none) */
    public LocalDenials(int maxEntries) {
        this.maxEntries = maxEntries;
        this.leases = new LocalLeases(maxEntries, epoch);
    }

    /** This node's leases of shared tokens, reset together with its denials. */
    public LocalLeases leases() {
        return leases;
    }

    /** The cached denial for {@code key} as it stands at {@code nowMillis}, or null when none applies. */
    public Decision find(String key, long nowMillis) {
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        if (nowMillis >= e.untilMillis || nowMillis < e.deniedAtMillis) {
            entries.remove(key, e);
            return null;
        }
        long waited = nowMillis - e.deniedAtMillis;
        Decision d = e.decision;
        return new Decision(false, null, d.limit(), d.windowSeconds(), 0,
                Math.max(0, d.resetMillis() - waited), e.untilMillis - nowMillis, d.limiting(), 0);
    }

    /** Epoch to pass to {@link #remember}; read it before asking the grid. */
    public long epoch() {
        return epoch.get();
    }

    /** Caches a grid denial unless a reset happened since {@code epochBefore}. */
    public void remember(String key, Decision denied, long nowMillis, long epochBefore) {
        if (denied.allowed() || denied.retryAfterMillis() <= 0) {
            return;
        }
        if (entries.size() >= maxEntries && !entries.containsKey(key)) {
            sweep(nowMillis);
            if (entries.size() >= maxEntries && !entries.containsKey(key)) {
                return;
            }
        }
        entries.put(key, new Entry(denied, nowMillis, nowMillis + denied.retryAfterMillis()));
        if (epoch.get() != epochBefore) {
            entries.remove(key);
        }
    }

    /** Forgets denials and drops leases of the given keys; answers how many denials were forgotten. */
    public int forget(Collection<String> keys) {
        epoch.incrementAndGet();
        leases.forget(keys);
        int removed = 0;
        for (String k : keys) {
            if (entries.remove(k) != null) {
                removed++;
            }
        }
        return removed;
    }

    public int size() {
        return entries.size();
    }

    private void sweep(long nowMillis) {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().untilMillis <= nowMillis) {
                it.remove();
            }
        }
    }
}
