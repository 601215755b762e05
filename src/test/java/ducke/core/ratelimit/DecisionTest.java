package ducke.core.ratelimit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class DecisionTest {

    private static final Bandwidth BAND = new Bandwidth(60, 60_000);

    private static Decision denied(long resetMillis, long retryAfterMillis) {
        return new Decision(false, null, 60, 60, 0, resetMillis, retryAfterMillis, BAND, 0);
    }

    @ParameterizedTest(name = "{0} ms -> Retry-After {1} s")
    @CsvSource({
            "0, 1",
            "1, 1",
            "999, 1",
            "1000, 1",
            "1001, 2",
            "1999, 2",
            "2000, 2",
            "720000, 720",
            "720001, 721",
    })
    void retryAfterSecondsRoundsUpAndIsAtLeastOne(long retryAfterMillis, long expectedSeconds) {
        assertThat(denied(0, retryAfterMillis).retryAfterSeconds()).isEqualTo(expectedSeconds);
    }

    @ParameterizedTest(name = "{0} ms -> reset {1} s")
    @CsvSource({
            "0, 0",
            "1, 1",
            "999, 1",
            "1000, 1",
            "1001, 2",
            "48000, 48",
            "59999, 60",
    })
    void resetSecondsRoundsUp(long resetMillis, long expectedSeconds) {
        assertThat(denied(resetMillis, 1_000).resetSeconds()).isEqualTo(expectedSeconds);
    }
}
