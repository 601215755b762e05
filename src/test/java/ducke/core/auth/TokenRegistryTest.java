package ducke.core.auth;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TokenRegistryTest {

    private static final String SERVICE_TOKEN = "service-token-0123456789abcdef";
    private static final String OTHER_SERVICE_TOKEN = "second-service-token-fedcba9876";
    private static final String OPERATOR_TOKEN = "operator-token-0123456789abcdef";

    private final TokenRegistry registry = new TokenRegistry(Map.of(
            Role.SERVICE, List.of(SERVICE_TOKEN, OTHER_SERVICE_TOKEN),
            Role.OPERATOR, List.of(OPERATOR_TOKEN)));

    @Test
    void tokenMapsToItsRole() {
        assertThat(registry.rolesOf(SERVICE_TOKEN)).containsExactly(Role.SERVICE);
        assertThat(registry.rolesOf(OTHER_SERVICE_TOKEN)).containsExactly(Role.SERVICE);
        assertThat(registry.rolesOf(OPERATOR_TOKEN)).containsExactly(Role.OPERATOR);
    }

    @Test
    void unknownNullOrEmptyTokenHasNoRoles() {
        assertThat(registry.rolesOf("not-a-configured-token-at-all")).isEmpty();
        assertThat(registry.rolesOf(null)).isEmpty();
        assertThat(registry.rolesOf("")).isEmpty();
        assertThat(registry.rolesOf(" ")).isEmpty();
    }

    @Test
    void nearMissesOfAConfiguredTokenHaveNoRoles() {
        assertThat(registry.rolesOf(SERVICE_TOKEN.toUpperCase())).isEmpty();
        assertThat(registry.rolesOf(SERVICE_TOKEN + " ")).isEmpty();
        assertThat(registry.rolesOf(" " + SERVICE_TOKEN)).isEmpty();
        assertThat(registry.rolesOf(SERVICE_TOKEN.substring(1))).isEmpty();
        assertThat(registry.rolesOf(SERVICE_TOKEN.substring(0, SERVICE_TOKEN.length() - 1))).isEmpty();
        assertThat(registry.rolesOf(SERVICE_TOKEN + OPERATOR_TOKEN)).isEmpty();
        assertThat(registry.rolesOf("Bearer " + SERVICE_TOKEN)).isEmpty();
    }

    @Test
    void tokenConfiguredForBothRolesHasBoth() {
        String shared = "shared-token-0123456789abcdef";
        TokenRegistry both = new TokenRegistry(Map.of(
                Role.SERVICE, List.of(shared),
                Role.OPERATOR, List.of(shared, OPERATOR_TOKEN)));

        assertThat(both.rolesOf(shared)).containsExactlyInAnyOrder(Role.SERVICE, Role.OPERATOR);
        assertThat(both.rolesOf(OPERATOR_TOKEN)).containsExactly(Role.OPERATOR);
    }

    @Test
    void registryWithoutTokensKnowsNobody() {
        TokenRegistry empty = new TokenRegistry(Map.of());

        assertThat(empty.rolesOf(SERVICE_TOKEN)).isEmpty();
        assertThat(empty.rolesOf("")).isEmpty();
    }

    @Test
    void laterChangesToTheConfiguredListsDoNotGrantAccess() {
        List<String> serviceTokens = new ArrayList<>(List.of(SERVICE_TOKEN));
        Map<Role, List<String>> byRole = new EnumMap<>(Role.class);
        byRole.put(Role.SERVICE, serviceTokens);
        TokenRegistry snapshot = new TokenRegistry(byRole);

        serviceTokens.add(OTHER_SERVICE_TOKEN);
        byRole.put(Role.OPERATOR, List.of(OPERATOR_TOKEN));

        assertThat(snapshot.rolesOf(OTHER_SERVICE_TOKEN)).isEmpty();
        assertThat(snapshot.rolesOf(OPERATOR_TOKEN)).isEmpty();
        assertThat(snapshot.rolesOf(SERVICE_TOKEN)).containsExactly(Role.SERVICE);
    }

    @Test
    void tokensAreCaseSensitiveAndUnicodeSafe() {
        String unicode = "tökén-ünïcødé-0123456789";
        TokenRegistry r = new TokenRegistry(Map.of(Role.OPERATOR, List.of(unicode)));

        assertThat(r.rolesOf(unicode)).containsExactly(Role.OPERATOR);
        assertThat(r.rolesOf("token-unicode-0123456789")).isEmpty();
    }

    @Test
    void generatedTokenIs43UrlSafeCharacters() {
        String token = TokenRegistry.generate();

        assertThat(token).hasSize(43).matches("[A-Za-z0-9_-]{43}");
    }

    @Test
    void generatedTokensDiffer() {
        Set<String> tokens = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String t = TokenRegistry.generate();
            assertThat(t).matches("[A-Za-z0-9_-]{43}");
            tokens.add(t);
        }

        assertThat(tokens).hasSize(100);
    }

    @Test
    void generatedTokenIsAcceptedOnceConfigured() {
        String token = TokenRegistry.generate();
        TokenRegistry r = new TokenRegistry(Map.of(Role.SERVICE, List.of(token)));

        assertThat(r.rolesOf(token)).containsExactly(Role.SERVICE);
        assertThat(r.rolesOf(TokenRegistry.generate())).isEmpty();
    }

    @Test
    void roleWireNamesMatchTheirConstants() {
        assertThat(Role.SERVICE.wireName()).isEqualTo(Role.SERVICE_NAME).isEqualTo("service");
        assertThat(Role.OPERATOR.wireName()).isEqualTo(Role.OPERATOR_NAME).isEqualTo("operator");
    }
}
