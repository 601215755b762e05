package ducke.relayload;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Load driver of the {@code /session} relay.
 *
 * <pre>
 * java -jar target/relay-load.jar [sessions=50] [framesPerSession=200] [payloadBytes=4096] [options]
 *   --pace-ms=P        at most one frame per session every P ms (default 0: send the next frame as soon as
 *                      the echo of the last one is back; one frame outstanding per session either way)
 *   --warmup=W         unmeasured frames per session before each measured round, never paced
 *                      (default max(20, 20000/N))
 *   --clients=C        JDK HttpClients the sessions are spread over (default min(N, 4))
 *   --jar=PATH         the service's shaded jar   (default: target/duck-e.jar of the repository holding this jar)
 *   --config=PATH      the service's config.yml   (default: config.yml next to that target/; the service runs there)
 *   --log=PATH         where the service's console output goes (default: service.log next to this jar)
 *   --service-jvm=ARGS extra JVM options of the service, space-separated (default none)
 *   --stall-seconds=S  give a round up when no echo arrived for S seconds (default 20)
 * </pre>
 *
 * It starts the stand-in upstream ({@link EchoUpstream}) in this JVM and the service as a child
 * process ({@link Service}), then measures two phases with the same N, M and payload: DIRECT
 * (sessions straight to the stand-in) and RELAY (sessions to {@code /session}, which opens one
 * upstream connection per session to the stand-in). Each phase: connect N sessions at once and wait
 * until each is ready, one warm-up round, one measured round, close. The relay's added latency per
 * frame is reported as the difference of the two phases' percentiles. Exit status 0 when every
 * frame came back intact, 1 otherwise.
 */
public final class RelayLoad {

    private static final double MS = 1_000_000.0;

    private record Phase(String name, long[] rtts, long[] setups, long wallNanos, long driverCpuNanos, long serviceCpuNanos,
                         int failedSessions, int problems, List<String> problemLines, boolean stalled) {
        double roundTripsPerSecond() {
            return wallNanos <= 0 ? 0 : rtts.length / (wallNanos / 1e9);
        }
    }

    public static void main(String[] args) throws Exception {
        int sessions = 50;
        int frames = 200;
        int payloadBytes = 4096;
        long paceMs = 0;
        Integer warmup = null;
        Integer clients = null;
        Path jar = null;
        Path config = null;
        Path log = null;
        List<String> serviceJvm = List.of();
        int stallSeconds = 20;
        int positional = 0;
        for (String a : args) {
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                if (eq < 0) {
                    usage("option without a value: " + a);
                }
                String key = a.substring(2, eq);
                String value = a.substring(eq + 1);
                switch (key) {
                    case "pace-ms" -> paceMs = Long.parseLong(value);
                    case "warmup" -> warmup = Integer.parseInt(value);
                    case "clients" -> clients = Integer.parseInt(value);
                    case "jar" -> jar = Path.of(value).toAbsolutePath().normalize();
                    case "config" -> config = Path.of(value).toAbsolutePath().normalize();
                    case "log" -> log = Path.of(value).toAbsolutePath().normalize();
                    case "service-jvm" -> serviceJvm = value.isBlank() ? List.of() : List.of(value.trim().split("\\s+"));
                    case "stall-seconds" -> stallSeconds = Integer.parseInt(value);
                    default -> usage("unknown option " + a);
                }
            } else {
                int v = Integer.parseInt(a);
                switch (positional++) {
                    case 0 -> sessions = v;
                    case 1 -> frames = v;
                    case 2 -> payloadBytes = v;
                    default -> usage("too many arguments");
                }
            }
        }
        if (sessions < 1 || sessions > 1000 || frames < 1 || payloadBytes < 0) {
            usage("sessions must be 1..1000 (the service caps concurrent sessions per client at 1000),"
                    + " frames positive, payload bytes not negative");
        }
        int warm = warmup != null ? warmup : Math.max(20, 20_000 / sessions);
        int clientCount = clients != null ? clients : Math.min(sessions, 4);

