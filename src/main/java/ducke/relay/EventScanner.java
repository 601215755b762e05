package ducke.relay;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Finds the {@code type} of a realtime event in its UTF-8 bytes without parsing it: audio frames
 * are large and constant, and only a few event types are ever parsed in full. The scan walks the
 * top-level object only (a nested {@code "type"} is skipped with its value), stops at the first
 * top-level {@code type}, and decodes JSON escapes in keys and in the value, so that an escaped
 * spelling of an event that matters is not relayed unread. Multi-byte UTF-8 never matches the
 * ASCII delimiters it looks for, so payload text in any language passes the scan unchanged.
 * Reads the buffer by absolute index: its position is left alone.
 */
final class EventScanner {

    /** Longest string value taken, in bytes (an event type, an event id): a longer one is none of them. */
    private static final int MAX_VALUE_BYTES = 256;

    private EventScanner() {
    }

    /** The value of the top-level {@code "type"} key, or "" when there is none or the frame is no JSON object. */
    static String type(ByteBuffer frame) {
        return string(frame, "type");
    }

    /**
     * The string value of the first top-level {@code key} (at most 16 bytes long), or "" when there is none,
     * it is no string (or longer than 256 bytes), or the frame is no JSON object.
     */
    static String string(ByteBuffer frame, String key) {
        int end = frame.limit();
        int i = skipSpace(frame, frame.position());
        if (i >= end || frame.get(i) != '{') {
            return "";
        }
        i++;
        while (true) {
            i = skipSpace(frame, i);
            if (i >= end || frame.get(i) != '"') {
                return "";
            }
            int keyEnd = stringEnd(frame, i);
            if (keyEnd < 0) {
                return "";
            }
            boolean isKey = key.equals(decode(frame, i + 1, keyEnd, 16));
            i = skipSpace(frame, keyEnd + 1);
            if (i >= end || frame.get(i) != ':') {
                return "";
            }
            i = skipSpace(frame, i + 1);
            if (isKey) {
                int valueEnd = i < end && frame.get(i) == '"' ? stringEnd(frame, i) : -1;
                if (valueEnd < 0 || valueEnd - i - 1 > MAX_VALUE_BYTES) {
                    return "";
                }
                String value = decode(frame, i + 1, valueEnd, MAX_VALUE_BYTES);
                return value == null ? "" : value;
            }
            i = skipValue(frame, i);
            if (i < 0) {
                return "";
            }
            i = skipSpace(frame, i);
            if (i >= end || frame.get(i) != ',') {
                return "";
            }
            i++;
        }
    }

    /** Index of the quote closing the string whose opening quote is at {@code at}, or -1. */
    static int stringEnd(ByteBuffer b, int at) {
        int end = b.limit();
        for (int i = at + 1; i < end; i++) {
            byte c = b.get(i);
            if (c == '"') {
                return i;
            }
            if (c == '\\') {
                i++;
            }
        }
        return -1;
    }

    /** Index just past the JSON value starting at {@code at}, or -1 when it does not end in the frame. */
    private static int skipValue(ByteBuffer b, int at) {
        int end = b.limit();
        if (at >= end) {
            return -1;
        }
        byte first = b.get(at);
        if (first == '"') {
            int close = stringEnd(b, at);
            return close < 0 ? -1 : close + 1;
        }
        if (first == '{' || first == '[') {
            int depth = 0;
            for (int i = at; i < end; i++) {
                byte c = b.get(i);
                if (c == '"') {
                    i = stringEnd(b, i);
                    if (i < 0) {
                        return -1;
                    }
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                    return i + 1;
                }
            }
            return -1;
        }
        int i = at;
        while (i < end) {
            byte c = b.get(i);
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                break;
            }
            i++;
        }
        return i == at ? -1 : i;
    }

    static int skipSpace(ByteBuffer b, int i) {
        int end = b.limit();
        while (i < end) {
            byte c = b.get(i);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                break;
            }
            i++;
        }
        return i;
    }

    /** The JSON string content between {@code from} and {@code to}, escapes decoded; null when longer than {@code max} bytes. */
    private static String decode(ByteBuffer b, int from, int to, int max) {
        if (to - from > max) {
            return null;
        }
        byte[] raw = new byte[to - from];
        boolean escaped = false;
        for (int i = 0; i < raw.length; i++) {
            raw[i] = b.get(from + i);
            escaped |= raw[i] == '\\';
        }
        String s = new String(raw, StandardCharsets.UTF_8);
        return escaped ? unescape(s) : s;
    }

    /** JSON escapes resolved; a broken escape yields null (no type can match it). */
    private static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= s.length()) {
                return null;
            }
            char e = s.charAt(i);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (i + 4 >= s.length()) {
                        return null;
                    }
                    int code = 0;
                    for (int k = 1; k <= 4; k++) {
                        int digit = Character.digit(s.charAt(i + k), 16);
                        if (digit < 0) {
                            return null;
                        }
                        code = code * 16 + digit;
                    }
                    out.append((char) code);
                    i += 4;
                }
                default -> {
                    return null;
                }
            }
        }
        return out.toString();
    }
}
