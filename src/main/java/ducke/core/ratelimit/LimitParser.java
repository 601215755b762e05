package ducke.core.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the limit syntax of the original service: {@code N/second|minute|hour|day},
 * {@code N per unit}, {@code N per M units}, {@code N/M units}, several joined by {@code ;}.
 * Anything else is rejected with a message that says what was wrong.
 */
public final class LimitParser {

    private static final Pattern ONE = Pattern.compile(
            "^\\s*(\\d{1,12})\\s*(?:/|\\s+per\\s+)\\s*(?:(\\d{1,9})\\s*)?([A-Za-z]+)\\s*$",
            Pattern.CASE_INSENSITIVE);

    private LimitParser() {
    }

    public static LimitPolicy parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("a limit is required, e.g. '60/minute'");
        }
        List<Bandwidth> bandwidths = new ArrayList<>();
        for (String part : text.split(";", -1)) {
            bandwidths.add(parseOne(part));
        }
        return new LimitPolicy(bandwidths);
    }

    private static Bandwidth parseOne(String part) {
        Matcher m = ONE.matcher(part);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + part.strip() + "' is not a limit; expected e.g. '60/minute', '10 per hour' or '100 per 2 days'");
        }
        long count = Long.parseLong(m.group(1));
        long multiplier = m.group(2) == null ? 1 : Long.parseLong(m.group(2));
        PeriodUnit unit = PeriodUnit.parse(m.group(3));
        if (unit == null) {
            throw new IllegalArgumentException("'" + m.group(3) + "' is not a time unit; use second, minute, hour or day");
        }
        if (count < 1) {
            throw new IllegalArgumentException("'" + part.strip() + "' allows nothing; the count must be at least 1");
        }
        if (multiplier < 1) {
            throw new IllegalArgumentException("'" + part.strip() + "' has an empty period");
        }
        if (multiplier > 366 * PeriodUnit.DAY.millis() / unit.millis()) {
            throw new IllegalArgumentException("'" + part.strip() + "' has a period longer than a year");
        }
        return new Bandwidth(count, multiplier * unit.millis());
    }
}