        Path here = driverLocation();
        Path root = findRoot(here != null ? here : Path.of("").toAbsolutePath());
        if (root == null && here != null) {
            root = findRoot(Path.of("").toAbsolutePath());
        }
        if (jar == null) {
            if (root == null) {
                usage("cannot find target/duck-e.jar above " + here + " or the working directory; pass --jar= and --config=");
            }
            jar = root.resolve("target/duck-e.jar");
        }
        if (config == null) {
            if (root == null) {
                usage("cannot find config.yml; pass --config=");
            }
            config = root.resolve("config.yml");
        }
        if (log == null) {
            log = (here != null ? here : Path.of("").toAbsolutePath()).resolve("service.log");
        }
        if (!Files.isRegularFile(jar) || !Files.isRegularFile(config)) {
            usage("missing " + (!Files.isRegularFile(jar) ? jar : config) + " (build the main project first: mvn -B -q package -DskipTests)");
        }

        String payload = payload(payloadBytes);
        int frameChars = (LoadSession.ECHO_PREFIX + "1234,\"audio\":\"" + payload + "\"}").length();
        System.out.printf(Locale.ROOT, "relay-load: %d sessions x %d frames, payload %d B (frame ~%d B), warm-up %d frames/session (never paced), %s, %d HttpClients%n",
                sessions, frames, payloadBytes, frameChars, warm,
                paceMs == 0 ? "closed loop (next frame when the echo is back)" : "paced: <= 1 frame / " + paceMs + " ms / session",
                clientCount);
        System.out.printf(Locale.ROOT, "machine: %d CPUs (%s), Java %s (%s), %s %s%n", Runtime.getRuntime().availableProcessors(),
                cpuModel(), System.getProperty("java.version"), System.getProperty("java.vm.name"),
                System.getProperty("os.name"), System.getProperty("os.arch"));
        System.out.println("service: " + jar + " server " + config + "  (log: " + log + ")");

