package ducke.cli;

import net.sourceforge.argparse4j.inf.Argument;
import net.sourceforge.argparse4j.inf.ArgumentParser;
import net.sourceforge.argparse4j.inf.ArgumentParserException;
import net.sourceforge.argparse4j.inf.ArgumentType;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code --since}: a whole number and a unit ({@code 30m}, {@code 24h}, {@code 7d}, {@code 2 weeks}); anything else is a usage error. */
final class SinceArgument implements ArgumentType<SinceArgument.Since> {

    /** A parsed {@code --since}, shown as it was written (help prints the default as {@code 24h}). */
    record Since(Duration duration, String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    static final Since DEFAULT = new Since(Duration.ofHours(24), "24h");

    private static final Pattern SYNTAX = Pattern.compile("(\\d{1,6})\\s*([a-z]+)");

    @Override
    public Since convert(ArgumentParser parser, Argument arg, String value) throws ArgumentParserException {
        Matcher m = SYNTAX.matcher(value.strip().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration unit = switch (m.group(2)) {
                case "s", "sec", "secs", "second", "seconds" -> Duration.ofSeconds(1);
                case "m", "min", "mins", "minute", "minutes" -> Duration.ofMinutes(1);
                case "h", "hour", "hours" -> Duration.ofHours(1);
                case "d", "day", "days" -> Duration.ofDays(1);
                case "w", "week", "weeks" -> Duration.ofDays(7);
                default -> null;
            };
            if (unit != null && n > 0) {
                return new Since(unit.multipliedBy(n), value.strip());
            }
        }
        throw new ArgumentParserException("argument --since: '" + value
                + "' is not a duration; use a number and a unit, e.g. 30m, 24h, 7d or 2w", parser);
    }
}
