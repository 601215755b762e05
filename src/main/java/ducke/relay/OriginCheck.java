package ducke.relay;

import jakarta.servlet.http.HttpServletRequest;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which pages may open a realtime session or call: the origins listed ({@code ALLOWED_ORIGINS}),
 * or, with no list, pages of this very host.
 */
final class OriginCheck {

    private final Set<String> allowed;

    OriginCheck(List<String> allowedOrigins) {
        this.allowed = Set.copyOf(allowedOrigins.stream().map(OriginCheck::origin).toList());
    }

    /** Allowed when listed, or, with no list, when the page comes from this very host. */
    boolean allowed(String origin, HttpServletRequest request) {
        String normalised = origin(origin);
        if (!allowed.isEmpty()) {
            return allowed.contains(normalised);
        }
        String host = request.getHeader("Host");
        return host != null && (normalised.equals("http://" + host.toLowerCase(Locale.ROOT))
                || normalised.equals("https://" + host.toLowerCase(Locale.ROOT)));
    }

    static String origin(String text) {
        try {
            URI u = URI.create(text.strip());
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
            return scheme + "://" + host + (u.getPort() < 0 ? "" : ":" + u.getPort());
        } catch (IllegalArgumentException e) {
            return "invalid:" + text;
        }
    }
}
