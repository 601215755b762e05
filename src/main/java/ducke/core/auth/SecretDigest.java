package ducke.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * How a secret that callers present (a bearer token, a client secret) is kept: the SHA-256 of its
 * UTF-8 bytes, never the secret itself. Compare digests with {@link MessageDigest#isEqual}.
 */
public final class SecretDigest {

    private SecretDigest() {
    }

    /** The 32-byte digest of {@code secret}. */
    public static byte[] of(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The digest of {@code secret} as 64 lower-case hex digits (a map key). */
    public static String hex(String secret) {
        return HexFormat.of().formatHex(of(secret));
    }
}
