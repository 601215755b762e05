package ducke.cli;

import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.config.ConfigVariableSource;
import ducke.testing.TestApps;
import io.dropwizard.configuration.ConfigurationFactory;
import io.dropwizard.configuration.DefaultConfigurationFactoryFactory;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.jersey.validation.Validators;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** What an operator reads when config.yml's variables describe a node that cannot start. */
class StartupErrorsTest {

    private final ConfigurationFactory<DuckeConfiguration> factory = new DefaultConfigurationFactoryFactory<DuckeConfiguration>()
            .create(DuckeConfiguration.class, Validators.newValidator(), new Bootstrap<>(new DuckeApplication()).getObjectMapper(), "dw");

    private String startWith(Map<String, String> variables) {
        Throwable e = catchThrowable(() -> factory.build(
                ConfigVariableSource.substituting(new FileConfigurationSourceProvider(), variables::get), TestApps.configPath()));
        assertThat(e).as("refused").isNotNull();
        return StartupErrors.describe(TestApps.configPath(), e);
    }

    @Test
    void aMemberListAndAHeadlessServiceNameNameBothVariablesWithoutAStackTrace() {
        String text = startWith(Map.of("HAZELCAST_KUBERNETES_SERVICE_DNS", "ducke-grid", "HAZELCAST_MEMBERS", "10.0.0.1:5701",
                "HAZELCAST_MIN_CLUSTER_SIZE", "1", "DUCKE_SERVICE_TOKEN", "dev-service-token-0123456789",
                "DUCKE_OPERATOR_TOKEN", "dev-operator-token-0123456789"));

        assertThat(text).contains("hazelcast.kubernetesServiceDns (environment variable HAZELCAST_KUBERNETES_SERVICE_DNS) "
                        + "and HAZELCAST_MEMBERS (hazelcast.members) are both set")
                .contains("Unset one of them")
                .doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void aHeadlessServiceNameWithoutAQuorumNamesTheVariableToSet() {
        String text = startWith(Map.of("HAZELCAST_KUBERNETES_SERVICE_DNS", "ducke-grid",
                "DUCKE_SERVICE_TOKEN", "dev-service-token-0123456789", "DUCKE_OPERATOR_TOKEN", "dev-operator-token-0123456789"));

        assertThat(text).contains("needs HAZELCAST_MIN_CLUSTER_SIZE (hazelcast.minClusterSize)").doesNotContain("\tat ");
    }
}
