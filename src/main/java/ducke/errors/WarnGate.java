package ducke.errors;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a warning that repeats (a failing pass every second, a console polling every two) through at
 * most once per interval; thread-safe. Times are whatever milliseconds the caller counts in (its
 * clock, or {@code System.nanoTime()} in millis), the same for every call.
 */
public final class WarnGate {

    private final long intervalMillis;
    private final AtomicLong lastMillis = new AtomicLong(Long.MIN_VALUE / 2);

    public WarnGate(long intervalMillis) {
        this.intervalMillis = intervalMillis;
    }

    /** True when the last warning let through was {@code intervalMillis} or more ago (or there was none): it counts as let through now. */
    public boolean open(long nowMillis) {
        long last = lastMillis.get();
        return nowMillis - last >= intervalMillis && lastMillis.compareAndSet(last, nowMillis);
    }

    /** Counts as a warning let through at {@code nowMillis}: the first one after it waits a whole interval. */
    public void shut(long nowMillis) {
        lastMillis.set(nowMillis);
    }
}
