package ducke.bench;

import ducke.core.ratelimit.Endpoints;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.RateLimiter;
import ducke.core.ratelimit.RateLimiter.Outcome;
import ducke.core.ratelimit.RateLimiter.Status;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * An allowed {@link RateLimiter#check} through the real grid store: the denial cache misses, the
 * entry processor runs on the key's partition thread, the caller waits for its answer. Clients
 * rotate over {@value #CLIENTS} keys under a limit they never reach, so every check is allowed and
 * writes a new bucket state. One caller thread; the time is a real clock read per check, as in
 * the application.
 *
 * <p>The {@code …CommonPool} variants run the same code in a JVM whose common ForkJoinPool has 2
 * threads ({@link Jvm#COMMON_POOL_2}); on a 2-core machine that changes how Hazelcast completes
 * the future of every check (a pooled thread instead of a new one).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {Jvm.OPEN_LANG, Jvm.OPEN_NIO, Jvm.OPEN_MANAGEMENT, Jvm.OPEN_COM_SUN_MANAGEMENT,
        Jvm.EXPORT_REF, Jvm.NO_PHONE_HOME, Jvm.SLF4J, Jvm.HEAP_MIN, Jvm.HEAP_MAX})
public class GridCheckBench {

    static final int CLIENTS = 100_000;
    static final String LIMIT = "1000000/minute";
    /** Far above any round trip here; a check that times out fails the run instead of counting. */
    static final long GRID_TIMEOUT_MILLIS = 5_000;

    /** Shared state of the checks: the limiter on member 0 and the clients it is asked about. */
    abstract static class Grid {
        final Clock clock = Clock.systemUTC();
        BenchCluster cluster;
        RateLimiter limiter;
        String[] clients;
        int next;

        void start(int members) throws Exception {
            int parallelism = ForkJoinPool.getCommonPoolParallelism();
            System.out.printf("%n[grid] %d core(s), common pool parallelism %d: Hazelcast completes futures on %s%n",
                    Runtime.getRuntime().availableProcessors(), parallelism,
                    parallelism > 1 ? "the common pool" : "a new thread each");
            cluster = BenchCluster.start(members, 10_000);
            limiter = new RateLimiter(Map.of(Endpoints.DEFAULT, LimitParser.parse(LIMIT)),
                    cluster.node(0).rateLimitStore(GRID_TIMEOUT_MILLIS), cluster.denials(0), true, false);
        }

        Outcome checkNext() {
            String client = clients[next];
            next = next + 1 == clients.length ? 0 : next + 1;
            Outcome o = limiter.check(Endpoints.DEFAULT, client, clock.millis());
            if (o.status() != Status.ALLOWED) {
                throw new IllegalStateException("expected an allowed check, got " + o.status());
            }
            return o;
        }

        @TearDown(Level.Trial)
        public void stop() {
            cluster.close();
        }
    }

    /** One member: the bucket is always in this JVM, and with no second member there is no backup. */
    @State(Scope.Benchmark)
    public static class OneMember extends Grid {
        @Setup(Level.Trial)
        public void setUp() throws Exception {
            start(1);
            clients = new String[CLIENTS];
            for (int i = 0; i < CLIENTS; i++) {
                clients[i] = "203.0." + (i / 256 % 256) + "." + (i % 256) + "#" + i;
            }
        }
    }

    /**
     * Two members, the limiter on member 0. {@code mixed}: every client, about half of them owned by
     * member 1; {@code local}/{@code remote}: only clients whose bucket member 0 / member 1 owns.
     * Either way the map keeps one synchronous backup on the other member, as configured in production.
     */
    @State(Scope.Benchmark)
    public static class TwoMembers extends Grid {
        @Param({"mixed", "local", "remote"})
        public String owner;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            start(2);
            clients = new String[CLIENTS];
            int remote = 0;
            for (int i = 0, n = 0; n < CLIENTS; i++) {
                String client = "203.0." + (i / 256 % 256) + "." + (i % 256) + "#" + i;
                boolean local = cluster.ownedBy(0, RateLimiter.key(Endpoints.DEFAULT, client));
                boolean take = switch (owner) {
                    case "mixed" -> true;
                    case "local" -> local;
                    case "remote" -> !local;
                    default -> throw new IllegalArgumentException("owner " + owner);
                };
                if (take) {
                    clients[n++] = client;
                    remote += local ? 0 : 1;
                }
            }
            System.out.printf("%n[two members, %s] %d of %d client buckets owned by the other member%n",
                    owner, remote, CLIENTS);
        }
    }

    @Benchmark
    public Outcome allowedOneMember(OneMember grid) {
        return grid.checkNext();
    }

    @Benchmark
    public Outcome allowedTwoMembers(TwoMembers grid) {
        return grid.checkNext();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {Jvm.OPEN_LANG, Jvm.OPEN_NIO, Jvm.OPEN_MANAGEMENT, Jvm.OPEN_COM_SUN_MANAGEMENT,
            Jvm.EXPORT_REF, Jvm.NO_PHONE_HOME, Jvm.SLF4J, Jvm.HEAP_MIN, Jvm.HEAP_MAX, Jvm.COMMON_POOL_2})
    public Outcome allowedOneMemberCommonPool(OneMember grid) {
        return grid.checkNext();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {Jvm.OPEN_LANG, Jvm.OPEN_NIO, Jvm.OPEN_MANAGEMENT, Jvm.OPEN_COM_SUN_MANAGEMENT,
            Jvm.EXPORT_REF, Jvm.NO_PHONE_HOME, Jvm.SLF4J, Jvm.HEAP_MIN, Jvm.HEAP_MAX, Jvm.COMMON_POOL_2})
    public Outcome allowedTwoMembersCommonPool(TwoMembers grid) {
        return grid.checkNext();
    }
}
