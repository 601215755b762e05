package ducke.core.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Money is held as a {@code long} count of nano-dollars (10⁻⁹ USD): exact, and wide enough for
 * 9.2 billion dollars. These helpers convert at the edges only.
 */
public final class Money {

    public static final long NANOS_PER_USD = 1_000_000_000L;

    private Money() {
    }

    /** Exact conversion of a decimal USD amount; more than 9 decimal places is refused. */
    public static long nanoUsd(BigDecimal usd) {
        try {
            return usd.movePointRight(9).setScale(0, RoundingMode.UNNECESSARY).longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + usd.toPlainString() + "' is not an exact USD amount of at most 9 decimals", e);
        }
    }

    public static long nanoUsd(String usd) {
        return nanoUsd(new BigDecimal(usd.strip()));
    }

    /** The amount as a decimal with at least two places and no trailing noise: 7000000000 → 7.00, 1 → 0.000000001. */
    public static BigDecimal usd(long nanoUsd) {
        BigDecimal exact = BigDecimal.valueOf(nanoUsd, 9).stripTrailingZeros();
        return exact.scale() < 2 ? exact.setScale(2, RoundingMode.UNNECESSARY) : exact;
    }

    /** {@code part} as a share of {@code whole} in basis points (1/100 of a percent), rounded down. */
    public static long basisPoints(long part, long whole) {
        if (whole <= 0) {
            return part > 0 ? 10_000 : 0;
        }
        return BigDecimal.valueOf(part).multiply(BigDecimal.valueOf(10_000))
                .divide(BigDecimal.valueOf(whole), 0, RoundingMode.DOWN).longValueExact();
    }
}
