package ducke.it;

import ducke.testing.JarNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every command-line mistake a newcomer makes, run through the shaded jar as they would run it:
 * each ends with a non-zero exit and a message that names what to change (the environment
 * variable as well as the key), never a stack trace.
 */
class CommandLineIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private static Path jar;
    private static Path baseDir;
    private static Path config;

    @BeforeAll
    static void locate() {
        jar = JarNode.jar();
        baseDir = JarNode.projectDir();
        config = baseDir.resolve("config.yml");
    }

    private static JarNode.Finished run(Map<String, String> env, String... args) throws Exception {
        return JarNode.run(jar, baseDir, env, TIMEOUT, args);
    }

    private static void refusedWithoutStackTrace(JarNode.Finished f) {
        assertThat(f.exitCode()).as(f.output()).isEqualTo(1);
        assertThat(f.output()).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void aMalformedLimitNamesTheKeyAndTheVariable() throws Exception {
        JarNode.Finished f = run(Map.of("RATE_LIMIT_STATUS", "lots/minute"), "server", "config.yml");
        refusedWithoutStackTrace(f);
        assertThat(f.output()).contains("rateLimits.status (environment variable RATE_LIMIT_STATUS) is not a valid limit: "
                + "'lots/minute' is not a limit");
    }

    @Test
    void shortTokensNameTheirVariables() throws Exception {
        JarNode.Finished service = run(Map.of("DUCKE_SERVICE_TOKEN", "short"), "server", "config.yml");
        refusedWithoutStackTrace(service);
        assertThat(service.output()).contains("auth.serviceTokens (environment variable DUCKE_SERVICE_TOKEN) is too short: "
                + "the token has 5 characters, at least 16 are needed").doesNotContain("tokensLongEnough");
        JarNode.Finished operator = run(Map.of("DUCKE_OPERATOR_TOKEN", "0123456789abcdef,tiny"), "check", "config.yml");
        refusedWithoutStackTrace(operator);
        assertThat(operator.output()).contains("auth.operatorTokens (environment variable DUCKE_OPERATOR_TOKEN) is too short: "
                + "token 2 of 2 has 4 characters");
    }

    @Test
    void aPortInUseIsReportedInOneLineBeforeTheGridOrTheDatabaseStart(@TempDir Path data) throws Exception {
        int[] ports = JarNode.freePorts(2);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = taken.getLocalPort();
            JarNode.Finished f = run(Map.of("DUCKE_PORT", Integer.toString(port), "DUCKE_ADMIN_PORT", Integer.toString(ports[0]),
                    "HAZELCAST_PORT", Integer.toString(ports[1]), "DUCKE_DATA_DIR", data.toString()), "server", "config.yml");
            refusedWithoutStackTrace(f);
            assertThat(f.output()).contains("Cannot start: the application port " + port + " on 0.0.0.0 is already in use "
                    + "(DUCKE_PORT, server.applicationConnectors[0].port)");
            assertThat(f.output()).doesNotContain("Hazelcast").doesNotContain("Members {").doesNotContain("Audit store ready");
            assertThat(data).isEmptyDirectory();
        }
    }

    @Test
    void theAuditCommandRefusesToCreateAnEmptyDatabase(@TempDir Path work) throws Exception {
        JarNode.Finished f = JarNode.run(jar, work, Map.of(), TIMEOUT, "audit", config.toString(), "--since", "24h");
        refusedWithoutStackTrace(f);
        assertThat(f.output()).contains("No audit database at " + work.resolve("data/ducke-audit.mv.db"))
                .contains("DUCKE_DATA_DIR");
        assertThat(work).as("nothing created").isEmptyDirectory();
    }

    @Test
    void aSinceThatIsNotADurationIsAUsageError() throws Exception {
        JarNode.Finished f = run(Map.of(), "audit", "config.yml", "--since", "yesterday");
        refusedWithoutStackTrace(f);
        assertThat(f.output()).contains("argument --since: 'yesterday' is not a duration; use a number and a unit")
                .contains("usage: java -jar duck-e.jar audit");
    }

    @Test
    void theAuditHelpShowsEachDefaultOnce() throws Exception {
        JarNode.Finished f = run(Map.of(), "audit", "-h");
        assertThat(f.exitCode()).as(f.output()).isZero();
        assertThat(f.output()).contains("how far back, e.g. 30m, 24h, 7d, 2w (default: 24h)")
                .doesNotContain("(default 24h)").doesNotContain("(default model)");
    }

    @Test
    void theCheckCommandAcceptsTheShippedConfiguration(@TempDir Path work) throws Exception {
        Files.copy(config, work.resolve("config.yml"));
        JarNode.Finished f = JarNode.run(jar, work, Map.of(), TIMEOUT, "check", "config.yml");
        assertThat(f.exitCode()).as(f.output()).isZero();
        assertThat(f.output()).contains("Configuration is OK: config.yml");
    }
}
