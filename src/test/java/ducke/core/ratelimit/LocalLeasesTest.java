package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class LocalLeasesTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final String KEY = "status|203.0.113.9";
    private static final LimitPolicy POLICY = LimitParser.parse("6000/minute");

    private final LocalDenials denials = new LocalDenials(100);
    private final LocalLeases leases = denials.leases();
    private BucketState bucket;

    /** One check as the limiter makes it, against a bucket kept here. */
    private Decision check(long nowMillis) {
        Decision spent = leases.spend(KEY, nowMillis);
        if (spent != null) {
            return spent;
        }
        long epoch = denials.epoch();
        LocalLeases.Renewal r = leases.renewal(KEY, nowMillis);
        Decision d = TokenBuckets.take(POLICY, bucket, nowMillis, r.ask());
        if (d.state() != null) {
            bucket = d.state();
        }
        return d.allowed() ? leases.install(KEY, POLICY, r, d, nowMillis, epoch) : d;
    }

    @Test
    void leasesGrowWithDemandAndShrinkToWhatWasUsed() {
        List<Long> granted = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (leases.unspent(KEY) == 0) {
                long before = bucket == null ? 6000 : bucket.units(0) / 60_000;
                check(T0);
                granted.add(before - bucket.units(0) / 60_000);
            } else {
                check(T0);
            }
        }
        assertThat(granted.subList(0, 6)).containsExactly(1L, 2L, 4L, 8L, 16L, 32L);
        assertThat(granted).allMatch(g -> g <= LocalLeases.MAX_LEASE_TOKENS);
        assertThat(granted.get(granted.size() - 1)).isEqualTo(LocalLeases.MAX_LEASE_TOKENS);

        // the lease ended with tokens left: the next one is as large as what was used
        long unusedBefore = leases.unspent(KEY);
        long used = LocalLeases.MAX_LEASE_TOKENS - 1 - unusedBefore;
        LocalLeases.Renewal after = leases.renewal(KEY, T0 + LocalLeases.LEASE_MILLIS);
        assertThat(after.ask().want()).isEqualTo(used + 1);
        assertThat(after.ask().giveBack().unused()).isEqualTo(unusedBefore);
        assertThat(after.ask().giveBack().leased()).isEqualTo(LocalLeases.MAX_LEASE_TOKENS - 1);
    }

    @Test
    void headersCountTheBucketAndThisNodesUnspentTokens() {
        Decision first = check(T0);
        Decision second = check(T0);   // takes 2: one for itself, one leased
        Decision third = check(T0);    // spends the leased one

        assertThat(first.remaining()).isEqualTo(5999);
        assertThat(second.remaining()).isEqualTo(5998);
        assertThat(third.remaining()).isEqualTo(5997);
        // one token of 6000/minute comes back every 10 ms
        assertThat(first.resetMillis()).isEqualTo(10);
        assertThat(second.resetMillis()).isEqualTo(20);
        assertThat(third.resetMillis()).isEqualTo(30);
        assertThat(check(T0 + 5).resetMillis()).isEqualTo(35);
    }

    @Test
    void everyLeasedTokenIsSpentAtMostOnceByConcurrentRequests() throws Exception {
        for (int i = 0; i < 12; i++) {
            check(T0);
        }
        long unspent = leases.unspent(KEY);
        assertThat(unspent).isPositive();
        AtomicInteger spent = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(pool.submit(() -> {
                for (int j = 0; j < 1_000; j++) {
                    if (leases.spend(KEY, T0) != null) {
                        spent.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : calls) {
            f.get();
        }
        pool.shutdown();
        assertThat(spent.get()).isEqualTo(unspent);
        assertThat(leases.endExpired(T0 + LocalLeases.LEASE_MILLIS)).singleElement()
                .satisfies(e -> assertThat(e.giveBack().unused()).isZero());
    }

    @Test
    void aLeaseIsNotSpentAfterItEnds() {
        for (int i = 0; i < 12; i++) {
            check(T0);
        }
        assertThat(leases.unspent(KEY)).isPositive();

        assertThat(leases.spend(KEY, T0 + LocalLeases.LEASE_MILLIS)).isNull();
    }

    @Test
    void aRequestThatReadTheClockJustBeforeTheGrantSpendsTheLeaseInsteadOfEndingIt() {
        for (int i = 0; i < 12; i++) {
            check(T0);
        }
        long unspent = leases.unspent(KEY);
        assertThat(unspent).isPositive();

        assertThat(leases.spend(KEY, T0 - 1)).isNotNull();
        assertThat(leases.unspent(KEY)).isEqualTo(unspent - 1);
    }

    @Test
    void resetDropsLeasesAndAGrantAnsweredAfterItIsNotKept() {
        for (int i = 0; i < 12; i++) {
            check(T0);
        }
        assertThat(leases.unspent(KEY)).isPositive();
        denials.forget(Set.of(KEY));
        assertThat(leases.unspent(KEY)).isZero();

        // a grant asked for before a reset and answered after it
        for (int i = 0; i < 3; i++) {
            check(T0);
        }
        while (leases.spend(KEY, T0) != null) {
            // spend what the node holds so the next check asks the bucket
        }
        long epoch = denials.epoch();
        LocalLeases.Renewal r = leases.renewal(KEY, T0);
        Decision d = TokenBuckets.take(POLICY, bucket, T0, r.ask());
        assertThat(d.leased()).isPositive();
        denials.forget(Set.of(KEY));
        Decision answered = leases.install(KEY, POLICY, r, d, T0, epoch);

        assertThat(answered.allowed()).isTrue();
        assertThat(leases.unspent(KEY)).isZero();
        assertThat(leases.endExpired(T0 + LocalLeases.LEASE_MILLIS)).isEmpty();
    }

    @Test
    void expiredLeasesAreEndedOnceWithTheirUnusedTokens() {
        for (int i = 0; i < 12; i++) {
            check(T0);
        }
        long unspent = leases.unspent(KEY);

        List<LocalLeases.Ended> ended = leases.endExpired(T0 + LocalLeases.LEASE_MILLIS);

        assertThat(ended).singleElement().satisfies(e -> {
            assertThat(e.key()).isEqualTo(KEY);
            assertThat(e.giveBack().unused()).isEqualTo(unspent);
            assertThat(e.giveBack().generation()).isEqualTo(bucket.leaseGeneration());
        });
        assertThat(leases.endExpired(T0 + LocalLeases.LEASE_MILLIS)).isEmpty();
        assertThat(leases.size()).isZero();
    }
}
