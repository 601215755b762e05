package ducke.http;

import ducke.core.ratelimit.LocalLeases;
import ducke.core.ratelimit.RateLimiter;
import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Gives the unused tokens of this node's ended leases back to the shared buckets, every half lease,
 * on one daemon thread of its own (never a request thread), and all leases when the node stops
 * (before its grid member leaves).
 */
public final class LeaseReturns implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseReturns.class);
    static final long INTERVAL_MILLIS = LocalLeases.LEASE_MILLIS / 2;

    private final RateLimiter limiter;
    private final Clock clock;
    private ScheduledExecutorService timer;

    public LeaseReturns(RateLimiter limiter, Clock clock) {
        this.limiter = limiter;
        this.clock = clock;
    }

    @Override
    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rate-limit-lease-returns");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::runOnce, INTERVAL_MILLIS, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void runOnce() {
        try {
            limiter.endExpiredLeases(clock.millis());
        } catch (RuntimeException e) {
            LOG.warn("Could not give back ended rate-limit leases; the buckets write them off when they end", e);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        if (timer != null) {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }
        try {
            limiter.endAllLeases(clock.millis());
        } catch (RuntimeException e) {
            LOG.warn("Could not give back rate-limit leases at shutdown; the buckets write them off when they end", e);
        }
    }
}
