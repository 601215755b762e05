package ducke.core.ratelimit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LimitParserTest {

    private static final long SECOND = 1_000L;
    private static final long MINUTE = 60 * SECOND;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;

    @ParameterizedTest(name = "''{0}'' -> {1} per {2} ms")
    @CsvSource(delimiter = '|', value = {
            "60/minute        | 60  | 60000",
            "10 per hour      | 10  | 3600000",
            "100 per 2 days   | 100 | 172800000",
            "5/Minute         | 5   | 60000",
            "5/MINUTE         | 5   | 60000",
            "5 PER Minute     | 5   | 60000",
            "1/second         | 1   | 1000",
            "2/3 hours        | 2   | 10800000",
            "2/3hours         | 2   | 10800000",
            "7/seconds        | 7   | 1000",
            "7/minutes        | 7   | 60000",
            "7 per days       | 7   | 86400000",
            "30 per 1 minute  | 30  | 60000",
            "4 per 90 seconds | 4   | 90000",
            "12/day           | 12  | 86400000",
    })
    void parsesOneBandwidth(String text, long capacity, long periodMillis) {
        LimitPolicy policy = LimitParser.parse(text);

        assertThat(policy.bandwidths()).containsExactly(new Bandwidth(capacity, periodMillis));
    }

    @Test
    void toleratesSurroundingAndInnerSpaces() {
        assertThat(LimitParser.parse("  60 / minute \t").bandwidths())
                .containsExactly(new Bandwidth(60, MINUTE));
    }

    @Test
    void joinsSeveralLimitsWithSemicolonsInOrder() {
        LimitPolicy policy = LimitParser.parse("5/minute; 100/day");

        assertThat(policy.bandwidths()).containsExactly(new Bandwidth(5, MINUTE), new Bandwidth(100, DAY));
        assertThat(policy.size()).isEqualTo(2);
    }

    @Test
    void acceptsMixedFormsInOneJoinedLimit() {
        LimitPolicy policy = LimitParser.parse("2/second ;10 per 3 hours;  100 per day ");

        assertThat(policy.bandwidths()).containsExactly(
                new Bandwidth(2, SECOND), new Bandwidth(10, 3 * HOUR), new Bandwidth(100, DAY));
    }

    @Test
    void acceptsEightJoinedLimits() {
        String eight = "1/second;2/second;3/second;4/second;5/second;6/second;7/second;8/second";

        assertThat(LimitParser.parse(eight).size()).isEqualTo(LimitPolicy.MAX_BANDWIDTHS);
    }

    @Test
    void acceptsAPeriodOfExactlyAYearOfDays() {
        assertThat(LimitParser.parse("5/366 days").bandwidths()).containsExactly(new Bandwidth(5, 366 * DAY));
    }

    @Test
    void describesLimitInWords() {
        assertThat(LimitParser.parse("5/minute").describe()).isEqualTo("5 per 1 minute");
        assertThat(LimitParser.parse("5/minute; 100/day").describe()).isEqualTo("5 per 1 minute; 100 per 1 day");
        assertThat(LimitParser.parse("10 per 2 hours").get(0).describe()).isEqualTo("10 per 2 hours");
        assertThat(LimitParser.parse("1/120 seconds").get(0).describe()).isEqualTo("1 per 2 minutes");
    }

    @Test
    void writesIetfPolicyHeader() {
        assertThat(LimitParser.parse("60/minute").policyHeader()).isEqualTo("60;w=60");
        assertThat(LimitParser.parse("5/minute; 100/day").policyHeader()).isEqualTo("5;w=60, 100;w=86400");
        assertThat(LimitParser.parse("2/3 hours").policyHeader()).isEqualTo("2;w=10800");
    }

    @ParameterizedTest(name = "rejects ''{0}''")
    @NullSource
    @ValueSource(strings = {
            "",
            " ",
            "   \t ",
            "abc",
            "0/minute",
            "00/minute",
            "-5/minute",
            "+5/minute",
            "5/fortnight",
            "5/week",
            "5/s",
            "5/ms",
            "5 minute",
            "5minute",
            "5per minute",
            "/minute",
            "5/",
            "5 per",
            "per minute",
            "5/minute;",
            ";5/minute",
            "5/minute;;100/day",
            ";",
            "1.5/minute",
            "5/1.5 minutes",
            "5/0 minutes",
            "5/-2 minutes",
            "5//minute",
            "5/minute/hour",
            "5/minute 100/day",
            "5/minute,100/day",
            "five/minute",
            "5/2 3 minutes",
    })
    void rejectsMalformedLimits(String text) {
        assertThatThrownBy(() -> LimitParser.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "rejects ''{0}''")
    @ValueSource(strings = {
            "5/367 days",
            "5/8785 hours",
            "5/527041 minutes",
            "5/31622401 seconds",
            "5/999999999 days",
            "5/9999999999 seconds",
            "1000000000000/minute",
            "99999999999999999999/minute",
            "999999999999/366 days",
            "999999999999/day",
            "5/99999999999999999999 seconds",
    })
    void rejectsAbsurdlyLargeCountsAndPeriods(String text) {
        assertThatThrownBy(() -> LimitParser.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsMoreThanEightJoinedLimits() {
        String nine = "1/second;2/second;3/second;4/second;5/second;6/second;7/second;8/second;9/second";

        assertThatThrownBy(() -> LimitParser.parse(nine))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8");
    }

    @Test
    void saysWhichPartIsWrong() {
        assertThatThrownBy(() -> LimitParser.parse("5/minute; 7/fortnight"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fortnight");
        assertThatThrownBy(() -> LimitParser.parse("5/minute; abc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'abc'");
    }
}
