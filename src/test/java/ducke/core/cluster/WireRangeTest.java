package ducke.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WireRangeTest {

    @Test
    void aClusterWritesTheNewestVersionEveryMemberReads() {
        assertThat(WireRange.common(List.of(new WireRange(1, 1)))).isEqualTo(OptionalInt.of(1));
        // the next release joins the previous one: both write 1 until the last older member leaves
        assertThat(WireRange.common(List.of(new WireRange(1, 2), new WireRange(1, 1), new WireRange(1, 2))))
                .isEqualTo(OptionalInt.of(1));
        assertThat(WireRange.common(List.of(new WireRange(1, 2), new WireRange(2, 3)))).isEqualTo(OptionalInt.of(2));
        assertThat(WireRange.common(List.of(new WireRange(2, 3), new WireRange(1, 3)))).isEqualTo(OptionalInt.of(3));
    }

    @Test
    void releasesTwoVersionsApartShareNone() {
        assertThat(WireRange.common(List.of(new WireRange(1, 1), new WireRange(2, 3)))).isEmpty();
        assertThat(WireRange.common(List.of(new WireRange(1, 2), new WireRange(2, 3), new WireRange(3, 4)))).isEmpty();
        assertThat(WireRange.common(List.of())).isEmpty();
    }

    @Test
    void anAnnouncedRangeReadsBackAndGarbageIsRefused() {
        assertThat(WireRange.decode(new WireRange(2, 5).encode())).isEqualTo(new WireRange(2, 5));
        assertThat(WireRange.decode(null)).isNull();
        assertThat(WireRange.decode(" ")).isNull();
        assertThat(new WireRange(2, 5).reads(2)).isTrue();
        assertThat(new WireRange(2, 5).reads(6)).isFalse();
        assertThat(new WireRange(2, 5).reads(1)).isFalse();
        for (String bad : List.of("7", "a-b", "3-2", "0-1", "1-200")) {
            assertThatThrownBy(() -> WireRange.decode(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
