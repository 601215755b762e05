package ducke.db;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Where a page of audit sessions ended: the last row's end time and id, opaque to clients. */
record Cursor(long endedAtMillis, String sessionId) {

    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((endedAtMillis + ":" + sessionId).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException when the text is not a cursor this service made */
    static Cursor decode(String text) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int colon = s.indexOf(':');
            String id = s.substring(colon + 1);
            if (colon < 1 || id.isEmpty() || id.length() > 64) {
                throw new IllegalArgumentException("not a cursor");
            }
            return new Cursor(Long.parseLong(s.substring(0, colon)), id);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cursor is not valid", e);
        }
    }
}
