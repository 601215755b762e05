package ducke.resources;

import java.util.Arrays;
import java.util.stream.Collectors;

/** RFC 4180 rows: fields with a comma, quote or line break are quoted, quotes doubled. */
final class Csv {

    private Csv() {
    }

    static String row(Object... fields) {
        return Arrays.stream(fields).map(f -> field(String.valueOf(f))).collect(Collectors.joining(",")) + "\n";
    }

    private static String field(String s) {
        boolean quote = s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r");
        String safe = !s.isEmpty() && "=+-@".indexOf(s.charAt(0)) >= 0 ? "'" + s : s;
        return quote ? "\"" + safe.replace("\"", "\"\"") + "\"" : safe;
    }
}
