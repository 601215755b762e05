package ducke.cli;

import ducke.testing.TestApps;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Configuration errors name the environment variable behind the refused key. */
class ConfigVariablesTest {

    private final ConfigVariables vars = ConfigVariables.of(TestApps.configPath());

    @Test
    void theProjectConfigMapsKeysToTheirVariables() {
        assertThat(vars.forKey("rateLimits.status")).containsExactly("RATE_LIMIT_STATUS");
        assertThat(vars.forKey("auth.serviceTokens")).containsExactly("DUCKE_SERVICE_TOKEN");
        assertThat(vars.forKey("auth.operatorTokens")).containsExactly("DUCKE_OPERATOR_TOKEN");
        assertThat(vars.forKey("server.applicationConnectors[0].port")).containsExactly("DUCKE_PORT");
        assertThat(vars.forKey("server.adminConnectors.[0].port")).containsExactly("DUCKE_ADMIN_PORT");
        assertThat(vars.forKey("audit.url")).containsExactly("DATABASE_URL", "DUCKE_DATA_DIR");
        assertThat(vars.forKey("upstream.connectTimeout")).containsExactly("UPSTREAM_CONNECT_TIMEOUT");
        assertThat(vars.forKey("prices.models")).isEmpty();
    }

    @Test
    void validationMessagesGainTheVariableAfterTheKey() {
        String explained = vars.explain("config.yml has an error:\n"
                + "  * rateLimits.status is not a valid limit: 'lots/minute' is not a limit\n");
        assertThat(explained).isEqualTo("config.yml has an error:\n"
                + "  * rateLimits.status (environment variable RATE_LIMIT_STATUS) is not a valid limit: 'lots/minute' is not a limit");
    }

    @Test
    void parseMessagesGainTheVariableAndLoseJacksonsReferenceChain() {
        String explained = vars.explain("config.yml has an error:\n"
                + "  * Incorrect type of value at: server.applicationConnectors.[0].port; is of type: String, expected: int\n"
                + " at [Source: UNKNOWN; byte offset: #UNKNOWN] (through reference chain: ducke.DuckeConfiguration[\"server\"])\n");
        assertThat(explained).isEqualTo("config.yml has an error:\n  * Incorrect type of value at: "
                + "server.applicationConnectors.[0].port (environment variable DUCKE_PORT); is of type: String, expected: int");
    }

    @Test
    void aKeyIsNotMistakenForTheStartOfALongerOne() {
        assertThat(vars.explain("  * costProtection.enabledX is unknown")).isEqualTo("  * costProtection.enabledX is unknown");
        assertThat(vars.explain("  * costProtection.enabled must be true or false"))
                .isEqualTo("  * costProtection.enabled (environment variable COST_PROTECTION_ENABLED) must be true or false");
    }

    @Test
    void anUnreadableFileNamesNoVariables(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path broken = Files.writeString(dir.resolve("broken.yml"), "a: [unclosed");
        assertThat(ConfigVariables.of(broken.toString()).forKey("a")).isEmpty();
        assertThat(ConfigVariables.of(dir.resolve("missing.yml").toString()).explain("x")).isEqualTo("x");
    }
}
