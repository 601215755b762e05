package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SessionSlotsTest {

    private static final long T0 = 1_700_000_040_000L;
    private static final long EXPIRES = T0 + 30 * 60_000L;

    @Test
    void acquiresUpToTheMaximumThenRefuses() {
        SessionSlots s = SessionSlots.EMPTY;
        for (String id : new String[]{"a", "b", "c"}) {
            s = s.tryAcquire(id, EXPIRES, 3, T0);
            assertThat(s).as("slot for %s", id).isNotNull();
        }
        assertThat(s.size()).isEqualTo(3);
        assertThat(s.tryAcquire("d", EXPIRES, 3, T0)).isNull();
        assertThat(s.size()).as("a refusal changes nothing").isEqualTo(3);
    }

    @Test
    void theSameSessionTwiceTakesOneSlot() {
        SessionSlots s = SessionSlots.EMPTY.tryAcquire("a", EXPIRES, 3, T0).tryAcquire("a", EXPIRES, 3, T0 + 1);
        assertThat(s.size()).isEqualTo(1);
        SessionSlots full = s.tryAcquire("b", EXPIRES, 3, T0).tryAcquire("c", EXPIRES, 3, T0);
        assertThat(full.tryAcquire("c", EXPIRES + 5_000, 3, T0)).as("re-acquiring a held slot at the maximum").isNotNull();
        assertThat(full.tryAcquire("c", EXPIRES + 5_000, 3, T0).lapsesAtMillis())
                .containsEntry("c", EXPIRES + 5_000 + SessionSlots.GRACE_MILLIS);
    }

    @Test
    void theFirstSlotToFreeIsTheEarliestDurationCap() {
        SessionSlots s = SessionSlots.EMPTY.tryAcquire("late", EXPIRES + 60_000, 3, T0).tryAcquire("early", EXPIRES, 3, T0);
        assertThat(s.firstCapMillis(T0)).isEqualTo(EXPIRES);
        assertThat(SessionSlots.EMPTY.firstCapMillis(T0)).as("no slot held").isZero();
        assertThat(s.firstCapMillis(EXPIRES + 60_000 + SessionSlots.GRACE_MILLIS)).as("all lapsed").isZero();
    }

    @Test
    void releaseFreesASlot() {
        SessionSlots full = SessionSlots.EMPTY.tryAcquire("a", EXPIRES, 2, T0).tryAcquire("b", EXPIRES, 2, T0);
        assertThat(full.tryAcquire("c", EXPIRES, 2, T0)).isNull();
        SessionSlots released = full.release("a");
        assertThat(released.size()).isEqualTo(1);
        assertThat(released.lapsesAtMillis()).containsOnlyKeys("b");
        assertThat(released.tryAcquire("c", EXPIRES, 2, T0)).isNotNull();
        assertThat(full.size()).as("immutable").isEqualTo(2);
    }

    @Test
    void releasingAnUnknownSessionChangesNothing() {
        SessionSlots s = SessionSlots.EMPTY.tryAcquire("a", EXPIRES, 2, T0);
        assertThat(s.release("zzz")).isSameAs(s);
    }

    @Test
    void slotLapsesAGraceAfterItsSessionsDurationCap() {
        SessionSlots full = SessionSlots.EMPTY.tryAcquire("a", EXPIRES, 1, T0);
        long lapse = EXPIRES + SessionSlots.GRACE_MILLIS;
        assertThat(full.lapsesAtMillis()).containsEntry("a", lapse);
        assertThat(full.tryAcquire("b", EXPIRES, 1, EXPIRES)).as("at the duration cap, within the grace").isNull();
        assertThat(full.tryAcquire("b", EXPIRES, 1, lapse - 1)).isNull();

        SessionSlots after = full.tryAcquire("b", lapse + 30 * 60_000L, 1, lapse);
        assertThat(after).isNotNull();
        assertThat(after.lapsesAtMillis()).as("the lapsed slot is gone").containsOnlyKeys("b");
    }

    @Test
    void lastLapseIsTheLatestOfAllSlots() {
        assertThat(SessionSlots.EMPTY.lastLapseMillis()).isZero();
        SessionSlots s = SessionSlots.EMPTY.tryAcquire("a", EXPIRES, 3, T0).tryAcquire("b", EXPIRES + 10, 3, T0);
        assertThat(s.lastLapseMillis()).isEqualTo(EXPIRES + 10 + SessionSlots.GRACE_MILLIS);
    }

    @Test
    void copiesTheMapItIsGiven() {
        Map<String, Long> m = new HashMap<>();
        m.put("a", EXPIRES);
        SessionSlots s = new SessionSlots(m);
        m.put("b", EXPIRES);
        assertThat(s.size()).isEqualTo(1);
    }
}
