package ducke.core.ratelimit;

import ducke.core.ratelimit.RateLimiter.Outcome;
import ducke.core.ratelimit.RateLimiter.Status;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RateLimiterTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final String ALICE = "203.0.113.7";
    private static final String BOB = "198.51.100.9";

    private static final LimitPolicy STATUS_POLICY = LimitParser.parse("2/minute");
    private static final LimitPolicy WEATHER_POLICY = LimitParser.parse("1/hour");
    private static final Map<String, LimitPolicy> POLICIES = Map.of(
            Endpoints.STATUS, STATUS_POLICY,
            Endpoints.WEATHER, WEATHER_POLICY);

    /**
     * An in-memory implementation of the storage port: one synchronized map of bucket states,
     * consuming through the same pure TokenBuckets the grid uses. Like the grid store, reset also
     * makes this node forget cached denials of the reset keys, as the port's contract requires.
     */
    private static final class InMemoryStore implements RateLimitStore {
        private final Map<String, BucketState> buckets = new ConcurrentHashMap<>();
        private final AtomicInteger consumeCalls = new AtomicInteger();
        private final LocalDenials denials;
        private volatile boolean unavailable;
        /** Runs after a consume has been decided and before it is answered (a request in flight). */
        private volatile Runnable inFlight = () -> { };

        InMemoryStore(LocalDenials denials) {
            this.denials = denials;
        }

        @Override
        public Decision tryConsume(String key, LimitPolicy policy, long nowMillis) {
            consumeCalls.incrementAndGet();
            if (unavailable) {
                throw new StoreUnavailableException("grid did not answer", new RuntimeException("timeout"));
            }
            Decision d;
            synchronized (this) {
                d = TokenBuckets.tryConsume(policy, buckets.get(key), nowMillis);
                if (d.state() != null) {
                    buckets.put(key, d.state());
                }
            }
            inFlight.run();
            return d;
        }

        @Override
        public synchronized int reset(Collection<String> keys) {
            int existed = 0;
            for (String k : keys) {
                if (buckets.remove(k) != null) {
                    existed++;
                }
            }
            denials.forget(keys);
            return existed;
        }
    }

    private final LocalDenials denials = new LocalDenials(1_000);
    private final InMemoryStore store = new InMemoryStore(denials);

    private RateLimiter limiter(boolean enabled, boolean failOpen) {
        return new RateLimiter(POLICIES, store, denials, enabled, failOpen);
    }

    private RateLimiter limiter() {
        return limiter(true, true);
    }

    private static void exhaust(RateLimiter limiter, String endpoint, String client, long nowMillis) {
        for (int i = 0; i < 100; i++) {
            if (limiter.check(endpoint, client, nowMillis).status() == Status.DENIED) {
                return;
            }
        }
        throw new AssertionError("never denied");
    }

    @Test
    void allowsUpToTheLimitThenDenies() {
        RateLimiter limiter = limiter();

        Outcome first = limiter.check(Endpoints.STATUS, ALICE, T0);
        Outcome second = limiter.check(Endpoints.STATUS, ALICE, T0);
        Outcome third = limiter.check(Endpoints.STATUS, ALICE, T0);

        assertThat(first.status()).isEqualTo(Status.ALLOWED);
        assertThat(first.permitted()).isTrue();
        assertThat(first.decision().remaining()).isEqualTo(1);
        assertThat(first.endpoint()).isEqualTo(Endpoints.STATUS);
        assertThat(first.policy()).isEqualTo(STATUS_POLICY);
        assertThat(second.status()).isEqualTo(Status.ALLOWED);
        assertThat(second.decision().remaining()).isZero();
        assertThat(third.status()).isEqualTo(Status.DENIED);
        assertThat(third.permitted()).isFalse();
        assertThat(third.fromLocalCache()).isFalse();
        assertThat(third.decision().retryAfterMillis()).isEqualTo(30_000);
        assertThat(store.consumeCalls.get()).isEqualTo(3);
    }

    @Test
    void storesBucketsUnderEndpointAndClientKey() {
        limiter().check(Endpoints.STATUS, ALICE, T0);

        assertThat(store.buckets).containsOnlyKeys("status|203.0.113.7");
        assertThat(RateLimiter.key(Endpoints.WEATHER, BOB)).isEqualTo("weather|198.51.100.9");
    }

    @Test
    void deniedClientIsAnsweredFromTheLocalCacheWithoutAskingTheStore() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        int callsAfterDenial = store.consumeCalls.get();

        Outcome again = limiter.check(Endpoints.STATUS, ALICE, T0 + 1_000);
        Outcome andAgain = limiter.check(Endpoints.STATUS, ALICE, T0 + 29_999);

        assertThat(again.status()).isEqualTo(Status.DENIED);
        assertThat(again.permitted()).isFalse();
        assertThat(again.fromLocalCache()).isTrue();
        assertThat(again.decision().retryAfterMillis()).isEqualTo(29_000);
        assertThat(andAgain.fromLocalCache()).isTrue();
        assertThat(andAgain.decision().retryAfterMillis()).isEqualTo(1);
        assertThat(store.consumeCalls.get()).isEqualTo(callsAfterDenial);
    }

    @Test
    void asksTheStoreAgainOnceTheRetryTimeHasCome() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        int callsAfterDenial = store.consumeCalls.get();

        Outcome afterWait = limiter.check(Endpoints.STATUS, ALICE, T0 + 30_000);

        assertThat(afterWait.status()).isEqualTo(Status.ALLOWED);
        assertThat(afterWait.fromLocalCache()).isFalse();
        assertThat(store.consumeCalls.get()).isEqualTo(callsAfterDenial + 1);
    }

    @Test
    void resetOfOneEndpointClearsItsBucketAndLocalDenialOnly() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        exhaust(limiter, Endpoints.WEATHER, ALICE, T0);

        int existed = limiter.reset(ALICE, Endpoints.STATUS);

        assertThat(existed).isEqualTo(1);
        assertThat(store.buckets).containsOnlyKeys("weather|203.0.113.7");
        assertThat(denials.find("status|203.0.113.7", T0)).isNull();
        Outcome status = limiter.check(Endpoints.STATUS, ALICE, T0);
        assertThat(status.status()).isEqualTo(Status.ALLOWED);
        assertThat(status.decision().remaining()).isEqualTo(1);
        Outcome weather = limiter.check(Endpoints.WEATHER, ALICE, T0);
        assertThat(weather.status()).isEqualTo(Status.DENIED);
        assertThat(weather.fromLocalCache()).isTrue();
    }

    @Test
    void resetWithoutEndpointClearsEveryEndpointOfTheClient() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        exhaust(limiter, Endpoints.WEATHER, ALICE, T0);
        exhaust(limiter, Endpoints.STATUS, BOB, T0);

        int existed = limiter.reset(ALICE, null);

        assertThat(existed).isEqualTo(2);
        assertThat(store.buckets).containsOnlyKeys("status|198.51.100.9");
        assertThat(denials.size()).isEqualTo(1);
        assertThat(limiter.check(Endpoints.STATUS, ALICE, T0).status()).isEqualTo(Status.ALLOWED);
        assertThat(limiter.check(Endpoints.WEATHER, ALICE, T0).status()).isEqualTo(Status.ALLOWED);
        assertThat(limiter.check(Endpoints.STATUS, BOB, T0).status()).isEqualTo(Status.DENIED);
    }

    @Test
    void resetOfAClientWithoutBucketsCountsNone() {
        assertThat(limiter().reset(ALICE, null)).isZero();
    }

    @Test
    void resetOfAnUnknownEndpointIsRejected() {
        RateLimiter limiter = limiter();

        assertThatThrownBy(() -> limiter.reset(ALICE, "nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void denialAnsweredWhileAResetIsInFlightIsNotCached() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        // let the cached denial expire so the next check goes to the store
        long later = T0 + 30_000;
        limiter.check(Endpoints.STATUS, ALICE, later);
        store.inFlight = () -> {
            store.inFlight = () -> { };
            limiter.reset(ALICE, Endpoints.STATUS);
        };

        Outcome stale = limiter.check(Endpoints.STATUS, ALICE, later);
        Outcome next = limiter.check(Endpoints.STATUS, ALICE, later);

        assertThat(stale.status()).isEqualTo(Status.DENIED);
        assertThat(next.status()).isEqualTo(Status.ALLOWED);
        assertThat(next.fromLocalCache()).isFalse();
    }

    @Test
    void clientsDoNotShareBuckets() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);

        Outcome bob = limiter.check(Endpoints.STATUS, BOB, T0);

        assertThat(bob.status()).isEqualTo(Status.ALLOWED);
        assertThat(bob.decision().remaining()).isEqualTo(1);
    }

    @Test
    void endpointsDoNotShareBuckets() {
        RateLimiter limiter = limiter();
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);

        Outcome weather = limiter.check(Endpoints.WEATHER, ALICE, T0);

        assertThat(weather.status()).isEqualTo(Status.ALLOWED);
        assertThat(weather.policy()).isEqualTo(WEATHER_POLICY);
        assertThat(limiter.check(Endpoints.WEATHER, ALICE, T0).status()).isEqualTo(Status.DENIED);
    }

    @Test
    void disabledLimiterPermitsEverythingWithoutTouchingTheStore() {
        RateLimiter limiter = limiter(false, true);

        for (int i = 0; i < 10; i++) {
            Outcome o = limiter.check(Endpoints.STATUS, ALICE, T0);
            assertThat(o.status()).isEqualTo(Status.DISABLED);
            assertThat(o.permitted()).isTrue();
            assertThat(o.decision()).isNull();
            assertThat(o.policy()).isEqualTo(STATUS_POLICY);
        }

        assertThat(limiter.enabled()).isFalse();
        assertThat(store.consumeCalls.get()).isZero();
        assertThat(store.buckets).isEmpty();
    }

    @Test
    void unavailableStoreFailsOpenWhenConfiguredSo() {
        store.unavailable = true;

        Outcome o = limiter(true, true).check(Endpoints.STATUS, ALICE, T0);

        assertThat(o.status()).isEqualTo(Status.FAILED_OPEN);
        assertThat(o.permitted()).isTrue();
        assertThat(o.decision()).isNull();
        assertThat(o.fromLocalCache()).isFalse();
        assertThat(o.endpoint()).isEqualTo(Endpoints.STATUS);
    }

    @Test
    void unavailableStoreFailsClosedWhenConfiguredSo() {
        store.unavailable = true;

        Outcome o = limiter(true, false).check(Endpoints.STATUS, ALICE, T0);

        assertThat(o.status()).isEqualTo(Status.UNAVAILABLE);
        assertThat(o.permitted()).isFalse();
        assertThat(o.decision()).isNull();
    }

    @Test
    void cachedDenialStillAppliesWhileTheStoreIsUnavailable() {
        RateLimiter limiter = limiter(true, true);
        exhaust(limiter, Endpoints.STATUS, ALICE, T0);
        store.unavailable = true;

        Outcome o = limiter.check(Endpoints.STATUS, ALICE, T0 + 1_000);

        assertThat(o.status()).isEqualTo(Status.DENIED);
        assertThat(o.fromLocalCache()).isTrue();
    }

    @Test
    void unknownEndpointIsRejectedWithoutAskingTheStore() {
        RateLimiter enabled = limiter(true, true);
        RateLimiter disabled = limiter(false, true);

        assertThatThrownBy(() -> enabled.check("nope", ALICE, T0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> disabled.check("nope", ALICE, T0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> enabled.policy("nope")).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.consumeCalls.get()).isZero();
    }

    @Test
    void exposesItsEndpointsAndPolicies() {
        RateLimiter limiter = limiter();

        assertThat(limiter.endpoints()).containsExactlyInAnyOrder(Endpoints.STATUS, Endpoints.WEATHER);
        assertThat(limiter.policy(Endpoints.WEATHER)).isEqualTo(WEATHER_POLICY);
        assertThat(limiter.enabled()).isTrue();
    }

    @Test
    void outcomePermitsEveryStatusButDeniedAndUnavailable() {
        for (Status s : Status.values()) {
            Outcome o = new Outcome(s, Endpoints.STATUS, STATUS_POLICY, null, false);
            assertThat(o.permitted()).as(s.name())
                    .isEqualTo(!List.of(Status.DENIED, Status.UNAVAILABLE).contains(s));
        }
    }
}
