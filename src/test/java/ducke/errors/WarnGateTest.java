package ducke.errors;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** A repeated warning once per interval: the first at once, then a whole interval apart, one caller at a time. */
class WarnGateTest {

    @Test
    void letsTheFirstThroughThenOneAnIntervalApart() {
        WarnGate g = new WarnGate(60_000);
        assertThat(g.open(1_000)).isTrue();
        assertThat(g.open(1_000)).isFalse();
        assertThat(g.open(60_999)).isFalse();
        assertThat(g.open(61_000)).isTrue();
        assertThat(g.open(61_001)).isFalse();
    }

    @Test
    void shutMakesTheFirstWaitAWholeInterval() {
        WarnGate g = new WarnGate(60_000);
        g.shut(5_000);
        assertThat(g.open(64_999)).isFalse();
        assertThat(g.open(65_000)).isTrue();
    }

    @Test
    void ofCallersAtTheSameMomentOneGetsThrough() throws Exception {
        WarnGate g = new WarnGate(60_000);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                calls.add(() -> g.open(7_000));
            }
            int opened = 0;
            for (Future<Boolean> f : pool.invokeAll(calls)) {
                opened += f.get() ? 1 : 0;
            }
            assertThat(opened).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
