package ducke.relay;

import java.util.List;
import java.util.Locale;

/**
 * What a client offers in {@code Sec-WebSocket-Protocol}. Browser builds of the official SDKs (and
 * undici's standard WebSocket) offer {@code realtime} and carry their key and options as further
 * entries: {@code openai-insecure-api-key.<key>}, {@code openai-beta.realtime-v1},
 * {@code openai-agents-sdk.<version>}, {@code openai-organization.*}, {@code openai-project.*}. Only
 * {@code realtime} is ever selected; the others are read here and never echoed, logged or forwarded.
 *
 * @param key the value of {@code openai-insecure-api-key.*}, or null
 */
record Subprotocols(boolean realtime, boolean beta, String key) {

    static final String REALTIME = "realtime";
    private static final String KEY_PREFIX = "openai-insecure-api-key.";

    static Subprotocols parse(List<String> offered) {
        boolean realtime = false;
        boolean beta = false;
        String key = null;
        for (String raw : offered == null ? List.<String>of() : offered) {
            String p = raw.strip();
            String lower = p.toLowerCase(Locale.ROOT);
            if (lower.equals(REALTIME)) {
                realtime = true;
            } else if (lower.equals("openai-beta.realtime-v1")) {
                beta = true;
            } else if (lower.startsWith(KEY_PREFIX) && key == null) {
                key = p.substring(KEY_PREFIX.length());
            }
        }
        return new Subprotocols(realtime, beta, key);
    }

    @Override
    public String toString() {
        return "Subprotocols[realtime=" + realtime + ", beta=" + beta + ", key=" + (key == null ? "none" : "given") + "]";
    }
}