        long t0 = System.nanoTime();
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "relay-load-pacer"));
        List<ExecutorService> executors = new ArrayList<>();
        List<HttpClient> httpClients = new ArrayList<>();
        for (int i = 0; i < clientCount; i++) {
            ExecutorService ex = Executors.newCachedThreadPool(r -> daemon(r, "relay-load-client"));
            executors.add(ex);
            httpClients.add(HttpClient.newBuilder().executor(ex).build());
        }
        int exit = 0;
        try (EchoUpstream upstream = new EchoUpstream()) {
            System.out.println("stand-in upstream: " + upstream.url());
            Phase direct;
            Phase relay;
            List<String> metrics;
            Service service = new Service(jar, config, config.getParent(), upstream.url(), log, serviceJvm);
            try {
                long s0 = System.nanoTime();
                String status = service.awaitReady(Duration.ofSeconds(180));
                System.out.printf(Locale.ROOT, "service pid %d ready on :%d in %.1f s: %s%n", service.pid(), service.port,
                        (System.nanoTime() - s0) / 1e9, status.length() > 160 ? status.substring(0, 160) + "…" : status);

                URI directUri = URI.create(upstream.url() + "?model=gpt-realtime");
                URI relayUri = URI.create("ws://127.0.0.1:" + service.port + "/session");
                direct = phase("direct", false, directUri, sessions, frames, warm, payload, paceMs, pacer, httpClients,
                        service, stallSeconds);
                relay = phase("relay", true, relayUri, sessions, frames, warm, payload, paceMs, pacer, httpClients,
                        service, stallSeconds);
                Thread.sleep(500); // let the relay count the closes
                metrics = service.relayMetrics();
            } finally {
                service.close();
            }

            report(direct, relay, sessions, frames, payloadBytes, paceMs, frameChars);

            System.out.println();
            System.out.println("stand-in: " + upstream.connections() + " connections accepted, " + upstream.openConnections()
                    + " still open, " + upstream.echoed() + " echoes sent, " + upstream.sendFailures() + " echo sends failed");
            long expected = (long) sessions * (frames + warm);
            System.out.println("service /metrics (relay_*), expected " + expected + " frames each way + " + sessions
                    + " session.created upstream_to_client:");
            metrics.forEach(l -> System.out.println("  " + l));
            List<String> logLines = service.logSummary();
            System.out.println("service log: " + logLines.size() + " WARN/ERROR/exception/'Closing session' lines"
                    + (logLines.isEmpty() ? "" : ", first ones:"));
            logLines.stream().limit(15).forEach(l -> System.out.println("  " + l));

            if (direct.problems() + relay.problems() > 0 || direct.stalled() || relay.stalled()
                    || direct.failedSessions() + relay.failedSessions() > 0) {
                exit = 1;
            }
        } finally {
            pacer.shutdownNow();
            executors.forEach(ExecutorService::shutdownNow);
        }
        System.out.printf(Locale.ROOT, "total run time %.1f s; %s%n", (System.nanoTime() - t0) / 1e9,
                exit == 0 ? "every frame came back intact" : "PROBLEMS (see above)");
        System.exit(exit);
    }

    private static Phase phase(String name, boolean viaRelay, URI uri, int n, int frames, int warm, String payload, long paceMs,
                               ScheduledExecutorService pacer, List<HttpClient> clients, Service service, int stallSeconds)
            throws Exception {
        List<LoadSession> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(new LoadSession(i, viaRelay, payload, pacer));
        }
        long c0 = System.nanoTime();
        for (LoadSession s : all) {
            HttpClient client = clients.get(s.id % clients.size());
            if (viaRelay) {
                s.connect(client, uri);
            } else {
                s.connect(client, uri, "Authorization", "Bearer bench-key");
            }
        }
        List<LoadSession> live = new ArrayList<>();
        List<String> setupFailures = new ArrayList<>();
        for (LoadSession s : all) {
            try {
                s.ready.get(60, TimeUnit.SECONDS);
                live.add(s);
            } catch (Exception e) {
                setupFailures.add("session " + s.id + ": " + (e instanceof TimeoutException ? "not ready within 60 s" : e.getCause()));
            }
        }
        System.out.printf(Locale.ROOT, "%n[%s] %d/%d sessions ready in %.0f ms%n", name, live.size(), n, (System.nanoTime() - c0) / MS);
        setupFailures.stream().limit(10).forEach(l -> System.out.println("  setup failure: " + l));
        long[] setups = live.stream().mapToLong(LoadSession::setupNanos).sorted().toArray();

        // the warm-up is never paced: it is there for the JIT of all three JVMs, and the sooner the better
        boolean stalled = !run(name + " warm-up", live, warm, 0, stallSeconds).completed;
        var meter = ManagementFactory.getOperatingSystemMXBean();
        long driverCpu0 = ((com.sun.management.OperatingSystemMXBean) meter).getProcessCpuTime();
        long serviceCpu0 = service.cpuNanos();
        RoundResult measured = stalled ? new RoundResult(false, 0, 0) : run(name, live, frames, TimeUnit.MILLISECONDS.toNanos(paceMs), stallSeconds);
        long driverCpu = ((com.sun.management.OperatingSystemMXBean) meter).getProcessCpuTime() - driverCpu0;
        long serviceCpu = service.cpuNanos() - serviceCpu0;
        stalled |= !measured.completed;

        long[] rtts = live.stream().flatMapToLong(s -> Arrays.stream(s.roundTrips())).sorted().toArray();

        List<CompletableFuture<String>> closes = all.stream().map(LoadSession::close).toList();
        try {
            CompletableFuture.allOf(closes.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            long open = closes.stream().filter(f -> !f.isDone()).count();
            System.out.println("  " + open + " sessions did not finish their close handshake within 20 s; aborting them");
            all.forEach(LoadSession::abort);
        }
        List<String> problemLines = new ArrayList<>(setupFailures);
        int problems = setupFailures.size();
        for (LoadSession s : all) {
            problems += s.problemCount();
            for (String p : s.problems()) {
                problemLines.add("session " + s.id + ": " + p);
            }
        }
        System.out.printf(Locale.ROOT, "[%s] measured %d round trips in %.2f s; %d failed sessions, %d problems%s%n", name,
                rtts.length, measured.wallNanos / 1e9, measured.failedSessions, problems, stalled ? ", STALLED" : "");
        problemLines.stream().limit(20).forEach(l -> System.out.println("  problem: " + l));
        return new Phase(name, rtts, setups, measured.wallNanos, driverCpu, serviceCpu,
                measured.failedSessions + (n - live.size()), problems, problemLines, stalled);
    }

    private record RoundResult(boolean completed, long wallNanos, int failedSessions) {
    }

    /** Runs one round on every session; gives up when no echo arrived for {@code stallSeconds}. */
    private static RoundResult run(String name, List<LoadSession> sessions, int frames, long paceNanos, int stallSeconds)
            throws InterruptedException {
        LoadSession.Round round = new LoadSession.Round(frames, sessions.size(), paceNanos);
        long start = System.nanoTime();
        for (LoadSession s : sessions) {
            s.start(round);
        }
        long lastReceived = -1;
        long lastProgress = System.nanoTime();
        while (!round.done.await(1, TimeUnit.SECONDS)) {
            long now = System.nanoTime();
            long received = round.received.get();
            if (received != lastReceived) {
                lastReceived = received;
                lastProgress = now;
            } else if (now - lastProgress > TimeUnit.SECONDS.toNanos(stallSeconds)) {
                long waiting = sessions.stream().filter(s -> s.outstandingForNanos(now) >= 0).count();
                long longest = sessions.stream().mapToLong(s -> s.outstandingForNanos(now)).max().orElse(-1);
                System.out.printf(Locale.ROOT, "[%s] STALLED: no echo for %d s after %d of %d; %d sessions wait for an echo, the longest for %.1f s%n",
                        name, stallSeconds, received, (long) frames * sessions.size(), waiting, longest / 1e9);
                sessions.forEach(LoadSession::abandon);
                return new RoundResult(false, now - start, round.failedSessions.get());
            }
        }
        return new RoundResult(true, System.nanoTime() - start, round.failedSessions.get());
    }

    private static void report(Phase direct, Phase relay, int n, int m, int payloadBytes, long paceMs, int frameChars) {
        double[] q = {0.50, 0.90, 0.99, 0.999};
        System.out.println();
        System.out.printf(Locale.ROOT, "round trip per frame, ms   %9s %9s %9s %9s %9s %9s%n", "p50", "p90", "p99", "p99.9", "max", "mean");
        line("direct (stand-in only)", direct.rtts, q);
        line("relay  (via /session)", relay.rtts, q);
        if (direct.rtts.length > 0 && relay.rtts.length > 0) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s", "relay - direct"));
            for (double p : q) {
                sb.append(String.format(Locale.ROOT, " %9.3f", (pct(relay.rtts, p) - pct(direct.rtts, p)) / MS));
            }
            sb.append(String.format(Locale.ROOT, " %9.3f %9.3f",
                    (relay.rtts[relay.rtts.length - 1] - direct.rtts[direct.rtts.length - 1]) / MS,
                    (mean(relay.rtts) - mean(direct.rtts)) / MS));
            System.out.println(sb + "   (difference of the percentiles)");
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "session setup, ms          %9s %9s %9s%n", "p50", "p99", "max");
        setupLine("direct", direct.setups);
        setupLine("relay", relay.setups);
        System.out.println();
        for (Phase p : List.of(direct, relay)) {
            double rts = p.roundTripsPerSecond();
            System.out.printf(Locale.ROOT, "%-6s %,9.0f round trips/s (%,.0f frames/s through %s, %.1f MB/s each way);"
                            + " CPU per round trip: driver+stand-in %.0f us, service %.0f us%n",
                    p.name, rts, 2 * rts, p.name.equals("relay") ? "the relay, both directions" : "the stand-in socket, both directions",
                    rts * frameChars / 1e6, p.driverCpuNanos / 1e3 / Math.max(1, p.rtts.length),
                    p.serviceCpuNanos / 1e3 / Math.max(1, p.rtts.length));
        }
        System.out.println();
        System.out.println("markdown: | N | M | payload B | pacing | direct p50 / p99 / max ms | relay p50 / p99 / max ms | added p50 / p99 ms | relay round trips/s | problems |");
        boolean both = direct.rtts.length > 0 && relay.rtts.length > 0;
        System.out.printf(Locale.ROOT, "markdown: | %d | %d | %d | %s | %s | %s | %s | %,.0f | %s |%n",
                n, m, payloadBytes, paceMs == 0 ? "closed loop" : paceMs + " ms", triple(direct.rtts), triple(relay.rtts),
                both ? String.format(Locale.ROOT, "%.3f / %.3f", (pct(relay.rtts, 0.5) - pct(direct.rtts, 0.5)) / MS,
                        (pct(relay.rtts, 0.99) - pct(direct.rtts, 0.99)) / MS) : "n/a",
                relay.roundTripsPerSecond(), direct.problems + relay.problems == 0 && !relay.stalled && !direct.stalled ? "none"
                        : (direct.problems + relay.problems) + (relay.stalled || direct.stalled ? ", stalled" : ""));
    }

    private static String triple(long[] sorted) {
        return sorted.length == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f / %.3f / %.3f",
                pct(sorted, 0.5) / MS, pct(sorted, 0.99) / MS, max(sorted) / MS);
    }

    private static void line(String label, long[] sorted, double[] q) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s", label));
        if (sorted.length == 0) {
            System.out.println(sb + " (no samples)");
            return;
        }
        for (double p : q) {
            sb.append(String.format(Locale.ROOT, " %9.3f", pct(sorted, p) / MS));
        }
        sb.append(String.format(Locale.ROOT, " %9.3f %9.3f   n=%d", max(sorted) / MS, mean(sorted) / MS, sorted.length));
        System.out.println(sb);
    }

    private static void setupLine(String label, long[] sorted) {
        if (sorted.length == 0) {
            System.out.printf(Locale.ROOT, "%-26s (none)%n", label);
            return;
        }
        System.out.printf(Locale.ROOT, "%-26s %9.1f %9.1f %9.1f%n", label, pct(sorted, 0.5) / MS, pct(sorted, 0.99) / MS,
                max(sorted) / MS);
    }

    /** Nearest-rank percentile of a sorted array. */
    static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    private static long max(long[] sorted) {
        return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
    }

    private static double mean(long[] values) {
        return values.length == 0 ? 0 : Arrays.stream(values).average().orElse(0);
    }

    /** Base64 characters, like the audio of an {@code input_audio_buffer.append}. */
    private static String payload(int chars) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        StringBuilder sb = new StringBuilder(chars);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < chars; i++) {
            sb.append(alphabet.charAt(r.nextInt(64)));
        }
        return sb.toString();
    }

    private static Path driverLocation() {
        try {
            Path p = Path.of(RelayLoad.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(p) ? p.getParent() : p;
        } catch (Exception e) {
            return null;
        }
    }

    /** The nearest directory at or above {@code from} that holds target/duck-e.jar and config.yml. */
    private static Path findRoot(Path from) {
        for (Path p = from; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("target/duck-e.jar")) && Files.isRegularFile(p.resolve("config.yml"))) {
                return p;
            }
        }
        return null;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void usage(String problem) {
        System.err.println("relay-load: " + problem);
        System.err.println("usage: java -jar target/relay-load.jar [sessions=50] [framesPerSession=200] [payloadBytes=4096]"
                + " [--pace-ms=0] [--warmup=W] [--clients=C] [--jar=PATH] [--config=PATH] [--log=PATH]"
                + " [--service-jvm='ARGS'] [--stall-seconds=20]");
        System.exit(2);
    }
}
