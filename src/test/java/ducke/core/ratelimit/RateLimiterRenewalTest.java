package ducke.core.ratelimit;

import ducke.core.ratelimit.RateLimiter.Outcome;
import ducke.core.ratelimit.RateLimiter.Status;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests that find this node's lease spent while another request renews it wait for that one
 * grid call instead of each making their own: a granted renewal serves them from the new lease, a
 * refused one from the denial cache, a failed one fails them open or closed, and in every case the
 * store sees one call.
 */
class RateLimiterRenewalTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final String CLIENT = "203.0.113.77";
    private static final String KEY = RateLimiter.key(Endpoints.STATUS, CLIENT);
    private static final int WAITERS = 6;

    /** A leasing store in memory whose calls can be held in flight. */
    private static final class HeldStore implements RateLimitStore {
        private BucketState bucket;
        final AtomicInteger calls = new AtomicInteger();
        volatile CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch gate = new CountDownLatch(0);
        volatile boolean unavailable;

        @Override
        public Decision tryConsume(String key, LimitPolicy policy, long nowMillis) {
            return take(key, policy, nowMillis, LeaseAsk.ONE);
        }

        @Override
        public Decision take(String key, LimitPolicy policy, long nowMillis, LeaseAsk ask) {
            calls.incrementAndGet();
            entered.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (unavailable) {
                throw new StoreUnavailableException("grid did not answer", new RuntimeException("timeout"));
            }
            synchronized (this) {
                Decision d = TokenBuckets.take(policy, bucket, nowMillis, ask);
                if (d.state() != null) {
                    bucket = d.state();
                }
                return d;
            }
        }

        @Override
        public int reset(Collection<String> keys) {
            return 0;
        }
    }

    private final ExecutorService pool = Executors.newFixedThreadPool(WAITERS + 1);
    private final List<Thread> threads = new ArrayList<>();
    private final HeldStore store = new HeldStore();
    private final LocalDenials denials = new LocalDenials(100);

    @AfterEach
    void stop() throws InterruptedException {
        store.gate.countDown();
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private RateLimiter limiter(String limit, boolean failOpen) {
        return new RateLimiter(Map.of(Endpoints.STATUS, LimitParser.parse(limit)), store, denials, true, failOpen);
    }

    /** Checks until this node holds a lease of several tokens, then spends it to the last token. */
    private void spendALease(RateLimiter limiter) {
        while (denials.leases().unspent(KEY) < 8) {
            assertThat(limiter.check(Endpoints.STATUS, CLIENT, T0).status()).isEqualTo(Status.ALLOWED);
        }
        while (denials.leases().unspent(KEY) > 0) {
            assertThat(limiter.check(Endpoints.STATUS, CLIENT, T0).fromLocalCache()).isTrue();
        }
    }

    private Future<Outcome> check(RateLimiter limiter) {
        return pool.submit(() -> {
            synchronized (threads) {
                threads.add(Thread.currentThread());
            }
            return limiter.check(Endpoints.STATUS, CLIENT, T0);
        });
    }

    /** One request renews (held in the store), then {@link #WAITERS} more arrive and all park. */
    private List<Future<Outcome>> renewalWithWaiters(RateLimiter limiter) throws Exception {
        store.gate = new CountDownLatch(1);
        store.entered = new CountDownLatch(1);
        List<Future<Outcome>> all = new ArrayList<>();
        all.add(check(limiter));
        assertThat(store.entered.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < WAITERS; i++) {
            all.add(check(limiter));
        }
        Poll.until("every request is parked", Duration.ofSeconds(10), Duration.ofMillis(5), () -> {
            synchronized (threads) {
                return threads.size() == WAITERS + 1 && threads.stream().allMatch(t ->
                        t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
            }
        });
        return all;
    }

    @Test
    void requestsArrivingDuringARenewalSpendTheNewLeaseAndMakeNoGridCallOfTheirOwn() throws Exception {
        RateLimiter limiter = limiter("600000/minute", false);
        spendALease(limiter);
        int before = store.calls.get();

        List<Future<Outcome>> all = renewalWithWaiters(limiter);
        store.gate.countDown();

        for (Future<Outcome> f : all) {
            assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.ALLOWED);
        }
        assertThat(store.calls.get() - before).as("grid calls for %d requests", WAITERS + 1).isEqualTo(1);
        // the renewer's answer came from the grid, every waiter's from the new lease
        int fromGrid = 0;
        for (Future<Outcome> f : all) {
            fromGrid += f.get().fromLocalCache() ? 0 : 1;
        }
        assertThat(fromGrid).isEqualTo(1);
    }

    @Test
    void aRefusedRenewalRefusesTheWaitersFromTheDenialCache() throws Exception {
        RateLimiter limiter = limiter("600000/minute", false);
        spendALease(limiter);
        // the bucket empties meanwhile: other nodes took the rest
        store.bucket = new BucketState(new long[] {0}, T0);
        int before = store.calls.get();

        List<Future<Outcome>> all = renewalWithWaiters(limiter);
        store.gate.countDown();

        assertThat(all.get(0).get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.DENIED);
        for (Future<Outcome> f : all.subList(1, all.size())) {
            Outcome o = f.get(10, TimeUnit.SECONDS);
            assertThat(o.status()).isEqualTo(Status.DENIED);
            assertThat(o.fromLocalCache()).isTrue();
        }
        assertThat(store.calls.get() - before).isEqualTo(1);
    }

    @Test
    void aRenewalTheGridCannotAnswerFailsTheWaitersAsConfiguredWithoutMoreCalls() throws Exception {
        RateLimiter limiter = limiter("600000/minute", true);
        spendALease(limiter);
        int before = store.calls.get();

        List<Future<Outcome>> all = renewalWithWaiters(limiter);
        store.unavailable = true;
        store.gate.countDown();

        for (Future<Outcome> f : all) {
            assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.FAILED_OPEN);
        }
        assertThat(store.calls.get() - before).isEqualTo(1);
    }
}
