package ducke.db;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Where a page of a session's charges ended: the last row's time and key, opaque to clients. */
record ChargeCursor(long atMillis, String chargeKey) {

    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((atMillis + ":" + chargeKey).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException when the text is not a cursor this service made */
    static ChargeCursor decode(String text) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int colon = s.indexOf(':');
            String key = s.substring(colon + 1);
            if (colon < 1 || key.isEmpty() || key.length() > 512) {
                throw new IllegalArgumentException("not a cursor");
            }
            return new ChargeCursor(Long.parseLong(s.substring(0, colon)), key);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cursor is not valid", e);
        }
    }
}
