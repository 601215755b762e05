package ducke.bench;

import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.Endpoints;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.RateLimitStore;
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
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A rejected {@link RateLimiter#check} of clients already over their limit, on one real member.
 * {@code localCache=true}: the node remembered the denial, so the check is answered from
 * {@link ducke.core.ratelimit.LocalDenials} without asking the grid. {@code localCache=false}: a
 * denial cache of size 0 remembers nothing, so every rejection is an entry-processor call on
 * the grid, as an allowed check is. The store is wrapped to count grid calls, and the trial ends by
 * printing how many the benchmark loop made.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {Jvm.OPEN_LANG, Jvm.OPEN_NIO, Jvm.OPEN_MANAGEMENT, Jvm.OPEN_COM_SUN_MANAGEMENT,
        Jvm.EXPORT_REF, Jvm.NO_PHONE_HOME, Jvm.SLF4J, Jvm.HEAP_MIN, Jvm.HEAP_MAX})
public class DeniedCheckBench {

    static final int CLIENTS = 1_000;
    /** One request an hour: the first check empties the bucket, the denial lasts past the whole run. */
    static final String LIMIT = "1/hour";

    @Param({"true", "false"})
    public boolean localCache;

    private final Clock clock = Clock.systemUTC();
    private BenchCluster cluster;
    private RateLimiter limiter;
    private String[] clients;
    private int next;
    private CountingStore store;
    private long checks;
    private long gridCallsBefore;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        cluster = BenchCluster.start(1, localCache ? 10 * CLIENTS : 0);
        store = new CountingStore(cluster.node(0).rateLimitStore(GridCheckBench.GRID_TIMEOUT_MILLIS));
        limiter = new RateLimiter(Map.of(Endpoints.DEFAULT, LimitParser.parse(LIMIT)), store, cluster.denials(0), true, false);
        clients = new String[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            clients[i] = "198.51.100." + (i % 256) + "#" + i;
            expect(limiter.check(Endpoints.DEFAULT, clients[i], clock.millis()), Status.ALLOWED, false);
            expect(limiter.check(Endpoints.DEFAULT, clients[i], clock.millis()), Status.DENIED, false);
        }
        gridCallsBefore = store.calls();
    }

    @TearDown(Level.Trial)
    public void stop() {
        System.out.printf("%n[denied, localCache=%s] %d grid calls for %d checks%n",
                localCache, store.calls() - gridCallsBefore, checks);
        cluster.close();
    }

    @Benchmark
    public Outcome denied() {
        String client = clients[next];
        next = next + 1 == clients.length ? 0 : next + 1;
        checks++;
        return expect(limiter.check(Endpoints.DEFAULT, client, clock.millis()), Status.DENIED, localCache);
    }

    private static Outcome expect(Outcome o, Status status, boolean fromLocalCache) {
        if (o.status() != status || o.fromLocalCache() != fromLocalCache) {
            throw new IllegalStateException("expected " + status + (fromLocalCache ? " from the local cache" : " from the grid")
                    + ", got " + o.status() + (o.fromLocalCache() ? " from the local cache" : " from the grid"));
        }
        return o;
    }

    /** The real store, counting calls; the benchmark thread is the only caller. */
    private static final class CountingStore implements RateLimitStore {
        private final RateLimitStore delegate;
        private long calls;

        CountingStore(RateLimitStore delegate) {
            this.delegate = delegate;
        }

        long calls() {
            return calls;
        }

        @Override
        public Decision tryConsume(String key, LimitPolicy policy, long nowMillis) {
            calls++;
            return delegate.tryConsume(key, policy, nowMillis);
        }

        @Override
        public int reset(Collection<String> keys) {
            return delegate.reset(keys);
        }
    }
}
