package ducke.resources;

import ducke.core.identity.ClientIdentityResolver;
import ducke.errors.ApiException;

import java.util.regex.Pattern;

/**
 * End-user client ids sent by trusted backends: an IP address (keyed by its network, as the
 * resolver keys a request's client), a network key such as {@code 2001:db8:1:2::/64}, or a short
 * opaque id. Thread-safe.
 */
public final class ClientIds {

    /** Opaque ids: short, printable, and free of the separator of our grid keys. */
    public static final Pattern OPAQUE = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

    private final ClientIdentityResolver resolver;

    public ClientIds(ClientIdentityResolver resolver) {
        this.resolver = resolver;
    }

    /** The key form of {@code id}; 422 when it is neither an address, a network key nor a valid opaque id. */
    String canonical(String id) {
        String s = id.strip();
        return resolver.keyOf(s).orElseGet(() -> {
            if (!OPAQUE.matcher(s).matches()) {
                throw ApiException.invalid(422, "client_id must be an IP address or 1-128 characters of A-Z a-z 0-9 . _ : @ -");
            }
            return s;
        });
    }

    /** The key form of {@code id} when it names an address or network; else {@code id} as given. */
    String keyOrSelf(String id) {
        return resolver.keyOf(id.strip()).orElse(id.strip());
    }
}
