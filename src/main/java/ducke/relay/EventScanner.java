package ducke.relay;

/**
 * Finds the {@code type} of a realtime event without parsing it: audio frames are large and
 * constant, and only a few event types are ever parsed in full.
 */
final class EventScanner {

    private static final String KEY = "\"type\"";

    private EventScanner() {
    }

    /** The value of the first {@code "type"} key, or "" when there is none. */
    static String type(String frame) {
        int at = frame.indexOf(KEY);
        if (at < 0) {
            return "";
        }
        int i = at + KEY.length();
        int n = frame.length();
        while (i < n && Character.isWhitespace(frame.charAt(i))) {
            i++;
        }
        if (i >= n || frame.charAt(i) != ':') {
            return "";
        }
        i++;
        while (i < n && Character.isWhitespace(frame.charAt(i))) {
            i++;
        }
        if (i >= n || frame.charAt(i) != '"') {
            return "";
        }
        int end = frame.indexOf('"', i + 1);
        return end < 0 || end - i > 128 ? "" : frame.substring(i + 1, end);
    }
}
