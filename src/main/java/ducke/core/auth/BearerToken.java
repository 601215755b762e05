package ducke.core.auth;

/**
 * The token of an {@code Authorization: Bearer <token>} header (RFC 6750 section 2.1), read the
 * same way at every door: the API, the admin tasks and the realtime handshake. The scheme is
 * matched without regard to case and is followed by spaces or tabs; the token is one word (a
 * token68 has no white space). Nothing else (no {@code access_token} query parameter, which would
 * put the token in request logs) carries a token.
 */
public final class BearerToken {

    private static final String SCHEME = "Bearer";

    private BearerToken() {
    }

    /** The token, or null when the header is absent, of another scheme, empty, or not one word. */
    public static String of(String authorization) {
        if (authorization == null) {
            return null;
        }
        String header = authorization.strip();
        if (header.length() <= SCHEME.length() || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || !whitespace(header.charAt(SCHEME.length()))) {
            return null;
        }
        String token = header.substring(SCHEME.length()).strip();
        return token.isEmpty() || token.chars().anyMatch(c -> whitespace((char) c)) ? null : token;
    }

    private static boolean whitespace(char c) {
        return c == ' ' || c == '\t';
    }
}
