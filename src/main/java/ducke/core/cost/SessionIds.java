package ducke.core.cost;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Session ids: {@code sess_} and 32 random hex digits; unguessable, so an id is as good as a handle. */
public final class SessionIds {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern FORM = Pattern.compile("sess_[0-9a-f]{32}");

    private SessionIds() {
    }

    public static String next() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return "sess_" + HexFormat.of().formatHex(b);
    }

    public static boolean wellFormed(String id) {
        return id != null && FORM.matcher(id).matches();
    }
}
