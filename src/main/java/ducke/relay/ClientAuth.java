package ducke.relay;

import ducke.core.auth.BearerToken;
import ducke.core.auth.ClientSecret;
import ducke.core.auth.ClientSecrets;
import jakarta.servlet.http.HttpServletRequest;

import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Who a realtime client is, by the client secret it presents ({@code Authorization: Bearer ek_…}
 * or the subprotocol {@code openai-insecure-api-key.ek_…}). Mode {@code none}: secrets are ignored
 * and the client is its address; {@code optional}: a presented secret must be valid and then names
 * the client; {@code required}: a valid secret is needed. The secret never goes further than this.
 */
final class ClientAuth {

    /** The configured mode ({@code RELAY_CLIENT_AUTH}). */
    enum Mode { NONE, OPTIONAL, REQUIRED }

    /** A valid secret, or none (identity by address), or the sentence of a 401. */
    record Result(ClientSecret secret, String refusal) {
    }

    private static final Result BY_ADDRESS = new Result(null, null);

    private final Mode mode;
    private final ClientSecrets secrets;

    ClientAuth(Mode mode, ClientSecrets secrets) {
        this.mode = mode;
        this.secrets = secrets;
    }

    Result authenticate(HttpServletRequest request, long nowMillis) {
        if (mode == Mode.NONE) {
            return BY_ADDRESS;
        }
        String presented = presented(request);
        if (presented == null) {
            return mode == Mode.REQUIRED ? new Result(null, "A client secret is required: Authorization: Bearer ek_…") : BY_ADDRESS;
        }
        return secrets.check(presented, nowMillis).map(s -> new Result(s, null))
                .orElseGet(() -> new Result(null, "The client secret is unknown or expired"));
    }

    /** The secret a client presents, by header or subprotocol; null when it presents none. */
    static String presented(HttpServletRequest request) {
        String bearer = BearerToken.of(request.getHeader("Authorization"));
        if (ClientSecrets.looksLikeSecret(bearer)) {
            return bearer;
        }
        List<String> offered = Collections.list(request.getHeaders("Sec-WebSocket-Protocol")).stream()
                .flatMap(h -> java.util.Arrays.stream(h.split(","))).map(String::strip).toList();
        String key = Subprotocols.parse(offered).key();
        return ClientSecrets.looksLikeSecret(key) ? key : null;
    }

    static Mode mode(String configured) {
        return Mode.valueOf(configured.strip().toUpperCase(Locale.ROOT));
    }
}
