package ducke.testing;

import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import io.dropwizard.core.Application;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.DropwizardTestSupport;
import io.dropwizard.testing.ResourceHelpers;

import java.io.File;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The real application on the project's own {@code config.yml}, on random ports, alone in a
 * cluster of its own, with a clock the test controls.
 */
public final class TestApps {

    public static final String SERVICE_TOKEN = "test-service-token-0123456789";
    public static final String OPERATOR_TOKEN = "test-operator-token-0123456789";
    public static final String UPSTREAM_KEY = "test-upstream-key";
    /**
     * config.yml's {@code ${VAR}} values as every test app sees them: none is set, so each key takes
     * its default (or a test's override), whatever the shell that runs the tests exported.
     */
    public static final Map<String, String> VARIABLES = Map.of();

    private TestApps() {
    }

    /**
     * Removes every configuration override from the system properties. Dropwizard restores a
     * key's previous value when an app stops, so after two apps in one JVM set the same keys,
     * the first app's values would outlive both; tests with several nodes call this last.
     */
    public static void clearOverrides() {
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("dw.")).forEach(System::clearProperty);
    }

    /** The application as the tests run it: on {@code clock}, config.yml's variables from {@link #VARIABLES}. */
    public static DuckeApplication application(Clock clock) {
        return new DuckeApplication(clock, VARIABLES::get);
    }

    /** The project's config.yml (tests run with the project directory as working directory). */
    public static String configPath() {
        File f = new File("config.yml");
        return f.exists() ? f.getAbsolutePath() : ResourceHelpers.resourceFilePath("config.yml");
    }

    /**
     * @param overrides alternating keys and values; a key given here replaces the default for it
     *                  (Dropwizard applies repeated keys unreliably, so each key is set once)
     */
    public static DropwizardTestSupport<DuckeConfiguration> support(Clock clock, String... overrides) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("nodeName", "");
        settings.put("upstream.url", "ws://127.0.0.1:9/v1/realtime");
        // the link gives up on an upstream silent for three intervals: wide enough that a test machine whose
        // cores are taken by other work for a second is not mistaken for a dead provider
        settings.put("relay.upstreamPingInterval", "2s");
        settings.put("audit.url", "jdbc:h2:mem:audit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        // a node's data directory (its charge journal) is its own
        settings.put("dataDir", "target/test-data/" + UUID.randomUUID());
        settings.put("server.applicationConnectors[0].port", "0");
        settings.put("server.adminConnectors[0].port", "0");
        settings.put("hazelcast.clusterName", "test-" + UUID.randomUUID());
        settings.put("hazelcast.port", Integer.toString(FreePorts.next()));
        settings.put("hazelcast.interfaces", "127.0.0.1");
        settings.put("hazelcast.members", "");
        // the grid-call deadline guards against frozen members, not against a test machine that is merely
        // busy; the tests of the deadline set their own
        settings.put("hazelcast.callTimeout", "10s");
        settings.put("auth.serviceTokens", SERVICE_TOKEN);
        settings.put("auth.operatorTokens", OPERATOR_TOKEN);
        settings.put("upstream.apiKey", UPSTREAM_KEY);
        for (int i = 0; i + 1 < overrides.length; i += 2) {
            settings.put(overrides[i], overrides[i + 1]);
        }
        List<ConfigOverride> list = new ArrayList<>();
        settings.forEach((k, v) -> list.add(ConfigOverride.config(k, v)));
        ConfigOverride[] all = list.toArray(ConfigOverride[]::new);
        return new DropwizardTestSupport<>(DuckeApplication.class, configPath(), all) {
            @Override
            public Application<DuckeConfiguration> newApplication() {
                return application(clock);
            }
        };
    }

    private static final AtomicInteger READY_POLLS = new AtomicInteger();

    /**
     * Waits (60 s at most) until every node sees {@code members} members of its cluster (any number
     * when 0) and is ready: its member has the quorum, the new cluster's spend is rebuilt from the
     * audit store (a node admits no session before), and it is not draining. Each poll of
     * {@code /status} comes from an address of its own, so that the status limit is not what is tested.
     */
    public static void awaitReady(int members, Http... nodes) throws Exception {
        Poll.until((members > 0 ? members + " members, " : "") + "every node ready", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> Arrays.stream(nodes).map(n -> n.get("/status", "X-Forwarded-For", pollAddress()).body())
                        .collect(Collectors.joining("\n")),
                () -> Arrays.stream(nodes).allMatch(n -> (members <= 0
                        || Http.json(n.get("/status", "X-Forwarded-For", pollAddress())).path("cluster_members").asInt() == members)
                        && n.get("/health/ready").statusCode() == 200));
    }

    private static String pollAddress() {
        int n = READY_POLLS.incrementAndGet();
        return "10.251." + (n / 250 % 250) + "." + (n % 250 + 1);
    }
}
