package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MoneyTest {

    @Test
    void formatsWholeAmountsWithTwoDecimals() {
        assertThat(Money.usd(7_000_000_000L)).isEqualByComparingTo(new BigDecimal("7.00"));
        assertThat(Money.usd(7_000_000_000L).toPlainString()).isEqualTo("7.00");
        assertThat(Money.usd(7_000_000_000L)).hasToString("7.00");
        assertThat(Money.usd(10_500_000_000L).toPlainString()).isEqualTo("10.50");
        assertThat(Money.usd(0).toPlainString()).isEqualTo("0.00");
        assertThat(Money.usd(1_000_000_000_000L).toPlainString()).isEqualTo("1000.00");
    }

    @Test
    void formatsTheSmallestAmountWithoutLosingIt() {
        assertThat(Money.usd(1)).isEqualByComparingTo(new BigDecimal("0.000000001"));
        assertThat(Money.usd(1).toPlainString()).isEqualTo("0.000000001");
    }

    @Test
    void keepsSignificantDecimalsButNoTrailingNoise() {
        assertThat(Money.usd(40_120_000L).toPlainString()).isEqualTo("0.04012");
        assertThat(Money.usd(1_230_000_000L).toPlainString()).isEqualTo("1.23");
        assertThat(Money.usd(1_234_567_891L).toPlainString()).isEqualTo("1.234567891");
    }

    @Test
    void convertsDecimalUsdToExactNanos() {
        assertThat(Money.nanoUsd("7.00")).isEqualTo(7_000_000_000L);
        assertThat(Money.nanoUsd(" 10.5 ")).isEqualTo(10_500_000_000L);
        assertThat(Money.nanoUsd("0.000000001")).isEqualTo(1L);
        assertThat(Money.nanoUsd(new BigDecimal("0.4"))).isEqualTo(400_000_000L);
        assertThat(Money.nanoUsd("1.0000000000")).as("trailing zeros are still exact").isEqualTo(1_000_000_000L);
    }

    @Test
    void roundTripsEveryFormattedAmount() {
        for (long nanos : new long[]{0, 1, 999, 1_000_000_000L, 4_000_000_000L, 10_500_000_000L, 123_456_789_012L}) {
            assertThat(Money.nanoUsd(Money.usd(nanos))).as("%d nanos", nanos).isEqualTo(nanos);
        }
    }

    @Test
    void refusesMoreThanNineDecimals() {
        assertThatThrownBy(() -> Money.nanoUsd("0.0000000001"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0.0000000001");
        assertThatThrownBy(() -> Money.nanoUsd("1.0000000005")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesAmountsTooLargeForALong() {
        assertThatThrownBy(() -> Money.nanoUsd("10000000000")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void basisPointsRoundDown() {
        assertThat(Money.basisPoints(4_000_000_000L, 5_000_000_000L)).isEqualTo(8000);
        assertThat(Money.basisPoints(3_999_999_999L, 5_000_000_000L)).isEqualTo(7999);
        assertThat(Money.basisPoints(5_000_000_000L, 5_000_000_000L)).isEqualTo(10_000);
        assertThat(Money.basisPoints(0, 5_000_000_000L)).isZero();
    }

    @Test
    void basisPointsOfANonPositiveWholeAreFullOnlyForPositiveParts() {
        assertThat(Money.basisPoints(1, 0)).isEqualTo(10_000);
        assertThat(Money.basisPoints(0, 0)).isZero();
    }
}
