package ducke.core.auth;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class SecretDigestTest {

    @Test
    void isTheSha256OfTheUtf8Bytes() {
        // FIPS 180-2 test vector for "abc"
        assertThat(SecretDigest.hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(SecretDigest.of("abc")).isEqualTo(HexFormat.of().parseHex(SecretDigest.hex("abc")));
        // UTF-8: "é" is the two bytes c3 a9
        assertThat(SecretDigest.hex("é")).isEqualTo("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    }

    @Test
    void aMintedClientSecretIsStoredOnlyAsItsDigestAndFoundByIt() {
        Map<String, ClientSecret> stored = new HashMap<>();
        ClientSecrets secrets = new ClientSecrets(new ClientSecrets.Store() {
            @Override
            public void put(String digest, ClientSecret secret, long ttlMillis) {
                stored.put(digest, secret);
            }

            @Override
            public Optional<ClientSecret> get(String digest) {
                return Optional.ofNullable(stored.get(digest));
            }
        });
        ClientSecrets.Minted minted = secrets.mint("client", "gpt-realtime", 1, 60_000, 0);

        assertThat(stored).containsOnlyKeys(SecretDigest.hex(minted.value()));
        assertThat(secrets.check(minted.value(), 1)).isPresent();
    }
}
