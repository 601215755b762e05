package ducke.core.auth;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bearer tokens and their roles. Only SHA-256 digests are kept; a presented token is compared with
 * every configured digest in constant time, without an early exit, so timing reveals nothing.
 */
public final class TokenRegistry {

    private record Entry(byte[] digest, Role role) {
    }

    private final List<Entry> entries;

    public TokenRegistry(Map<Role, List<String>> tokensByRole) {
        List<Entry> list = new ArrayList<>();
        tokensByRole.forEach((role, tokens) -> tokens.forEach(t -> list.add(new Entry(SecretDigest.of(t), role))));
        this.entries = List.copyOf(list);
    }

    /** The roles of {@code token}; empty when it matches none. */
    public Set<Role> rolesOf(String token) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (token == null) {
            return roles;
        }
        byte[] presented = SecretDigest.of(token);
        for (Entry e : entries) {
            if (MessageDigest.isEqual(presented, e.digest)) {
                roles.add(e.role);
            }
        }
        return roles;
    }

    /** A fresh random token: 32 bytes, URL-safe Base64 without padding. */
    public static String generate() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
