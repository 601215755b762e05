package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.LeaseReturn;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.TokenBuckets;

import java.io.IOException;
import java.util.Map;

/**
 * Gives a node's unused lease tokens back to the bucket ({@link TokenBuckets#giveBack}); writes
 * only when that changes the bucket. Deterministic like {@link ConsumeProcessor}. Answers nothing.
 */
final class GiveBackProcessor extends GridProcessor<String, BucketState, Boolean> {

    private LimitPolicy policy;
    private long nowMillis;
    private LeaseReturn giveBack;

    GiveBackProcessor() {
    }

    GiveBackProcessor(LimitPolicy policy, long nowMillis, LeaseReturn giveBack) {
        this.policy = policy;
        this.nowMillis = nowMillis;
        this.giveBack = giveBack;
    }

    @Override
    public Boolean process(Map.Entry<String, BucketState> entry) {
        BucketState after = TokenBuckets.giveBack(policy, entry.getValue(), nowMillis, giveBack);
        if (after == null) {
            return false;
        }
        ConsumeProcessor.store(entry, after, TokenBuckets.entryTtlMillis(policy, after, nowMillis));
        return true;
    }

    @Override
    public int getClassId() {
        return GridSerializers.GIVE_BACK;
    }

    @Override
    void writeFields(ObjectDataOutput out, int version) throws IOException {
        GridSerializers.writePolicy(out, policy);
        out.writeLong(nowMillis);
        GridSerializers.writeLeaseReturn(out, giveBack);
    }

    @Override
    void readFields(ObjectDataInput in, int version) throws IOException {
        policy = GridSerializers.readPolicy(in);
        nowMillis = in.readLong();
        giveBack = GridSerializers.readLeaseReturn(in);
    }
}
