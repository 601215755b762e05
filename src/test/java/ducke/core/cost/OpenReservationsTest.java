package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A session's open reservations: what they hold, which expired, and their text form in the grid. */
class OpenReservationsTest {

    private static final String A = "res_0123456789abcdef01234567";
    private static final String B = "res_fedcba9876543210fedcba98";

    @Test
    void holdsEveryOpenReservationExpiredOrNotAndRoundTripsThroughItsTextForm() {
        OpenReservations r = OpenReservations.NONE.with(new OpenReservations.Open(A, 40_000_000, 1_000))
                .with(new OpenReservations.Open(B, 2, 2_000));
        assertThat(r.heldNanoUsd()).isEqualTo(40_000_002);
        assertThat(r.expired(999)).isEmpty();
        assertThat(r.expired(1_000)).extracting(OpenReservations.Open::id).containsExactly(A);
        assertThat(r.encode()).isEqualTo("v1\n" + A + " 40000000 1000\n" + B + " 2 2000");
        assertThat(OpenReservations.decode(r.encode())).isEqualTo(r);
        assertThat(r.without(A).open()).extracting(OpenReservations.Open::id).containsExactly(B);
        assertThat(r.without(A).without(B).isEmpty()).isTrue();
        assertThat(OpenReservations.decode(OpenReservations.NONE.encode())).isEqualTo(OpenReservations.NONE);
        assertThat(r.find(B)).isPresent();
        assertThat(r.find("res_000000000000000000000000")).isEmpty();
    }

    @Test
    void refusesWhatIsNotAReservation() {
        assertThatThrownBy(() -> OpenReservations.NONE.with(new OpenReservations.Open(A, 1, 1)).with(new OpenReservations.Open(A, 2, 2)))
                .isInstanceOf(IllegalArgumentException.class);
        for (String id : List.of("res_1", "RES_0123456789abcdef01234567", "res_0123456789ABCDEF01234567", "x")) {
            assertThat(OpenReservations.wellFormed(id)).as(id).isFalse();
            assertThatThrownBy(() -> new OpenReservations.Open(id, 1, 1)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new OpenReservations.Open(A, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenReservations.decode("v2\n" + A + " 1 1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenReservations.decode("v1\n" + A + " 1")).isInstanceOf(IllegalArgumentException.class);
    }
}
