package ducke.relay;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** A frame handled off the reading thread always asks for the next one, whatever its handling did. */
class SelectorReadsTest {

    private static SelectorReads onTheSelector() throws Exception {
        var constructor = SelectorReads.class.getDeclaredConstructor(boolean.class);
        constructor.setAccessible(true);
        return constructor.newInstance(true);
    }

    @Test
    void aFrameWhoseHandlingFailsStillLetsTheNextOneBeRead() throws Exception {
        SelectorReads reads = onTheSelector();
        AtomicBoolean next = new AtomicBoolean();
        boolean readOnNow = reads.handle(false, Runnable::run, () -> {
            throw new IllegalStateException("a bug in one event's handling");
        }, () -> next.set(true));
        assertThat(readOnNow).as("handled on the pool: the pool asks for the next frame").isFalse();
        assertThat(next).as("the next frame is asked for").isTrue();
    }

    @Test
    void aFrameHandledOnThePoolAsksForTheNextOneAfterIt() throws Exception {
        SelectorReads reads = onTheSelector();
        StringBuilder order = new StringBuilder();
        reads.handle(false, Runnable::run, () -> order.append("frame "), () -> order.append("next"));
        assertThat(order).hasToString("frame next");
    }
}
