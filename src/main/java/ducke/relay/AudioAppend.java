package ducke.relay;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Recognises an {@code input_audio_buffer.append} in its UTF-8 bytes without parsing it: audio is
 * large and constant, and this is the hot path from the client to the upstream. Only the plain
 * shape the SDKs send is taken here — one flat object whose keys are {@code type}, optionally
 * {@code event_id}, and {@code audio}, each once, with string values of printable ASCII free of
 * escapes. Anything else (a nested or repeated {@code type}, an unexpected key, any non-ASCII byte)
 * goes to the full parser, so a frame cannot pass as audio while the upstream reads it as another
 * event, and what passes here is valid UTF-8. Reads by absolute index: the position is left alone.
 */
final class AudioAppend {

    static final String TYPE = "input_audio_buffer.append";

    private static final byte[] TYPE_BYTES = TYPE.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEY_TYPE = "type".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEY_EVENT_ID = "event_id".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEY_AUDIO = "audio".getBytes(StandardCharsets.US_ASCII);

    private AudioAppend() {
    }

    /** The length of the base64 audio of a plain append frame, or -1 when the frame is anything else. */
    static long audioChars(ByteBuffer frame) {
        int n = frame.limit();
        int i = EventScanner.skipSpace(frame, frame.position());
        if (i >= n || frame.get(i) != '{') {
            return -1;
        }
        boolean type = false;
        boolean eventId = false;
        long audio = -1;
        i = EventScanner.skipSpace(frame, i + 1);
        while (true) {
            int keyStart = i + 1;
            int keyEnd = string(frame, i);
            if (keyEnd < 0) {
                return -1;
            }
            i = EventScanner.skipSpace(frame, keyEnd + 1);
            if (i >= n || frame.get(i) != ':') {
                return -1;
            }
            i = EventScanner.skipSpace(frame, i + 1);
            int valueStart = i + 1;
            int valueEnd = string(frame, i);
            if (valueEnd < 0) {
                return -1;
            }
            if (equal(frame, keyStart, keyEnd, KEY_TYPE)) {
                if (type || !equal(frame, valueStart, valueEnd, TYPE_BYTES)) {
                    return -1;
                }
                type = true;
            } else if (equal(frame, keyStart, keyEnd, KEY_EVENT_ID)) {
                if (eventId) {
                    return -1;
                }
                eventId = true;
            } else if (equal(frame, keyStart, keyEnd, KEY_AUDIO)) {
                if (audio >= 0) {
                    return -1;
                }
                audio = valueEnd - valueStart;
            } else {
                return -1;
            }
            i = EventScanner.skipSpace(frame, valueEnd + 1);
            if (i >= n) {
                return -1;
            }
            byte c = frame.get(i);
            if (c == '}') {
                return type && audio >= 0 && EventScanner.skipSpace(frame, i + 1) == n ? audio : -1;
            }
            if (c != ',') {
                return -1;
            }
            i = EventScanner.skipSpace(frame, i + 1);
        }
    }

    /** Index of the closing quote of a printable-ASCII string without escapes starting at {@code at}, or -1. */
    private static int string(ByteBuffer b, int at) {
        int n = b.limit();
        if (at >= n || b.get(at) != '"') {
            return -1;
        }
        for (int i = at + 1; i < n; i++) {
            byte c = b.get(i);
            if (c == '"') {
                return i;
            }
            // negative: a byte of a multi-byte UTF-8 sequence
            if (c == '\\' || c < 0x20 || c == 0x7f) {
                return -1;
            }
        }
        return -1;
    }

    private static boolean equal(ByteBuffer b, int from, int to, byte[] expected) {
        if (to - from != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (b.get(from + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
