package ducke.relayload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The real service as a child process: {@code java -jar duck-e.jar server config.yml}, run from the
 * repository root, on free ports, alone in a cluster of its own, pointed at the stand-in upstream,
 * with rate limits off and the concurrent-session cap raised to its maximum, 1000 (every load
 * session comes from one address). Its console output goes to a log file, which {@link #logSummary} reads afterwards.
 */
final class Service implements AutoCloseable {

    final int port;
    final int adminPort;
    final int gridPort;
    final Path log;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    Service(Path jar, Path config, Path workDir, String upstreamUrl, Path log, List<String> jvmArgs) throws IOException {
        this.port = freePort();
        this.adminPort = freePort();
        this.gridPort = freePort();
        this.log = log;
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", jar.toString(), "server", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("DUCKE_PORT", Integer.toString(port));
        env.put("DUCKE_ADMIN_PORT", Integer.toString(adminPort));
        env.put("HAZELCAST_PORT", Integer.toString(gridPort));
        env.put("HAZELCAST_INTERFACES", "127.0.0.1");
        env.put("HAZELCAST_MEMBERS", "");
        env.put("HAZELCAST_CLUSTER_NAME", "relay-load-" + UUID.randomUUID());
        env.put("DUCKE_NODE_NAME", "relay-load");
        env.put("UPSTREAM_URL", upstreamUrl);
        env.put("OPENAI_API_KEY", "bench-key");
        env.put("RATE_LIMIT_ENABLED", "false");
        // the highest value the service accepts (its validation caps it at 1000)
        env.put("COST_PROTECTION_MAX_CONCURRENT_SESSIONS", "1000");
        // tokens of this run only (the driver uses neither); set so the service does not log generated ones
        env.put("DUCKE_SERVICE_TOKEN", "relay-load-" + UUID.randomUUID());
        env.put("DUCKE_OPERATOR_TOKEN", "relay-load-" + UUID.randomUUID());
        process = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
    }

    /** Waits until {@code GET /status} answers 200; returns its body. */
    String awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
                .timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the service exited with status " + process.exitValue()
                        + " before it was ready; its log:\n" + tail(40));
            }
            try {
                HttpResponse<String> r = http.send(status, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r.body();
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the service did not answer GET /status with 200 within " + timeout
                + "; its log:\n" + tail(40));
    }

    /** The {@code relay_*} samples of {@code /metrics}. */
    List<String> relayMetrics() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.body().lines().filter(l -> l.startsWith("relay_")).toList();
        } catch (Exception e) {
            return List.of("(could not read /metrics: " + e + ")");
        }
    }

    long pid() {
        return process.pid();
    }

    /** Log lines at WARN or ERROR, and the relay's "Closing session" lines (stalled sessions). */
    List<String> logSummary() {
        try {
            return Files.readAllLines(log).stream()
                    .filter(l -> l.startsWith("WARN") || l.startsWith("ERROR") || l.contains(" WARN ")
                            || l.contains(" ERROR ") || l.contains("Closing session") || l.contains("Exception"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM (a graceful stop: sessions end, the member leaves), then a forced kill if it hangs. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
