package ducke.relayload;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A plain nginx WebSocket proxy in front of the stand-in upstream, as a child process: its own
 * prefix and {@code nginx.conf} in a temporary directory, a free port on 127.0.0.1, {@code daemon off}
 * (the master runs in the foreground as this JVM's child), {@code access_log off}. Every path is
 * passed unchanged to the stand-in ({@code proxy_pass} without a URI) with {@code proxy_http_version 1.1}
 * and the {@code Upgrade}/{@code Connection} headers, and upgraded connections may sit idle for an
 * hour. {@link #close} stops it (SIGTERM: nginx's fast shutdown) and removes the prefix.
 */
final class Nginx implements AutoCloseable {

    /** How to get the binary, for the message when it is missing. */
    static final String INSTALL_HINT = "install it with `apt-get install -y nginx` (Debian/Ubuntu), or pass --nginx=PATH,"
            + " or leave the phase out with --phases=direct,service";

    final int port;
    final Path binary;
    final Path prefix;
    final Path errorLog;
    final String workers;
    private final Process process;

    /**
     * @param workers {@code worker_processes}: {@code auto} (one per CPU) or a number
     * @param bufferSize {@code proxy_buffer_size} (the buffer each direction of an upgraded connection
     *                   uses; {@code proxy_buffers} and {@code proxy_busy_buffers_size} follow so that
     *                   nginx accepts it), or null for nginx's defaults of one memory page
     */
    Nginx(Path binary, int upstreamPort, int sessions, String workers, String bufferSize, Path errorLog) throws IOException {
        this.binary = binary;
        this.port = freePort();
        this.workers = workers;
        this.errorLog = errorLog;
        this.prefix = Files.createTempDirectory("relay-load-nginx-");
        Files.createDirectories(prefix.resolve("logs"));
        Files.deleteIfExists(errorLog);
        // each session holds two connections in one worker (client side and upstream side)
        int workerConnections = Math.max(1024, 2 * sessions + 64);
        String conf = String.join("\n",
                "# written by the relay-load driver; deleted when it ends",
                "daemon off;",
                "master_process on;",
                "worker_processes " + workers + ";",
                "worker_rlimit_nofile " + (2 * workerConnections) + ";",
                "pid " + prefix.resolve("nginx.pid") + ";",
                "error_log " + errorLog + " warn;",
                "events {",
                "    worker_connections " + workerConnections + ";",
                "}",
                "http {",
                "    access_log off;",
                "    client_body_temp_path " + prefix.resolve("client_body") + ";",
                "    proxy_temp_path " + prefix.resolve("proxy") + ";",
                "    fastcgi_temp_path " + prefix.resolve("fastcgi") + ";",
                "    uwsgi_temp_path " + prefix.resolve("uwsgi") + ";",
                "    scgi_temp_path " + prefix.resolve("scgi") + ";",
                "    map $http_upgrade $connection_upgrade {",
                "        default upgrade;",
                "        ''      close;",
                "    }",
                "    server {",
                "        listen 127.0.0.1:" + port + ";",
                "        location / {",
                "            proxy_pass http://127.0.0.1:" + upstreamPort + ";",
                "            proxy_http_version 1.1;",
                "            proxy_set_header Upgrade $http_upgrade;",
                "            proxy_set_header Connection $connection_upgrade;",
                bufferSize == null ? "            # proxy_buffer_size: nginx's default (one memory page)"
                        : "            proxy_buffer_size " + bufferSize + "; proxy_buffers 4 " + bufferSize
                        + "; proxy_busy_buffers_size " + bufferSize + ";",
                "            proxy_connect_timeout 10s;",
                "            proxy_read_timeout 3600s;",
                "            proxy_send_timeout 3600s;",
                "            send_timeout 3600s;",
                "        }",
                "    }",
                "}",
                "");
        Path confFile = prefix.resolve("nginx.conf");
        Files.writeString(confFile, conf);
        process = new ProcessBuilder(binary.toString(), "-p", prefix + "/", "-c", confFile.toString(), "-e", errorLog.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(errorLog.toFile())).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
    }

    /** The nginx binary: {@code explicit} if given, else {@code nginx} on the PATH or in /usr/sbin; null if none. */
    static Path find(Path explicit) {
        if (explicit != null) {
            return Files.isExecutable(explicit) ? explicit : null;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        Stream<String> dirs = Stream.concat(Stream.of(path.split(":")), Stream.of("/usr/sbin", "/usr/local/sbin", "/sbin"));
        return dirs.filter(d -> !d.isEmpty()).map(d -> Path.of(d, "nginx")).filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** The output of {@code nginx -v}. */
    static String version(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "-v").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return out.replace("nginx version: ", "");
        } catch (Exception e) {
            return "unknown version (" + e + ")";
        }
    }

    /** Waits until a worker answers HTTP on the port (any status: the stand-in answers plain GETs with an error). */
    void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("nginx exited with status " + process.exitValue() + " before it was ready; its log:\n"
                        + tail(30));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                http.send(get, HttpResponse.BodyHandlers.discarding());
                if (!workerPids().isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("nginx did not answer on :" + port + " within " + timeout + "; its log:\n" + tail(30));
    }

    long masterPid() {
        return process.pid();
    }

    /** The workers: the master's child processes. */
    List<Long> workerPids() {
        return process.toHandle().children().map(ProcessHandle::pid).sorted().toList();
    }

    /** Master and workers. */
    List<Long> allPids() {
        return Stream.concat(Stream.of(masterPid()), workerPids().stream()).toList();
    }

    /** utime + stime of master and workers, in clock ticks; -1 when one of them is unreadable. */
    long cpuTicks(List<Long> pids) {
        return ProcCpu.ticks(pids);
    }

    /** Lines of the error log at warn or worse. */
    List<String> logSummary() {
        try {
            return Files.readAllLines(errorLog).stream()
                    .filter(l -> l.matches(".*\\[(warn|error|crit|alert|emerg)\\].*") || l.startsWith("nginx:")).toList();
        } catch (IOException e) {
            return List.of("(no error log: " + e + ")");
        }
    }

    private String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(errorLog);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM to the master (fast shutdown: it stops the workers), then a forced kill of every process left. */
    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> workers = process.toHandle().children().toList();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        for (ProcessHandle w : workers) {
            if (w.isAlive()) {
                w.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(prefix)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.out.println("could not remove " + prefix + ": " + e);
        }
    }

    String describe() {
        return String.format(Locale.ROOT, "nginx %s on :%d (master pid %d, %d workers, worker_processes %s; conf and temp files in %s; error log %s)",
                version(binary), port, masterPid(), workerPids().size(), workers, prefix, errorLog);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
