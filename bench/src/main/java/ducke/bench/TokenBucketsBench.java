package ducke.bench;

import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.TokenBuckets;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The pure bucket arithmetic alone: refill, take one token, describe the result; what the entry
 * processor runs on the partition thread for every check. One client calls once a second (time
 * advances 1000 ms per call), which the policies refill exactly, so every call is allowed and
 * takes the full path: refill, consume, new state.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {Jvm.HEAP_MIN, Jvm.HEAP_MAX})
public class TokenBucketsBench {

    private static final long STEP_MILLIS = 1000;

    /** One band, and the two-band shape of a tool quota (short burst limit plus a daily cap). */
    @Param({"60/minute", "60/minute;86400/day"})
    public String limit;

    private LimitPolicy policy;
    private BucketState state;
    private long nowMillis;

    @Setup(Level.Iteration)
    public void setUp() {
        policy = LimitParser.parse(limit);
        nowMillis = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
        state = TokenBuckets.fresh(policy, nowMillis);
    }

    @Benchmark
    public Decision tryConsume() {
        nowMillis += STEP_MILLIS;
        Decision d = TokenBuckets.tryConsume(policy, state, nowMillis);
        if (!d.allowed()) {
            throw new IllegalStateException("bucket ran dry: the benchmark would measure denials");
        }
        state = d.state();
        return d;
    }
}
