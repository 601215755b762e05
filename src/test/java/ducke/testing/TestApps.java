package ducke.testing;

import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import io.dropwizard.core.Application;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.DropwizardTestSupport;
import io.dropwizard.testing.ResourceHelpers;

import java.io.File;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The real application on the project's own {@code config.yml}, on random ports, alone in a
 * cluster of its own, with a clock the test controls.
 */
public final class TestApps {

    public static final String SERVICE_TOKEN = "test-service-token-0123456789";
    public static final String OPERATOR_TOKEN = "test-operator-token-0123456789";
    public static final String UPSTREAM_KEY = "test-upstream-key";

    private TestApps() {
    }

    /** The project's config.yml (tests run with the project directory as working directory). */
    public static String configPath() {
        File f = new File("config.yml");
        return f.exists() ? f.getAbsolutePath() : ResourceHelpers.resourceFilePath("config.yml");
    }

    public static DropwizardTestSupport<DuckeConfiguration> support(Clock clock, ConfigOverride... extra) {
        List<ConfigOverride> overrides = new ArrayList<>(List.of(
                ConfigOverride.config("server.applicationConnectors[0].port", "0"),
                ConfigOverride.config("server.adminConnectors[0].port", "0"),
                ConfigOverride.config("hazelcast.clusterName", "test-" + UUID.randomUUID()),
                ConfigOverride.config("hazelcast.port", Integer.toString(FreePorts.next())),
                ConfigOverride.config("hazelcast.interfaces", "127.0.0.1"),
                ConfigOverride.config("hazelcast.members", ""),
                ConfigOverride.config("auth.serviceTokens", SERVICE_TOKEN),
                ConfigOverride.config("auth.operatorTokens", OPERATOR_TOKEN),
                ConfigOverride.config("upstream.apiKey", UPSTREAM_KEY)));
        overrides.addAll(List.of(extra));
        return new DropwizardTestSupport<>(DuckeApplication.class, configPath(), overrides.toArray(ConfigOverride[]::new)) {
            @Override
            public Application<DuckeConfiguration> newApplication() {
                return new DuckeApplication(clock);
            }
        };
    }
}
