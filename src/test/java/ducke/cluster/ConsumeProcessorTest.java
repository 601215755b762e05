package ducke.cluster;

import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LimitPolicy;
import org.junit.jupiter.api.Test;

import java.util.AbstractMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The entry processor on a plain map entry: deterministic glue around the pure bucket math. */
class ConsumeProcessorTest {

    private static final LimitPolicy POLICY = LimitParser.parse("2/minute");
    private static final long NOW = 1_795_000_000_000L;

    @Test
    void storesTheNewStateWhenATokenIsTaken() {
        Map.Entry<String, BucketState> entry = new AbstractMap.SimpleEntry<>("status|1.2.3.4", null);
        Decision d = new ConsumeProcessor(POLICY, NOW).process(entry);
        assertThat(d.allowed()).isTrue();
        assertThat(d.remaining()).isEqualTo(1);
        assertThat(entry.getValue()).isNotNull().isEqualTo(d.state());
    }

    @Test
    void leavesTheEntryUntouchedWhenDenied() {
        Map.Entry<String, BucketState> entry = new AbstractMap.SimpleEntry<>("status|1.2.3.4", null);
        new ConsumeProcessor(POLICY, NOW).process(entry);
        new ConsumeProcessor(POLICY, NOW).process(entry);
        BucketState exhausted = entry.getValue();
        Decision d = new ConsumeProcessor(POLICY, NOW).process(entry);
        assertThat(d.allowed()).isFalse();
        assertThat(entry.getValue()).isSameAs(exhausted);
    }

    @Test
    void sameInputsGiveTheSameStateOnEveryReplica() {
        Map.Entry<String, BucketState> primary = new AbstractMap.SimpleEntry<>("k", null);
        Map.Entry<String, BucketState> backup = new AbstractMap.SimpleEntry<>("k", null);
        for (long t : new long[]{NOW, NOW + 10_000, NOW + 10_000, NOW + 5_000, NOW + 70_000}) {
            ConsumeProcessor p = new ConsumeProcessor(POLICY, t);
            assertThat(p.process(primary)).isEqualTo(p.process(backup));
            assertThat(primary.getValue()).isEqualTo(backup.getValue());
        }
    }
}
