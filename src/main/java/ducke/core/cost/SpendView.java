package ducke.core.cost;

import java.util.concurrent.atomic.AtomicReference;

/**
 * This node's latest knowledge of cluster spend and the breaker, so that gating a request needs no
 * grid round trip. Updated from every charge result, from breaker broadcasts, and by a periodic
 * refresh; a newer snapshot (by {@code asOfMillis}) or any breaker change replaces an older one.
 */
public final class SpendView {

    private final AtomicReference<SpendLedger.Snapshot> latest = new AtomicReference<>(
            new SpendLedger.Snapshot(0, 0, false, 0, 0, "", 0, Long.MIN_VALUE));

    public SpendLedger.Snapshot get() {
        return latest.get();
    }

    /** Takes {@code s} unless a snapshot taken later is already known. */
    public void offer(SpendLedger.Snapshot s) {
        latest.accumulateAndGet(s, (old, neu) -> neu.asOfMillis() >= old.asOfMillis() ? neu : old);
    }

    /** Takes {@code s} whatever its time: breaker changes announced by the cluster always win. */
    public void force(SpendLedger.Snapshot s) {
        latest.set(s);
    }

    public boolean breakerOpen(long nowMillis) {
        return latest.get().breakerOpenAt(nowMillis);
    }
}
