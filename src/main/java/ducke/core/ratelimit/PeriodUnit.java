package ducke.core.ratelimit;

import java.util.Locale;

/** The time units of the limit syntax, with their singular and plural spellings. */
public enum PeriodUnit {
    SECOND(1_000L),
    MINUTE(60_000L),
    HOUR(3_600_000L),
    DAY(86_400_000L);

    private final long millis;

    PeriodUnit(long millis) {
        this.millis = millis;
    }

    public long millis() {
        return millis;
    }

    /** Parses {@code second}, {@code seconds}, {@code minute}, … (case-insensitive); null when unknown. */
    static PeriodUnit parse(String word) {
        String w = word.toLowerCase(Locale.ROOT);
        if (w.endsWith("s")) {
            w = w.substring(0, w.length() - 1);
        }
        for (PeriodUnit u : values()) {
            if (u.name().toLowerCase(Locale.ROOT).equals(w)) {
                return u;
            }
        }
        return null;
    }

    /** Describes a period in the largest unit that divides it: 60000 → "1 minute", 7200000 → "2 hours". */
    static String describe(long periodMillis) {
        PeriodUnit[] units = values();
        for (int i = units.length - 1; i >= 0; i--) {
            if (periodMillis % units[i].millis == 0) {
                long n = periodMillis / units[i].millis;
                return n + " " + units[i].name().toLowerCase(Locale.ROOT) + (n == 1 ? "" : "s");
            }
        }
        return periodMillis + " milliseconds";
    }
}
