package ducke.resources;

import ducke.core.identity.IpAddresses;
import ducke.errors.ApiException;

import java.util.regex.Pattern;

/** End-user client ids sent by trusted backends: a canonical IP address, or a short opaque id. */
final class ClientIds {

    /** Opaque ids: short, printable, and free of the separator of our grid keys. */
    static final Pattern OPAQUE = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

    private ClientIds() {
    }

    /** The key form of {@code id}; 422 when it is neither an address nor a valid opaque id. */
    static String canonical(String id) {
        String s = id.strip();
        return IpAddresses.canonical(s).orElseGet(() -> {
            if (!OPAQUE.matcher(s).matches()) {
                throw ApiException.invalid(422, "client_id must be an IP address or 1-128 characters of A-Z a-z 0-9 . _ : @ -");
            }
            return s;
        });
    }
}
