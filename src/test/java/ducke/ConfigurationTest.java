package ducke;

import io.dropwizard.configuration.ConfigurationException;
import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.configuration.ConfigurationFactory;
import io.dropwizard.configuration.DefaultConfigurationFactoryFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.jersey.validation.Validators;
import ducke.config.ConfigVariableSource;
import ducke.core.ratelimit.Endpoints;
import ducke.testing.TestApps;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

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

    /** The project's config.yml with its variables from {@code variables} alone, never the caller's environment. */
    private DuckeConfiguration projectConfig(Map<String, String> variables) throws Exception {
        return factory.build(ConfigVariableSource.substituting(new FileConfigurationSourceProvider(), variables::get),
                TestApps.configPath());
    }

    @Test
    void projectConfigGivesTheDocumentedDefaults() throws Exception {
        DuckeConfiguration c = projectConfig(TestApps.VARIABLES);
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
        assertThat(c.getClientIdentity().getIpv4Prefix()).isEqualTo(32);
        assertThat(c.getClientIdentity().getIpv6Prefix()).isEqualTo(64);
        assertThat(c.getCostProtection().limits().maxClientHourlyCostNanoUsd()).isEqualTo(10_000_000_000L);
        var prices = c.getPrices().build();
        assertThat(prices.perMinute()).containsEntry("whisper-1", 6_000_000L).containsEntry("gpt-4o-transcribe", 6_000_000L)
                .containsEntry("gpt-4o-mini-transcribe", 3_000_000L);
        assertThat(prices.version()).as("config.yml prices are the built-in defaults")
                .isEqualTo(ducke.core.cost.PriceTable.defaults().version());
    }

    @Test
    void projectConfigReadsItsVariables() throws Exception {
        DuckeConfiguration c = projectConfig(Map.of("DUCKE_SERVICE_TOKEN", "dev-service-token-0123456789",
                "RATE_LIMIT_WEBSOCKET", "2/minute", "HAZELCAST_MEMBERS", "10.0.0.1:5701,10.0.0.2:5701",
                "DUCKE_OPERATOR_TOKEN", "dev-operator-token-0123456789"));
        assertThat(c.getAuth().getServiceTokens()).containsExactly("dev-service-token-0123456789");
        assertThat(c.getRateLimits().policies().get(Endpoints.WEBSOCKET).describe()).isEqualTo("2 per 1 minute");
        assertThat(c.getHazelcast().getMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
        assertThat(c.getHazelcast().getPort()).as("an unset variable still gives its default").isEqualTo(5701);
    }

    @Test
    void clientNetworksBudgetsAndPerMinutePricesAreConfigurable() throws Exception {
        DuckeConfiguration c = parse("""
                clientIdentity:
                  ipv4Prefix: 24
                  ipv6Prefix: 56
                costProtection:
                  maxClientCostPerHourUsd: "2.50"
                prices:
                  perMinute:
                    whisper-1: "0.01"
                """);
        assertThat(c.getClientIdentity().build().resolve("2001:db8:1:2::5", java.util.List.of())).isEqualTo("2001:db8:1::/56");
        assertThat(c.getClientIdentity().build().resolve("203.0.113.7", java.util.List.of())).isEqualTo("203.0.113.0/24");
        assertThat(c.getCostProtection().limits().maxClientHourlyCostNanoUsd()).isEqualTo(2_500_000_000L);
        assertThat(c.getPrices().build().perMinute()).containsOnlyKeys("whisper-1");
    }

    @Test
    void badClientPrefixesBudgetsAndPerMinutePricesNameTheKey() {
        assertThatThrownBy(() -> parse("clientIdentity:\n  ipv6Prefix: 129\n")).hasMessageContaining("clientIdentity.ipv6Prefix");
        assertThatThrownBy(() -> parse("clientIdentity:\n  ipv4Prefix: 4\n")).hasMessageContaining("clientIdentity.ipv4Prefix");
        assertThatThrownBy(() -> parse("costProtection:\n  maxClientCostPerHourUsd: \"0\"\n"))
                .hasMessageContaining("costProtection.maxClientCostPerHourUsd");
        assertThatThrownBy(() -> parse("prices:\n  perMinute:\n    whisper-1: \"-0.006\"\n"))
                .hasMessageContaining("prices.perMinute");
    }

    @Test
    void sessionsEndAtTheirCapUnlessToldToPause() throws Exception {
        DuckeConfiguration defaults = projectConfig(TestApps.VARIABLES);
        assertThat(defaults.getCostProtection().pausesOnCap()).isFalse();
        assertThat(defaults.getCostProtection().getPauseTimeout().toSeconds()).isEqualTo(60);
        DuckeConfiguration pausing = projectConfig(Map.of("COST_PROTECTION_ON_CAP", "pause", "COST_PROTECTION_PAUSE_TIMEOUT", "5m"));
        assertThat(pausing.getCostProtection().pausesOnCap()).isTrue();
        assertThat(pausing.getCostProtection().getPauseTimeout().toSeconds()).isEqualTo(300);
        assertThatThrownBy(() -> parse("costProtection:\n  onCap: stop\n")).hasMessageContaining("costProtection.onCap");
        assertThatThrownBy(() -> parse("costProtection:\n  pauseTimeout: 500ms\n")).hasMessageContaining("costProtection.pauseTimeout");
    }

    @Test
    void severalLimitsAndCommaListsAreAccepted() throws Exception {
        DuckeConfiguration c = parse("""
                rateLimits:
                  status: "5/minute; 100 per day"
                hazelcast:
                  members: "10.0.0.1:5701, 10.0.0.2:5701"
                auth:
                  serviceTokens: "service-token-0123456789"
                  operatorTokens: "operator-token-0123456789"
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

    @Test
    void anH2FilePathThatH2WouldRefuseAsImplicitlyRelativeIsAConfigurationError() throws Exception {
        assertThatThrownBy(() -> parse("audit:\n  url: \"jdbc:h2:file:data/node-1/ducke-audit\"\n"))
                .hasMessageContaining("audit.url").hasMessageContaining("starts with ./, / or ~");
        assertThat(parse("audit:\n  url: \"jdbc:h2:file:./data/node-1/ducke-audit;AUTO_SERVER=TRUE\"\n").getAudit().getUrl())
                .startsWith("jdbc:h2:file:./data");
        assertThat(parse("audit:\n  url: \"jdbc:h2:mem:x\"\n").getAudit().getUrl()).isEqualTo("jdbc:h2:mem:x");
    }

    @Test
    void aClusterWithoutConfiguredTokensIsRefusedNamingTheVariables() throws Exception {
        assertThatThrownBy(() -> parse("hazelcast:\n  members: \"10.0.0.1:5701,10.0.0.2:5701\"\n"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("DUCKE_SERVICE_TOKEN")
                .hasMessageContaining("DUCKE_OPERATOR_TOKEN");
        assertThatThrownBy(() -> parse("hazelcast:\n  members: \"10.0.0.1:5701\"\nauth:\n  serviceTokens: \"service-token-0123456789\"\n"))
                .hasMessageContaining("DUCKE_OPERATOR_TOKEN")
                .hasMessageNotContaining("DUCKE_SERVICE_TOKEN");
        // alone, a node may still generate its own
        assertThat(parse("hazelcast:\n  members: \"\"\n").getAuth().getServiceTokens()).isEmpty();
    }

    @Test
    void aHeadlessServiceNameIsReadFromItsVariable() throws Exception {
        DuckeConfiguration c = projectConfig(Map.of("HAZELCAST_KUBERNETES_SERVICE_DNS", "ducke-grid.ducke.svc.cluster.local",
                "HAZELCAST_MIN_CLUSTER_SIZE", "2", "DUCKE_SERVICE_TOKEN", "dev-service-token-0123456789",
                "DUCKE_OPERATOR_TOKEN", "dev-operator-token-0123456789"));
        assertThat(c.getHazelcast().getKubernetesServiceDns()).isEqualTo("ducke-grid.ducke.svc.cluster.local");
        assertThat(c.getHazelcast().getKubernetesServiceDnsTimeout().toSeconds()).isEqualTo(5);
        assertThat(c.getHazelcast().getMembers()).isEmpty();
        assertThat(projectConfig(TestApps.VARIABLES).getHazelcast().usesDnsDiscovery()).as("off by default").isFalse();
    }

    @Test
    void aMemberListAndAHeadlessServiceNameTogetherAreRefused() {
        assertThatThrownBy(() -> projectConfig(Map.of("HAZELCAST_KUBERNETES_SERVICE_DNS", "ducke-grid",
                "HAZELCAST_MEMBERS", "10.0.0.1:5701,10.0.0.2:5701", "HAZELCAST_MIN_CLUSTER_SIZE", "2",
                "DUCKE_SERVICE_TOKEN", "dev-service-token-0123456789", "DUCKE_OPERATOR_TOKEN", "dev-operator-token-0123456789")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("hazelcast.kubernetesServiceDns and HAZELCAST_MEMBERS (hazelcast.members) are both set");
    }

    @Test
    void aHeadlessServiceNameNeedsAQuorumAndTokens() {
        assertThatThrownBy(() -> parse("""
                hazelcast:
                  kubernetesServiceDns: ducke-grid
                auth:
                  serviceTokens: "service-token-0123456789"
                  operatorTokens: "operator-token-0123456789"
                """))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("hazelcast.kubernetesServiceDns needs HAZELCAST_MIN_CLUSTER_SIZE");
        assertThatThrownBy(() -> parse("hazelcast:\n  kubernetesServiceDns: ducke-grid\n  minClusterSize: 2\n"))
                .hasMessageContaining("DUCKE_SERVICE_TOKEN")
                .hasMessageContaining("DUCKE_OPERATOR_TOKEN");
        assertThatThrownBy(() -> parse("hazelcast:\n  kubernetesServiceDnsTimeout: 500ms\n"))
                .hasMessageContaining("hazelcast.kubernetesServiceDnsTimeout");
    }

    @Test
    void gridCallTimeoutDefaultsToTwoSeconds() throws Exception {
        DuckeConfiguration c = projectConfig(TestApps.VARIABLES);
        assertThat(c.getHazelcast().getCallTimeout().toMilliseconds()).isEqualTo(2000);
        assertThatThrownBy(() -> parse("hazelcast:\n  callTimeout: \"0ms\"\n")).hasMessageContaining("hazelcast.callTimeout");
    }
}
