package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LeaseAsk;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.TokenBuckets;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Takes one token, or a lease of several ({@link TokenBuckets#take}), on the partition that owns
 * the bucket, after giving back the caller's previous lease. Deterministic: the caller's
 * {@code nowMillis} and lease generation travel with it, so the backup replica computes the same
 * state. The entry's
 * time-to-live is set to when the bucket would be full again; after that, a missing entry and a
 * stored one mean the same thing, so idle buckets simply disappear (an entry with leases
 * outstanding lives until they are written off).
 */
final class ConsumeProcessor extends GridProcessor<String, BucketState, Decision> {

    /** Extra life for an entry beyond its refill time, so clock skew between nodes never loses state early. */
    static final long TTL_SLACK_MILLIS = 5_000;

    private LimitPolicy policy;
    private long nowMillis;
    private LeaseAsk ask;

    ConsumeProcessor() {
    }

    ConsumeProcessor(LimitPolicy policy, long nowMillis) {
        this(policy, nowMillis, LeaseAsk.ONE);
    }

    ConsumeProcessor(LimitPolicy policy, long nowMillis, LeaseAsk ask) {
        this.policy = policy;
        this.nowMillis = nowMillis;
        this.ask = ask;
    }

    @Override
    public Decision process(Map.Entry<String, BucketState> entry) {
        Decision d = TokenBuckets.take(policy, entry.getValue(), nowMillis, ask);
        if (d.state() != null) {
            store(entry, d.state(), d.entryTtlMillis());
        }
        return d;
    }

    static void store(Map.Entry<String, BucketState> entry, BucketState state, long ttlMillis) {
        if (entry instanceof ExtendedMapEntry<String, BucketState> extended) {
            extended.setValue(state, ttlMillis + TTL_SLACK_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            entry.setValue(state);
        }
    }


    @Override
    public int getClassId() {
        return GridSerializers.CONSUME;
    }

    @Override
    void writeFields(ObjectDataOutput out, int version) throws IOException {
        GridSerializers.writePolicy(out, policy);
        out.writeLong(nowMillis);
        out.writeLong(ask.want());
        out.writeLong(ask.generation());
        out.writeLong(ask.untilMillis());
        GridSerializers.writeLeaseReturn(out, ask.giveBack());
    }

    @Override
    void readFields(ObjectDataInput in, int version) throws IOException {
        policy = GridSerializers.readPolicy(in);
        nowMillis = in.readLong();
        ask = new LeaseAsk(in.readLong(), in.readLong(), in.readLong(), GridSerializers.readLeaseReturn(in));
    }
}
