package ducke;

import io.dropwizard.configuration.ConfigurationException;
import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.configuration.ConfigurationFactory;
import io.dropwizard.configuration.DefaultConfigurationFactoryFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.jersey.validation.Validators;
import ducke.core.ratelimit.Endpoints;
import ducke.testing.TestApps;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** config.yml parses to the documented defaults; bad settings stop start-up with a message naming the key. */
class ConfigurationTest {

    /** Built the way the server command builds it, so unknown keys fail as they do at start-up. */
    private final ConfigurationFactory<DuckeConfiguration> factory = new DefaultConfigurationFactoryFactory<DuckeConfiguration>()
            .create(DuckeConfiguration.class, Validators.newValidator(), new Bootstrap<>(new DuckeApplication()).getObjectMapper(), "dw");

    private DuckeConfiguration parse(String yaml) throws Exception {
        ConfigurationSourceProvider fromString = path -> new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8));
        return factory.build(fromString, "test.yml");
    }

    @Test
    void projectConfigGivesTheDocumentedDefaults() throws Exception {
        DuckeConfiguration c = factory.build(new SubstitutingSourceProvider(new FileConfigurationSourceProvider(),
                new EnvironmentVariableSubstitutor(false)), TestApps.configPath());
        var policies = c.getRateLimits().policies();
        assertThat(policies.get(Endpoints.STATUS).describe()).isEqualTo("60 per 1 minute");
        assertThat(policies.get(Endpoints.MAIN_PAGE).describe()).isEqualTo("30 per 1 minute");
        assertThat(policies.get(Endpoints.WEBSOCKET).describe()).isEqualTo("5 per 1 minute");
        assertThat(policies.get(Endpoints.DEFAULT).describe()).isEqualTo("100 per 1 minute");
        assertThat(policies.get(Endpoints.WEATHER).describe()).isEqualTo("10 per 1 hour");
        assertThat(policies.get(Endpoints.WEB_SEARCH).describe()).isEqualTo("5 per 1 hour");
        assertThat(c.getRateLimits().isEnabled()).isTrue();
        assertThat(c.getRateLimits().isFailOpen()).isTrue();
        assertThat(c.getHazelcast().getPort()).isEqualTo(5701);
        assertThat(c.getHazelcast().getMembers()).isEmpty();
        assertThat(c.getClientIdentity().getTrustedProxies()).containsExactly("127.0.0.0/8", "::1/128");
        assertThat(c.getMetricsAccess().getAllowFrom()).contains("127.0.0.0/8", "10.0.0.0/8");
        assertThat(c.getAuth().getServiceTokens()).isEmpty();
    }

    @Test
    void severalLimitsAndCommaListsAreAccepted() throws Exception {
        DuckeConfiguration c = parse("""
                rateLimits:
                  status: "5/minute; 100 per day"
                hazelcast:
                  members: "10.0.0.1:5701, 10.0.0.2:5701"
                clientIdentity:
                  trustedProxies: [10.0.0.0/8, "fd00::/8"]
                """);
        assertThat(c.getRateLimits().policies().get(Endpoints.STATUS).size()).isEqualTo(2);
        assertThat(c.getHazelcast().getMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
        assertThat(c.getClientIdentity().getTrustedProxies()).containsExactly("10.0.0.0/8", "fd00::/8");
    }

    @Test
    void malformedLimitNamesTheKey() {
        assertThatThrownBy(() -> parse("rateLimits:\n  status: \"lots/minute\"\n"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("rateLimits.status")
                .hasMessageContaining("lots/minute");
        assertThatThrownBy(() -> parse("rateLimits:\n  webSearch: \"5/fortnight\"\n"))
                .hasMessageContaining("rateLimits.webSearch")
                .hasMessageContaining("fortnight");
    }

    @Test
    void unknownKeyNamesTheKey() {
        assertThatThrownBy(() -> parse("rateLimits:\n  statuss: \"5/minute\"\n"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("statuss");
    }

    @Test
    void badCidrNegativeBackupsAndShortTokensAreRefused() {
        assertThatThrownBy(() -> parse("clientIdentity:\n  trustedProxies: \"10.0.0.0/33\"\n"))
                .hasMessageContaining("clientIdentity.trustedProxies");
        assertThatThrownBy(() -> parse("hazelcast:\n  backupCount: -1\n"))
                .hasMessageContaining("hazelcast.backupCount");
        assertThatThrownBy(() -> parse("auth:\n  serviceTokens: \"short\"\n"))
                .hasMessageContaining("auth");
        assertThatThrownBy(() -> parse("metrics:\n  allowFrom: \"not-a-network\"\n"))
                .hasMessageContaining("metrics.allowFrom");
    }
}
