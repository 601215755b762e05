package ducke.relayload;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Load driver of the {@code /session} relay, with nginx as the yardstick.
 *
 * <pre>
 * java -jar target/relay-load.jar [sessions=50] [framesPerSession=200] [payloadBytes=4096] [options]
 *   --pace-ms=P        at most one frame per session every P ms (default 0: send the next frame as soon as
 *                      the echo of the last one is back; one frame outstanding per session either way)
 *   --warmup=W         frames per session in each unmeasured warm-up round, never paced
 *                      (default max(20, 20000/N))
 *   --warmup-s=S       warm-up rounds run for at least S seconds in the direct and service phases (default 60;
 *                      on 2 cores the JIT compilers of the JVMs are at work for minutes) ...
 *   --warmup-max-s=S   ... and until the proxy's CPU per frame of two rounds in a row differs by at most
 *                      --warmup-spread-pct (default 5), for at most S seconds (default 300)
 *   --phases=LIST      which of direct,service,nginx to run, in that order (default all three)
 *   --clients=C        JDK HttpClients the sessions are spread over (default min(N, 4))
 *   --jar=PATH         the service's shaded jar   (default: target/duck-e.jar of the repository holding this jar)
 *   --config=PATH      the service's config.yml   (default: config.yml next to that target/; the service runs there)
 *   --log=PATH         where the service's console output goes (default: service.log next to this jar;
 *                      nginx's error log goes to nginx-error.log in the same folder)
 *   --service-jvm=ARGS extra JVM options of the service, space-separated (default none)
 *   --nginx=PATH       the nginx binary (default: nginx on the PATH or in /usr/sbin)
 *   --nginx-workers=W  nginx's worker_processes: auto (default, one per CPU) or a number
 *   --nginx-buffer=S   nginx's proxy_buffer_size, e.g. 16k (default: not set, nginx's one memory page)
 *   --idle-busy-pct=B  before each phase wait until the machine is less than B % busy (default 15) ...
 *   --idle-window-s=S  ... over S seconds (default 3) ...
 *   --idle-max-wait-s=T ... for at most T seconds, then measure anyway and say so (default 120; 0: do not wait)
 *   --stall-seconds=S  give a round up when no echo arrived for S seconds (default 20)
 * </pre>
 *
 * It starts the stand-in upstream ({@link EchoUpstream}) in this JVM, the service as a child process
 * ({@link Service}) and nginx as another ({@link Nginx}), then measures three phases with the same
 * N, M, payload and pacing: DIRECT (sessions straight to the stand-in), SERVICE (sessions to
 * {@code /session}, which opens one upstream connection per session to the stand-in) and NGINX
 * (sessions to the stand-in's path on nginx, which proxies each to the stand-in). Each phase: wait for
 * an idle machine, connect N sessions at once and wait until each is ready, warm-up rounds until the
 * proxy's CPU per frame is steady (see --warmup-s), one measured round, close. A proxy's added latency per frame is the difference of its phase's
 * percentiles and the direct phase's. Its CPU per relayed frame is the {@code utime + stime} its
 * processes spent during the measured round divided by the frames it relayed in both directions.
 * The last line of the output is a {@code summary:} line. Exit status 0 when every frame came back
 * intact, 1 otherwise, 2 for bad arguments or a missing nginx.
 */
public final class RelayLoad {

    private static final double MS = 1_000_000.0;

    enum Kind {
        DIRECT("direct", "direct  (stand-in only)"),
        SERVICE("service", "service (via /session)"),
        NGINX("nginx", "nginx   (via nginx)");

        final String id;
        final String label;

        Kind(String id, String label) {
            this.id = id;
            this.label = label;
        }
    }

    /** CPU of the measured round, in nanoseconds (-1: not measured); proxy = the process the frames went through. */
    private record Phase(Kind kind, long[] rtts, long[] setups, long wallNanos, long driverCpuNanos, long serviceCpuNanos,
                         long nginxCpuNanos, long serviceTicks, long nginxTicks, int nginxPids, int failedSessions, int problems,
                         boolean stalled, ProcCpu.Load load, int warmRounds) {
        double roundTripsPerSecond() {
            return wallNanos <= 0 ? 0 : rtts.length / (wallNanos / 1e9);
        }

        /** Frames through the proxy (or the stand-in's socket), both directions: two per round trip. */
        long frames() {
            return 2L * rtts.length;
        }

        double usPerFrame(long cpuNanos) {
            return cpuNanos < 0 || rtts.length == 0 ? Double.NaN : cpuNanos / 1e3 / frames();
        }

        long proxyCpuNanos() {
            return kind == Kind.SERVICE ? serviceCpuNanos : kind == Kind.NGINX ? nginxCpuNanos : -1;
        }
    }

    public static void main(String[] args) throws Exception {
        int sessions = 50;
        int frames = 200;
        int payloadBytes = 4096;
        long paceMs = 0;
        Integer warmup = null;
        int warmupSeconds = 60;
        int warmupMaxSeconds = 300;
        double warmupSpreadPct = 5;
        Integer clients = null;
        Path jar = null;
        Path config = null;
        Path log = null;
        List<String> serviceJvm = List.of();
        EnumSet<Kind> kinds = EnumSet.allOf(Kind.class);
        Path nginxPath = null;
        String nginxWorkers = "auto";
        String nginxBuffer = null;
        double idleBusyPct = 15;
        int idleWindow = 3;
        int idleMaxWait = 120;
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
                    case "warmup-s" -> warmupSeconds = Integer.parseInt(value);
                    case "warmup-max-s" -> warmupMaxSeconds = Integer.parseInt(value);
                    case "warmup-spread-pct" -> warmupSpreadPct = Double.parseDouble(value);
                    case "clients" -> clients = Integer.parseInt(value);
                    case "jar" -> jar = Path.of(value).toAbsolutePath().normalize();
                    case "config" -> config = Path.of(value).toAbsolutePath().normalize();
                    case "log" -> log = Path.of(value).toAbsolutePath().normalize();
                    case "service-jvm" -> serviceJvm = value.isBlank() ? List.of() : List.of(value.trim().split("\\s+"));
                    case "phases" -> kinds = phases(value);
                    case "nginx" -> nginxPath = Path.of(value).toAbsolutePath().normalize();
                    case "nginx-workers" -> {
                        if (!value.equals("auto") && !value.matches("[1-9][0-9]?")) {
                            usage("--nginx-workers must be auto or 1..99");
                        }
                        nginxWorkers = value;
                    }
                    case "nginx-buffer" -> {
                        if (!value.matches("[1-9][0-9]*[kKmM]?")) {
                            usage("--nginx-buffer must be a size like 16k");
                        }
                        nginxBuffer = value;
                    }
                    case "idle-busy-pct" -> idleBusyPct = Double.parseDouble(value);
                    case "idle-window-s" -> idleWindow = Integer.parseInt(value);
                    case "idle-max-wait-s" -> idleMaxWait = Integer.parseInt(value);
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

        Path nginxBinary = null;
        if (kinds.contains(Kind.NGINX)) {
            nginxBinary = Nginx.find(nginxPath);
            if (nginxBinary == null) {
                System.err.println("relay-load: the nginx phase needs nginx, and " + (nginxPath != null ? nginxPath + " is not executable"
                        : "there is no nginx on the PATH or in /usr/sbin") + ": " + Nginx.INSTALL_HINT);
                System.exit(2);
            }
        }
        Path here = driverLocation();
        if (log == null) {
            log = (here != null ? here : Path.of("").toAbsolutePath()).resolve("service.log");
        }
        if (kinds.contains(Kind.SERVICE)) {
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
            if (!Files.isRegularFile(jar) || !Files.isRegularFile(config)) {
                usage("missing " + (!Files.isRegularFile(jar) ? jar : config) + " (build the main project first: mvn -B -q package -DskipTests)");
            }
        }

        String sample = payload(payloadBytes);
        int frameChars = (LoadSession.ECHO_PREFIX + "1234\",\"audio\":\"" + sample + "\"}").length();
        System.out.printf(Locale.ROOT, "relay-load: %d sessions x %d frames, payload %d B (frame ~%d B), warm-up rounds of %d frames/session (never paced; direct and service: %d..%d s, until CPU/frame steady within %s %%), %s, %d HttpClients, phases %s%n",
                sessions, frames, payloadBytes, frameChars, warm, warmupSeconds, warmupMaxSeconds, fmt(warmupSpreadPct),
                paceMs == 0 ? "closed loop (next frame when the echo is back)" : "paced: <= 1 frame / " + paceMs + " ms / session",
                clientCount, kinds.stream().map(k -> k.id).collect(Collectors.joining(",")));
        System.out.printf(Locale.ROOT, "machine: %d CPUs (%s), Java %s (%s), %s %s; CPU times from /proc in ticks of 1/%d s%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"), System.getProperty("os.name"), System.getProperty("os.arch"), ProcCpu.TICKS_PER_SECOND);
        if (kinds.contains(Kind.SERVICE)) {
            System.out.println("service: " + jar + " server " + config + "  (log: " + log + ")");
        }

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
        Map<Kind, Phase> done = new EnumMap<>(Kind.class);
        List<String> metrics = List.of();
        List<String> serviceLog = List.of();
        List<String> nginxLog = List.of();
        int pathProblems = 0;
        try (EchoUpstream upstream = new EchoUpstream()) {
            System.out.println("stand-in upstream: " + upstream.url());
            Service service = null;
            Nginx nginx = null;
            try {
                if (kinds.contains(Kind.SERVICE)) {
                    service = new Service(jar, config, config.getParent(), upstream.url(), log, serviceJvm);
                }
                if (kinds.contains(Kind.NGINX)) {
                    nginx = new Nginx(nginxBinary, upstream.port(), sessions, nginxWorkers, nginxBuffer,
                            log.resolveSibling("nginx-error.log"));
                }
                if (service != null) {
                    long s0 = System.nanoTime();
                    String status = service.awaitReady(Duration.ofSeconds(180));
                    System.out.printf(Locale.ROOT, "service pid %d ready on :%d in %.1f s: %s%n", service.pid(), service.port,
                            (System.nanoTime() - s0) / 1e9, status.length() > 160 ? status.substring(0, 160) + "…" : status);
                }
                if (nginx != null) {
                    nginx.awaitReady(Duration.ofSeconds(20));
                    System.out.println(nginx.describe());
                }

                // the same URI and headers as a client of the realtime API; nginx passes the path through unchanged
                String apiPath = EchoUpstream.PATH + "?model=gpt-realtime";
                for (Kind kind : kinds) {
                    URI uri = switch (kind) {
                        case DIRECT -> URI.create("ws://127.0.0.1:" + upstream.port() + apiPath);
                        case SERVICE -> URI.create("ws://127.0.0.1:" + service.port + "/session");
                        case NGINX -> URI.create("ws://127.0.0.1:" + nginx.port + apiPath);
                    };
                    ProcCpu.Load load = ProcCpu.awaitIdle(idleBusyPct, idleWindow, idleMaxWait);
                    System.out.printf(Locale.ROOT, "%n[%s] %s; %s%n", kind.id, uri, load);
                    int connections0 = upstream.connections();
                    long echoed0 = upstream.echoed();
                    WarmUpRule rule = new WarmUpRule(warm, kind == Kind.NGINX ? 0 : warmupSeconds, warmupMaxSeconds, warmupSpreadPct);
                    Phase p = phase(kind, uri, sessions, frames, rule, payloadBytes, paceMs, pacer, httpClients, service, nginx,
                            stallSeconds, load);
                    int connections = upstream.connections() - connections0;
                    System.out.printf(Locale.ROOT, "[%s] stand-in: %d connections accepted (expected %d), %d echoes sent%n",
                            kind.id, connections, sessions, upstream.echoed() - echoed0);
                    if (connections != sessions) {
                        System.out.println("  problem: the stand-in saw " + connections + " connections in this phase, not " + sessions);
                        pathProblems++;
                    }
                    done.put(kind, p);
                    if (kind == Kind.SERVICE) {
                        Thread.sleep(500); // let the relay count the closes
                        metrics = service.relayMetrics();
                    }
                }
            } finally {
                if (nginx != null) {
                    nginx.close();
                    nginxLog = nginx.logSummary();
                }
                if (service != null) {
                    service.close();
                    serviceLog = service.logSummary();
                }
            }

            report(done, sessions, frames, payloadBytes, paceMs, frameChars);

            System.out.println();
            System.out.println("stand-in: " + upstream.connections() + " connections accepted, " + upstream.openConnections()
                    + " still open, " + upstream.echoed() + " echoes sent, " + upstream.sendFailures() + " echo sends failed, "
                    + upstream.sessionUpdates() + " session.update answered");
            if (kinds.contains(Kind.SERVICE)) {
                long expected = (long) sessions * (frames + (long) warm * (done.containsKey(Kind.SERVICE) ? done.get(Kind.SERVICE).warmRounds() : 1));
                System.out.println("service /metrics (relay_*, zeros left out); expected relay_frames_total client_to_upstream "
                        + expected + ", upstream_to_client " + (expected + sessions + upstream.sessionUpdates()) + " (the same + "
                        + sessions + " session.created + " + upstream.sessionUpdates() + " session.updated):");
                metrics.stream().filter(l -> !l.endsWith(" 0.0")).forEach(l -> System.out.println("  " + l));
                System.out.println("service log: " + serviceLog.size() + " WARN/ERROR/exception/'Closing session' lines"
                        + (serviceLog.isEmpty() ? "" : ", first ones:"));
                serviceLog.stream().limit(15).forEach(l -> System.out.println("  " + l));
            }
            if (kinds.contains(Kind.NGINX)) {
                System.out.println("nginx error log: " + nginxLog.size() + " lines at warn or worse" + (nginxLog.isEmpty() ? "" : ", first ones:"));
                nginxLog.stream().limit(15).forEach(l -> System.out.println("  " + l));
            }
        } finally {
            pacer.shutdownNow();
            executors.forEach(ExecutorService::shutdownNow);
        }
        int problems = pathProblems;
        boolean trouble = pathProblems > 0 || done.size() < kinds.size();
        for (Phase p : done.values()) {
            problems += p.problems();
            trouble |= p.problems() > 0 || p.stalled() || p.failedSessions() > 0;
        }
        exit = trouble ? 1 : 0;
        String noisy = done.values().stream().filter(p -> !p.load().quiet()).map(p -> p.kind().id).collect(Collectors.joining(", "));
        System.out.println(noisy.isEmpty() ? "machine: below " + fmt(idleBusyPct) + " % busy before every phase"
                : "machine: NOT QUIET before " + noisy + " (over " + fmt(idleBusyPct) + " % busy after the wait): rough figures");
        System.out.printf(Locale.ROOT, "total run time %.1f s; %s%n", (System.nanoTime() - t0) / 1e9,
                exit == 0 ? "every frame came back intact" : "PROBLEMS (see above)");
        System.out.println(summary(done, sessions, paceMs, problems));
        System.exit(exit);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static EnumSet<Kind> phases(String list) {
        EnumSet<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (String name : list.split(",")) {
            Kind k = Arrays.stream(Kind.values()).filter(x -> x.id.equals(name.trim())).findFirst().orElse(null);
            if (k == null) {
                usage("unknown phase '" + name + "' (phases: direct, service, nginx)");
            }
            kinds.add(k);
        }
        if (kinds.isEmpty()) {
            usage("no phase");
        }
        return kinds;
    }

    private static Phase phase(Kind kind, URI uri, int n, int frames, WarmUpRule warmRule, int payloadBytes, long paceMs,
                               ScheduledExecutorService pacer, List<HttpClient> clients, Service service, Nginx nginx,
                               int stallSeconds, ProcCpu.Load load) throws Exception {
        boolean viaService = kind == Kind.SERVICE;
        List<LoadSession> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // a payload of its own per session, so an echo that reached the wrong session does not match
            all.add(new LoadSession(i, viaService, payload(payloadBytes), pacer));
        }
        long c0 = System.nanoTime();
        for (LoadSession s : all) {
            HttpClient client = clients.get(s.id % clients.size());
            if (viaService) {
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
        System.out.printf(Locale.ROOT, "[%s] %d/%d sessions ready in %.0f ms%n", kind.id, live.size(), n, (System.nanoTime() - c0) / MS);
        setupFailures.stream().limit(10).forEach(l -> System.out.println("  setup failure: " + l));
        long[] setups = live.stream().mapToLong(LoadSession::setupNanos).sorted().toArray();

        long self = ProcessHandle.current().pid();
        List<Long> nginxPids = nginx == null ? List.of() : nginx.allPids();
        // the warm-up is never paced: it is there for the JIT of the JVMs, and the sooner the better
        LongSupplier proxyTicks = switch (kind) {
            case DIRECT -> () -> ProcCpu.ticks(self);
            case SERVICE -> () -> ProcCpu.ticks(service.pid());
            case NGINX -> () -> ProcCpu.ticks(nginxPids);
        };
        WarmUp warmed = warmUp(kind, live, warmRule, stallSeconds, proxyTicks);
        boolean stalled = warmed.stalled();
        long driver0 = ProcCpu.ticks(self);
        long service0 = service == null ? -1 : ProcCpu.ticks(service.pid());
        long nginx0 = nginx == null ? -1 : ProcCpu.ticks(nginxPids);
        RoundResult measured = stalled ? new RoundResult(false, 0, 0)
                : run(kind.id, live, frames, TimeUnit.MILLISECONDS.toNanos(paceMs), stallSeconds);
        long driverTicks = delta(driver0, ProcCpu.ticks(self));
        long serviceTicks = delta(service0, service == null ? -1 : ProcCpu.ticks(service.pid()));
        long nginxTicks = delta(nginx0, nginx == null ? -1 : ProcCpu.ticks(nginxPids));
        if (nginx != null && !nginx.allPids().equals(nginxPids)) {
            System.out.println("  note: nginx's processes changed during the round (" + nginxPids + " -> " + nginx.allPids()
                    + "); its CPU covers only the first set");
        }
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
        // a session that never became ready counts once; the others count each problem they saw
        int problems = setupFailures.size();
        for (LoadSession s : live) {
            problems += s.problemCount();
            for (String p : s.problems()) {
                problemLines.add("session " + s.id + ": " + p);
            }
        }
        int updated = all.stream().mapToInt(s -> s.sessionUpdated.get()).sum();
        System.out.printf(Locale.ROOT, "[%s] measured %d round trips in %.2f s; %d failed sessions, %d problems%s%s%n", kind.id,
                rtts.length, measured.wallNanos / 1e9, measured.failedSessions, problems, stalled ? ", STALLED" : "",
                updated == 0 ? "" : "; " + updated + " session.updated (answers to the relay's own session.update)");
        problemLines.stream().limit(20).forEach(l -> System.out.println("  problem: " + l));
        return new Phase(kind, rtts, setups, measured.wallNanos, ProcCpu.ticksToNanos(driverTicks), ProcCpu.ticksToNanos(serviceTicks),
                ProcCpu.ticksToNanos(nginxTicks), serviceTicks, nginxTicks, nginxPids.size(),
                measured.failedSessions + (n - live.size()), problems, stalled, load, warmed.rounds());
    }

    /** Warm-up rounds of {@code frames} per session, for at least {@code minSeconds} and until steady, at most {@code maxSeconds}. */
    private record WarmUpRule(int frames, int minSeconds, int maxSeconds, double spreadPct) {
    }

    private record WarmUp(boolean stalled, int rounds) {
    }

    /**
     * Unpaced rounds until the CPU the proxy (the stand-in's JVM for the direct phase) spends per
     * frame is steady: two rounds in a row within {@code spreadPct} of each other, after at least
     * {@code minSeconds}. A JVM that is still compiling spends more per frame round after round.
     */
    private static WarmUp warmUp(Kind kind, List<LoadSession> live, WarmUpRule rule, int stallSeconds, LongSupplier ticks)
            throws InterruptedException {
        long start = System.nanoTime();
        double last = -1;
        StringBuilder perRound = new StringBuilder();
        int rounds = 0;
        while (true) {
            long t0 = ticks.getAsLong();
            RoundResult r = run(kind.id + " warm-up", live, rule.frames(), 0, stallSeconds);
            rounds++;
            if (!r.completed) {
                return new WarmUp(true, rounds);
            }
            double us = ProcCpu.ticksToNanos(ticks.getAsLong() - t0) / 1e3 / (2.0 * rule.frames() * live.size());
            perRound.append(String.format(Locale.ROOT, " %.0f", us));
            double elapsed = (System.nanoTime() - start) / 1e9;
            boolean steady = last > 0 && Math.abs(us - last) <= rule.spreadPct() / 100 * last;
            if ((steady && elapsed >= rule.minSeconds()) || elapsed >= rule.maxSeconds()) {
                System.out.printf(Locale.ROOT, "[%s] warm-up: %d rounds in %.0f s, %s; CPU us per frame by round:%s%n", kind.id,
                        rounds, elapsed, steady ? "steady" : "NOT STEADY (time is up)", perRound);
                return new WarmUp(false, rounds);
            }
            last = us;
        }
    }

    private static long delta(long before, long after) {
        return before < 0 || after < 0 ? -1 : after - before;
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

    private static void report(Map<Kind, Phase> phases, int n, int m, int payloadBytes, long paceMs, int frameChars) {
        double[] q = {0.50, 0.90, 0.99, 0.999};
        Phase direct = phases.get(Kind.DIRECT);
        System.out.println();
        System.out.printf(Locale.ROOT, "round trip per frame, ms   %9s %9s %9s %9s %9s %9s%n", "p50", "p90", "p99", "p99.9", "max", "mean");
        for (Phase p : phases.values()) {
            line(p.kind.label, p.rtts, q);
        }
        for (Phase p : phases.values()) {
            if (p.kind == Kind.DIRECT || direct == null || direct.rtts.length == 0 || p.rtts.length == 0) {
                continue;
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s", "added by " + p.kind.id));
            for (double x : q) {
                sb.append(String.format(Locale.ROOT, " %+9.3f", (pct(p.rtts, x) - pct(direct.rtts, x)) / MS));
            }
            sb.append(String.format(Locale.ROOT, " %+9.3f %+9.3f", (max(p.rtts) - max(direct.rtts)) / MS,
                    (mean(p.rtts) - mean(direct.rtts)) / MS));
            System.out.println(sb + "   (" + p.kind.id + " - direct, per percentile)");
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "session setup, ms          %9s %9s %9s%n", "p50", "p99", "max");
        for (Phase p : phases.values()) {
            setupLine(p.kind.id, p.setups);
        }
        System.out.println();
        System.out.println("throughput of the measured round, and CPU per frame: utime+stime (/proc/<pid>/stat) spent during the");
        System.out.println("measured round / (2 x round trips), i.e. per frame per direction; * marks the phase's proxy, the other");
        System.out.println("process columns are idle background (not in the frames' path)");
        System.out.printf(Locale.ROOT, "%-8s %13s %11s %9s | %11s %11s %15s | %s%n", "phase", "round trips/s", "frames/s", "MB/s each",
                "service us", "nginx us", "driver+stand-in", "machine before the phase");
        for (Phase p : phases.values()) {
            double rts = p.roundTripsPerSecond();
            System.out.printf(Locale.ROOT, "%-8s %,13.0f %,11.0f %9.1f | %11s %11s %15s | %s%n", p.kind.id, rts, 2 * rts,
                    rts * frameChars / 1e6, us(p, p.serviceCpuNanos, Kind.SERVICE), us(p, p.nginxCpuNanos, Kind.NGINX),
                    us(p, p.driverCpuNanos, null), p.load.brief());
        }
        for (Phase p : phases.values()) {
            long ticks = p.kind == Kind.SERVICE ? p.serviceTicks : p.kind == Kind.NGINX ? p.nginxTicks : -1;
            if (ticks >= 0 && p.rtts.length > 0) {
                int pids = p.kind == Kind.SERVICE ? 1 : p.nginxPids;
                System.out.printf(Locale.ROOT, "%s CPU: %d ticks over %d processes for %,d relayed frames (resolution about +/-%.1f us per frame)%n",
                        p.kind.id, ticks, pids, p.frames(), pids * 1e6 / ProcCpu.TICKS_PER_SECOND / p.frames());
            }
        }
        Phase service = phases.get(Kind.SERVICE);
        Phase nginx = phases.get(Kind.NGINX);
        if (service != null && service.rtts.length > 0 && service.serviceCpuNanos >= 0) {
            // the service's own background (Hazelcast, timers) while no session is on it: its rate in the other phases
            long bgNanos = 0;
            long bgWall = 0;
            for (Phase p : phases.values()) {
                if (p.kind != Kind.SERVICE && p.serviceCpuNanos >= 0 && p.wallNanos > 0) {
                    bgNanos += p.serviceCpuNanos;
                    bgWall += p.wallNanos;
                }
            }
            if (bgWall > 0) {
                double bgPerSecond = (double) bgNanos / bgWall;
                double net = service.serviceCpuNanos - bgPerSecond * service.wallNanos;
                System.out.printf(Locale.ROOT, "service CPU without its idle background (%.1f ms of CPU per s while the other phases ran):"
                        + " %.1f us per relayed frame (for reading only; the summary line has the whole figure)%n",
                        bgPerSecond * 1e3, net / 1e3 / service.frames());
            }
        }
        System.out.println();
        System.out.println("markdown: | N | M | payload B | pacing | direct p50 / p99 / max ms | service p50 / p99 / max ms | nginx p50 / p99 / max ms"
                + " | added p50 / p99 ms: service | added p50 / p99 ms: nginx | round trips/s: direct / service / nginx"
                + " | CPU us per relayed frame: service / nginx (ratio) | problems |");
        int problems = phases.values().stream().mapToInt(Phase::problems).sum();
        boolean stalled = phases.values().stream().anyMatch(Phase::stalled);
        System.out.printf(Locale.ROOT, "markdown: | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s (%s) | %s |%n",
                n, m, payloadBytes, paceMs == 0 ? "closed loop" : paceMs + " ms",
                triple(direct), triple(service), triple(nginx), added(service, direct), added(nginx, direct),
                rate(direct), rate(service), rate(nginx),
                num(proxyUs(service), "%.1f"), num(proxyUs(nginx), "%.1f"), num(proxyUs(service) / proxyUs(nginx), "%.2f×"),
                problems == 0 && !stalled ? "none" : problems + (stalled ? ", stalled" : ""));
    }

    private static String summary(Map<Kind, Phase> phases, int n, long paceMs, int problems) {
        Phase direct = phases.get(Kind.DIRECT);
        Phase service = phases.get(Kind.SERVICE);
        double addedP50 = Double.NaN;
        double addedP99 = Double.NaN;
        if (direct != null && service != null && direct.rtts.length > 0 && service.rtts.length > 0) {
            addedP50 = (pct(service.rtts, 0.5) - pct(direct.rtts, 0.5)) / MS;
            addedP99 = (pct(service.rtts, 0.99) - pct(direct.rtts, 0.99)) / MS;
        }
        double serviceUs = proxyUs(service);
        double nginxUs = proxyUs(phases.get(Kind.NGINX));
        return String.format(Locale.ROOT, "summary: sessions=%d pace_ms=%d added_p50_ms=%s added_p99_ms=%s service_cpu_us_per_frame=%s"
                        + " nginx_cpu_us_per_frame=%s cpu_ratio=%s problems=%d",
                n, paceMs, num(addedP50, "%.3f"), num(addedP99, "%.3f"), num(serviceUs, "%.1f"), num(nginxUs, "%.1f"),
                num(serviceUs / nginxUs, "%.2f"), problems);
    }

    /** The proxy's CPU per relayed frame of a phase, in µs; NaN when not measured. */
    private static double proxyUs(Phase p) {
        return p == null ? Double.NaN : p.usPerFrame(p.proxyCpuNanos());
    }

    private static String us(Phase p, long nanos, Kind proxy) {
        double v = p.usPerFrame(nanos);
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%s", v, p.kind == proxy ? "*" : " ");
    }

    private static String num(double v, String format) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, format, v);
    }

    private static String added(Phase p, Phase direct) {
        if (p == null || direct == null || p.rtts.length == 0 || direct.rtts.length == 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%+.3f / %+.3f", (pct(p.rtts, 0.5) - pct(direct.rtts, 0.5)) / MS,
                (pct(p.rtts, 0.99) - pct(direct.rtts, 0.99)) / MS);
    }

    private static String rate(Phase p) {
        return p == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", p.roundTripsPerSecond());
    }

    private static String triple(Phase p) {
        return p == null ? "n/a" : triple(p.rtts);
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
                + " [--pace-ms=0] [--warmup=W] [--warmup-s=60] [--warmup-max-s=300] [--warmup-spread-pct=5] [--clients=C] [--jar=PATH] [--config=PATH] [--log=PATH]"
                + " [--service-jvm='ARGS'] [--phases=direct,service,nginx] [--nginx=PATH] [--nginx-workers=auto]"
                + " [--nginx-buffer=SIZE] [--idle-busy-pct=15] [--idle-window-s=3] [--idle-max-wait-s=120] [--stall-seconds=20]");
        System.exit(2);
    }
}
