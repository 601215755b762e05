package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LocalDenialsTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final Bandwidth SIXTY_PER_MINUTE = new Bandwidth(60, 60_000);
    private static final String KEY = "status|203.0.113.7";

    private static Decision denial(long retryAfterMillis) {
        return new Decision(false, null, 60, 60, 0, 60_000, retryAfterMillis, SIXTY_PER_MINUTE, 60_000);
    }

    private static void remember(LocalDenials denials, String key, Decision d, long nowMillis) {
        denials.remember(key, d, nowMillis, denials.epoch());
    }

    @Test
    void remembersADenialUntilItsRetryTimeAndNoLonger() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);

        assertThat(denials.find(KEY, T0)).isNotNull();
        assertThat(denials.find(KEY, T0 + 999)).isNotNull();
        assertThat(denials.find(KEY, T0 + 1_000)).isNull();
        assertThat(denials.size()).isZero();
    }

    @Test
    void findsNothingForAnUnknownKey() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);

        assertThat(denials.find("status|198.51.100.1", T0)).isNull();
        assertThat(denials.find("websocket|203.0.113.7", T0)).isNull();
    }

    @Test
    void cachedDecisionIsADenialWhoseWaitShrinksAsTimePasses() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);

        Decision atOnce = denials.find(KEY, T0);
        Decision later = denials.find(KEY, T0 + 400);

        assertThat(atOnce.allowed()).isFalse();
        assertThat(atOnce.retryAfterMillis()).isEqualTo(1_000);
        assertThat(later.allowed()).isFalse();
        assertThat(later.retryAfterMillis()).isEqualTo(600);
        assertThat(later.resetMillis()).isEqualTo(59_600);
        assertThat(later.remaining()).isZero();
        assertThat(later.limit()).isEqualTo(60);
        assertThat(later.windowSeconds()).isEqualTo(60);
        assertThat(later.limiting()).isEqualTo(SIXTY_PER_MINUTE);
        assertThat(later.state()).isNull();
        assertThat(denials.find(KEY, T0 + 999).retryAfterMillis()).isEqualTo(1);
    }

    @Test
    void forgetRemovesTheNamedDenialsOnly() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);
        remember(denials, "weather|203.0.113.7", denial(1_000), T0);
        remember(denials, "status|198.51.100.1", denial(1_000), T0);

        int removed = denials.forget(List.of(KEY, "weather|203.0.113.7", "websocket|203.0.113.7"));

        assertThat(removed).isEqualTo(2);
        assertThat(denials.find(KEY, T0)).isNull();
        assertThat(denials.find("weather|203.0.113.7", T0)).isNull();
        assertThat(denials.find("status|198.51.100.1", T0)).isNotNull();
        assertThat(denials.size()).isEqualTo(1);
    }

    @Test
    void forgetBumpsTheEpoch() {
        LocalDenials denials = new LocalDenials(100);
        long before = denials.epoch();

        denials.forget(List.of());

        assertThat(denials.epoch()).isNotEqualTo(before);
    }

    @Test
    void denialFetchedBeforeAForgetIsNotCached() {
        LocalDenials denials = new LocalDenials(100);
        long epochBeforeAskingTheGrid = denials.epoch();

        denials.forget(List.of(KEY));
        denials.remember(KEY, denial(1_000), T0, epochBeforeAskingTheGrid);

        assertThat(denials.find(KEY, T0)).isNull();
        assertThat(denials.size()).isZero();
    }

    @Test
    void denialFetchedAfterAForgetIsCached() {
        LocalDenials denials = new LocalDenials(100);
        denials.forget(List.of(KEY));
        long epoch = denials.epoch();

        denials.remember(KEY, denial(1_000), T0, epoch);

        assertThat(denials.find(KEY, T0)).isNotNull();
    }

    @Test
    void allowedDecisionsAreNotCached() {
        LocalDenials denials = new LocalDenials(100);
        Decision allowed = new Decision(true, null, 60, 60, 5, 1_000, 0, SIXTY_PER_MINUTE, 1_000);

        remember(denials, KEY, allowed, T0);

        assertThat(denials.find(KEY, T0)).isNull();
        assertThat(denials.size()).isZero();
    }

    @Test
    void denialWithoutAWaitIsNotCached() {
        LocalDenials denials = new LocalDenials(100);

        remember(denials, KEY, denial(0), T0);

        assertThat(denials.size()).isZero();
    }

    @Test
    void whenFullAndNothingExpiredCachesNothingNew() {
        LocalDenials denials = new LocalDenials(2);
        remember(denials, "a", denial(1_000), T0);
        remember(denials, "b", denial(1_000), T0);

        remember(denials, "c", denial(1_000), T0 + 500);

        assertThat(denials.size()).isEqualTo(2);
        assertThat(denials.find("c", T0 + 500)).isNull();
        assertThat(denials.find("a", T0 + 500)).isNotNull();
        assertThat(denials.find("b", T0 + 500)).isNotNull();
    }

    @Test
    void whenFullSweepsExpiredEntriesToMakeRoom() {
        LocalDenials denials = new LocalDenials(2);
        remember(denials, "short", denial(500), T0);
        remember(denials, "long", denial(5_000), T0);

        remember(denials, "new", denial(1_000), T0 + 600);

        assertThat(denials.size()).isEqualTo(2);
        assertThat(denials.find("new", T0 + 600)).isNotNull();
        assertThat(denials.find("long", T0 + 600)).isNotNull();
        assertThat(denials.find("short", T0 + 600)).isNull();
    }

    @Test
    void neverHoldsMoreThanItsBound() {
        LocalDenials denials = new LocalDenials(10);

        for (int i = 0; i < 100; i++) {
            remember(denials, "k" + i, denial(60_000), T0 + i);
        }

        assertThat(denials.size()).isEqualTo(10);
    }

    @Test
    void zeroSizedCacheRemembersNothing() {
        LocalDenials denials = new LocalDenials(0);

        remember(denials, KEY, denial(1_000), T0);

        assertThat(denials.find(KEY, T0)).isNull();
    }

    @Test
    void clockGoingBackBeforeTheDenialDropsTheEntry() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);

        assertThat(denials.find(KEY, T0 - 1)).isNull();
        assertThat(denials.size()).isZero();
        assertThat(denials.find(KEY, T0 + 10)).isNull();
    }

    @Test
    void aNewerDenialReplacesTheOlderOne() {
        LocalDenials denials = new LocalDenials(100);
        remember(denials, KEY, denial(1_000), T0);

        remember(denials, KEY, denial(5_000), T0 + 500);

        assertThat(denials.size()).isEqualTo(1);
        assertThat(denials.find(KEY, T0 + 500).retryAfterMillis()).isEqualTo(5_000);
    }
}
