package ducke.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.fail;

/**
 * One shaded jar started as an operator would ({@code java -jar duck-e.jar server config.yml}), configured
 * only through environment variables: its process, ports, log file and an HTTP client for it. For the
 * integration tests that run several nodes as real processes.
 */
public final class JarNode {

    private static final int LOG_TAIL_LINES = 80;
    private static final Pattern CONFIG_VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)");
    /** Pollers act as a fresh client on every request so that polling never spends a real client's limit. */
    private static final AtomicInteger POLL_CLIENTS = new AtomicInteger();

    private final String name;
    private final Process process;
    private final int httpPort;
    private final int adminPort;
    private final int hazelcastPort;
    private final Path log;
    private final Http http;

    private JarNode(String name, Process process, int httpPort, int adminPort, int hazelcastPort, Path log) {
        this.name = name;
        this.process = process;
        this.httpPort = httpPort;
        this.adminPort = adminPort;
        this.hazelcastPort = hazelcastPort;
        this.log = log;
        this.http = Http.local(httpPort);
    }

    public String name() {
        return name;
    }

    public Process process() {
        return process;
    }

    public int httpPort() {
        return httpPort;
    }

    public int adminPort() {
        return adminPort;
    }

    public int hazelcastPort() {
        return hazelcastPort;
    }

    public Path log() {
        return log;
    }

    /** A client for the node's HTTP port. */
    public Http http() {
        return http;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    public String describe() {
        return name + " (pid " + process.pid() + ", http " + httpPort + ", admin " + adminPort
                + ", hazelcast " + hazelcastPort + ", log " + log + ")";
    }

    // ---------------------------------------------------------------- processes

    /** A node's environment to build on: the three ports {@link #launch} requires, in a map the caller may add to. */
    public static Map<String, String> portsEnv(int httpPort, int adminPort, int hazelcastPort) {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("DUCKE_PORT", Integer.toString(httpPort));
        env.put("DUCKE_ADMIN_PORT", Integer.toString(adminPort));
        env.put("HAZELCAST_PORT", Integer.toString(hazelcastPort));
        return env;
    }

    /** The shaded jar under test: system property {@code ducke.jar} (set by failsafe), else {@code target/duck-e.jar}. */
    public static Path jar() {
        Path jar = Path.of(System.getProperty("ducke.jar", "target/duck-e.jar")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no shaded jar at " + jar + " (system property ducke.jar); run mvn package");
        }
        return jar;
    }

    /** The project directory, where {@code config.yml} is and where nodes are started. */
    public static Path projectDir() {
        Path dir = Optional.ofNullable(System.getProperty("basedir")).map(Path::of)
                .orElse(jar().getParent().getParent()).toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve("config.yml"))) {
            throw new IllegalStateException("no config.yml in the project directory " + dir);
        }
        return dir;
    }

    /** {@code target/it-logs} of the project, where the nodes' logs go. */
    public static Path logDir() throws IOException {
        return Files.createDirectories(projectDir().resolve("target/it-logs"));
    }

    /**
     * Starts {@code java -jar jar server config.yml} in {@code workDir}, stdout and stderr to
     * {@code logDir/<logPrefix><name>.log}. The environment is the surrounding one cleaned of everything
     * that could configure the node or add JVM flags, then {@code DUCKE_NODE_NAME=name} and {@code env}.
     * {@code env} must set {@code DUCKE_PORT}, {@code DUCKE_ADMIN_PORT} and {@code HAZELCAST_PORT}.
     */
    public static JarNode launch(Path jar, Path workDir, Path logDir, String logPrefix, String name,
                                 Map<String, String> env) throws IOException {
        int httpPort = requiredPort(env, "DUCKE_PORT");
        int adminPort = requiredPort(env, "DUCKE_ADMIN_PORT");
        int hazelcastPort = requiredPort(env, "HAZELCAST_PORT");
        Path log = logDir.resolve(logPrefix + name + ".log");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "server", "config.yml")
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        Map<String, String> environment = pb.environment();
        clean(environment);
        environment.put("DUCKE_NODE_NAME", name);
        // the tests stop nodes with SIGTERM and wait 30 s or so: a relayed session a test left open must
        // not hold a node in its drain (5 minutes by default); a test of the drain sets its own
        environment.put("DUCKE_DRAIN_TIMEOUT", "5s");
        environment.putAll(env);
        return new JarNode(name, pb.start(), httpPort, adminPort, hazelcastPort, log);
    }

    /**
     * Nothing from the surrounding shell may configure a process or add JVM flags behind a test's back:
     * every variable config.yml reads goes (also one added to it later), and the families it uses.
     */
    static void clean(Map<String, String> environment) {
        Set<String> read = configVariables();
        environment.keySet().removeIf(k -> read.contains(k) || k.startsWith("DUCKE_") || k.startsWith("HAZELCAST_")
                || k.startsWith("RATE_LIMIT_") || k.startsWith("DATABASE_") || k.startsWith("COST_PROTECTION_")
                || k.startsWith("UPSTREAM_") || k.startsWith("RELAY_") || k.equals("OPENAI_API_KEY")
                || k.startsWith("CLIENT_IPV") || k.startsWith("AUDIT_") || k.equals("GRID_CALL_TIMEOUT")
                || k.equals("ALLOWED_ORIGINS") || k.equals("TRUSTED_PROXIES") || k.equals("METRICS_ALLOW_FROM")
                || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS") || k.equals("_JAVA_OPTIONS"));
    }

    /** The names of the {@code ${NAME}} variables in the project's config.yml. */
    static Set<String> configVariables() {
        try {
            Matcher m = CONFIG_VARIABLE.matcher(Files.readString(Path.of(TestApps.configPath())));
            Set<String> names = new TreeSet<>();
            while (m.find()) {
                names.add(m.group(1));
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The outcome of one command run to its end: exit code, stdout and stderr together, and how long it took. */
    public record Finished(int exitCode, String output, long millis) {
    }

    /**
     * Runs {@code java -jar jar args…} in {@code workDir} with a cleaned environment plus {@code env},
     * to its end; killed (and failed) after {@code timeout}.
     */
    public static Finished run(Path jar, Path workDir, Map<String, String> env, Duration timeout, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("duck-e-command", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile());
            clean(pb.environment());
            pb.environment().putAll(env);
            long started = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail(String.join(" ", args) + " did not finish within " + timeout + ":\n" + Files.readString(out));
            }
            return new Finished(p.exitValue(), Files.readString(out), millisSince(started));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int requiredPort(Map<String, String> env, String key) {
        String value = env.get(key);
        if (value == null) {
            throw new IllegalArgumentException(key + " missing from the node environment " + env);
        }
        return Integer.parseInt(value);
    }

    /**
     * SIGTERM to every live node at once, then wait up to {@code timeout} in all; stragglers are killed
     * and reported, one problem (with the tail of its log) per node that had to be killed.
     */
    public static List<String> stopAll(List<JarNode> nodes, Duration timeout) throws InterruptedException {
        nodes.forEach(n -> n.process().destroy());
        List<String> problems = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (JarNode n : nodes) {
            long left = Math.max(0, deadline - System.nanoTime());
            if (!n.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                n.process().destroyForcibly();
                n.process().waitFor(10, TimeUnit.SECONDS);
                problems.add(n.name() + " did not exit within " + timeout + " of SIGTERM and was killed\n"
                        + n.logTail());
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- polling

    /** One {@code GET /status} sent as the client {@code forwardedFor}. */
    @FunctionalInterface
    public interface StatusRequest {
        HttpResponse<String> send(String forwardedFor) throws IOException, InterruptedException;
    }

    /** {@link #awaitStatus(Duration, Duration, String, Predicate, StatusRequest)} through {@link #http()}. */
    public JsonNode awaitStatus(Duration within, Duration pollPause, String what, Predicate<JsonNode> condition)
            throws Exception {
        return awaitStatus(within, pollPause, what, condition,
                forwardedFor -> http.get("/status", "X-Forwarded-For", forwardedFor));
    }

    /**
     * Polls {@code GET /status} (each time as a fresh {@link #pollClient()}) until a 200 satisfies
     * {@code condition}; fails at once when the process dies and at the deadline, with the tail of the
     * node's log either way.
     */
    public JsonNode awaitStatus(Duration within, Duration pollPause, String what, Predicate<JsonNode> condition,
                                StatusRequest request) throws Exception {
        String[] last = {"no answer yet"};
        JsonNode[] answer = new JsonNode[1];
        Poll.until(describe() + " would " + what, within, pollPause, () -> "last: " + last[0] + "\n" + logTail(), () -> {
            if (!process.isAlive()) {
                fail(name + " exited with code " + process.exitValue() + " before it would " + what
                        + "; last: " + last[0] + "\n" + logTail());
            }
            try {
                HttpResponse<String> r = request.send(pollClient());
                last[0] = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200) {
                    answer[0] = Http.json(r);
                    return condition.test(answer[0]);
                }
            } catch (IOException e) {
                last[0] = e.toString();
            } catch (UncheckedIOException e) {
                last[0] = e.getCause().toString();
            }
            return false;
        });
        return answer[0];
    }

    /** A client address used once: 10.a.b.c counting up. */
    public static String pollClient() {
        int n = POLL_CLIENTS.incrementAndGet();
        return "10." + ((n >> 16) & 0xff) + "." + ((n >> 8) & 0xff) + "." + (n & 0xff);
    }

    // ---------------------------------------------------------------- helpers

    /** Free TCP ports, all distinct, below the ephemeral range (see {@link FreePorts}). */
    public static int[] freePorts(int count) {
        return FreePorts.distinct(count);
    }

    /** The last lines of the node's log, with a header naming the file. */
    public String logTail() {
        try {
            List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
            List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
            return "---- last " + tail.size() + " lines of " + log + " ----\n" + String.join("\n", tail);
        } catch (IOException e) {
            return "(log " + log + " unreadable: " + e + ")";
        }
    }

    public static long millisSince(long nanoStart) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoStart);
    }
}
