package ducke.core.auth;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Mints and checks client secrets ({@code ek_…}). The store holds SHA-256 digests only, with the
 * secret's own lifetime, so a secret is valid on every node and nothing that leaks from the store
 * can be presented. Thread-safe.
 */
public final class ClientSecrets {

    public static final String PREFIX = "ek_";

    /** Where digests live (the grid): entries vanish when their time is up. */
    public interface Store {
        void put(String digest, ClientSecret secret, long ttlMillis);

        Optional<ClientSecret> get(String digest);
    }

    /** A freshly minted secret: the value to hand out once, and what it grants. */
    public record Minted(String value, ClientSecret secret) {
    }

    private final Store store;
    private final SecureRandom random = new SecureRandom();

    public ClientSecrets(Store store) {
        this.store = store;
    }

    public Minted mint(String clientId, String model, long maxCostNanoUsd, long ttlMillis, long nowMillis) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String value = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        ClientSecret secret = new ClientSecret(clientId, model, maxCostNanoUsd, nowMillis + ttlMillis);
        store.put(SecretDigest.hex(value), secret, ttlMillis);
        return new Minted(value, secret);
    }

    /** What a presented value grants now; empty when it is unknown, malformed or expired. */
    public Optional<ClientSecret> check(String presented, long nowMillis) {
        if (!looksLikeSecret(presented)) {
            return Optional.empty();
        }
        return store.get(SecretDigest.hex(presented)).filter(s -> s.validAt(nowMillis));
    }

    public static boolean looksLikeSecret(String value) {
        return value != null && value.startsWith(PREFIX) && value.length() <= 128;
    }
}
