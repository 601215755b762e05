package ducke.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.TokenBuckets;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Takes one token on the partition that owns the bucket. Deterministic: the caller's
 * {@code nowMillis} travels with it, so the backup replica computes the same state. The entry's
 * time-to-live is set to when the bucket would be full again; after that, a missing entry and a
 * stored one mean the same thing, so idle buckets simply disappear.
 */
final class ConsumeProcessor extends GridProcessor<String, BucketState, Decision> {

    /** Extra life for an entry beyond its refill time, so clock skew between nodes never loses state early. */
    static final long TTL_SLACK_MILLIS = 5_000;

    private LimitPolicy policy;
    private long nowMillis;

    ConsumeProcessor() {
    }

    ConsumeProcessor(LimitPolicy policy, long nowMillis) {
        this.policy = policy;
        this.nowMillis = nowMillis;
    }

    @Override
    public Decision process(Map.Entry<String, BucketState> entry) {
        Decision d = TokenBuckets.tryConsume(policy, entry.getValue(), nowMillis);
        if (d.state() != null) {
            if (entry instanceof ExtendedMapEntry<String, BucketState> extended) {
                extended.setValue(d.state(), d.entryTtlMillis() + TTL_SLACK_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                entry.setValue(d.state());
            }
        }
        return d;
    }


    @Override
    public int getClassId() {
        return GridSerializers.CONSUME;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        GridSerializers.writePolicy(out, policy);
        out.writeLong(nowMillis);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        policy = GridSerializers.readPolicy(in);
        nowMillis = in.readLong();
    }
}
