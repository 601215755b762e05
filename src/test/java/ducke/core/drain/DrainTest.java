package ducke.core.drain;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DrainTest {

    private static final long T0 = 1_800_000_000_000L;
    private static final long FIVE_MINUTES = 300_000;

    @Test
    void servesUntilStartedThenRefusesForGood() {
        Drain drain = new Drain(FIVE_MINUTES);
        assertThat(drain.draining()).isFalse();
        assertThat(drain.start(T0)).isTrue();
        assertThat(drain.draining()).isTrue();
        drain.next(T0, 0);
        assertThat(drain.draining()).isTrue();
        assertThat(drain.status().phase()).isEqualTo(Drain.Phase.DRAINED);
    }

    @Test
    void aSecondStartChangesNothing() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        assertThat(drain.start(T0 + 60_000)).isFalse();
        assertThat(drain.status().startedAtMillis()).isEqualTo(T0);
        assertThat(drain.status().deadlineMillis()).isEqualTo(T0 + FIVE_MINUTES);
        assertThat(drain.next(T0 + 60_000, 2)).isEqualTo(new Drain.Step(Drain.Step.Kind.WAIT, FIVE_MINUTES - 60_000, null));
    }

    @Test
    void waitsForLiveSessionsUntilTheDeadline() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        Drain.Step step = drain.next(T0 + 1_000, 3);
        assertThat(step.kind()).isEqualTo(Drain.Step.Kind.WAIT);
        assertThat(step.waitMillis()).isEqualTo(FIVE_MINUTES - 1_000);
        assertThat(drain.next(T0 + FIVE_MINUTES - 1, 1).waitMillis()).isEqualTo(1);
    }

    @Test
    void stopsAsSoonAsTheLastSessionHasEnded() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        assertThat(drain.next(T0 + 10_000, 1).kind()).isEqualTo(Drain.Step.Kind.WAIT);
        assertThat(drain.next(T0 + 20_000, 0)).isEqualTo(Drain.Step.STOP);
        assertThat(drain.next(T0 + 30_000, 4)).isEqualTo(Drain.Step.STOP);
    }

    @Test
    void endsTheRestAtTheTimeoutThenStops() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        assertThat(drain.next(T0 + FIVE_MINUTES, 2)).isEqualTo(new Drain.Step(Drain.Step.Kind.END_REST, 0, Drain.Cut.TIMEOUT));
        assertThat(drain.status().phase()).isEqualTo(Drain.Phase.ENDING);
        assertThat(drain.next(T0 + FIVE_MINUTES + 5_000, 1)).isEqualTo(Drain.Step.STOP);
    }

    @Test
    void aCutEndsTheRestBeforeTheTimeout() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        drain.next(T0 + 1_000, 2);
        drain.cut(T0 + 2_000);
        assertThat(drain.next(T0 + 2_000, 2)).isEqualTo(new Drain.Step(Drain.Step.Kind.END_REST, 0, Drain.Cut.OPERATOR));
    }

    @Test
    void aCutBeforeAnyDrainStartsOneThatEndsAtOnce() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.cut(T0);
        assertThat(drain.draining()).isTrue();
        assertThat(drain.next(T0, 1).kind()).isEqualTo(Drain.Step.Kind.END_REST);
    }

    @Test
    void aClockGoingBackwardsKeepsTheDeadline() {
        Drain drain = new Drain(FIVE_MINUTES);
        drain.start(T0);
        assertThat(drain.next(T0 - 10_000, 1).waitMillis()).isEqualTo(FIVE_MINUTES + 10_000);
        assertThat(drain.next(T0 + FIVE_MINUTES, 1).kind()).isEqualTo(Drain.Step.Kind.END_REST);
    }

    @Test
    void aZeroTimeoutEndsLiveSessionsAtOnce() {
        Drain drain = new Drain(0);
        drain.start(T0);
        assertThat(drain.next(T0, 1).cut()).isEqualTo(Drain.Cut.TIMEOUT);
    }

    @Test
    void askingBeforeAnyDrainIsAMistake() {
        assertThatThrownBy(() -> new Drain(FIVE_MINUTES).next(T0, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new Drain(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
