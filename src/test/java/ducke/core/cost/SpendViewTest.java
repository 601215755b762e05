package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SpendViewTest {

    private static final long T0 = 1_700_000_040_000L;

    private static SpendLedger.Snapshot snap(long hourly, boolean open, long closesAt, long asOf) {
        return new SpendLedger.Snapshot(hourly, hourly, open, open ? asOf : 0, closesAt, open ? "spend" : "", 0, asOf);
    }

    @Test
    void startsWithNothingKnownAndTheBreakerClosed() {
        SpendView v = new SpendView();
        assertThat(v.get().hourlyNanoUsd()).isZero();
        assertThat(v.breakerOpen(T0)).isFalse();
    }

    @Test
    void newerSnapshotReplacesOlderOneNotTheOtherWayRound() {
        SpendView v = new SpendView();
        v.offer(snap(10, false, 0, T0 + 100));
        v.offer(snap(5, false, 0, T0 + 50));
        assertThat(v.get().hourlyNanoUsd()).isEqualTo(10);
        v.offer(snap(20, false, 0, T0 + 100));
        assertThat(v.get().hourlyNanoUsd()).as("same time: the later offer wins").isEqualTo(20);
        v.offer(snap(30, false, 0, T0 + 200));
        assertThat(v.get().hourlyNanoUsd()).isEqualTo(30);
    }

    @Test
    void forcedSnapshotWinsWhateverItsTime() {
        SpendView v = new SpendView();
        v.offer(snap(10, false, 0, T0 + 100));
        v.force(snap(10, true, T0 + 3_600_000, T0));
        assertThat(v.breakerOpen(T0 + 100)).isTrue();
    }

    @Test
    void breakerIsOpenUntilItsClosingTime() {
        SpendView v = new SpendView();
        v.offer(snap(0, true, T0 + 1_000, T0));
        assertThat(v.breakerOpen(T0 + 999)).isTrue();
        assertThat(v.breakerOpen(T0 + 1_000)).isFalse();
    }
}
