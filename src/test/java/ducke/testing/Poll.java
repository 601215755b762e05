package ducke.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** Waits for an asynchronous effect by polling, up to a generous deadline; never a fixed sleep. */
public final class Poll {

    /** A condition that may throw while it is checked (a request to a node that is still starting). */
    @FunctionalInterface
    public interface Check {
        boolean ok() throws Exception;
    }

    private Poll() {
    }

    public static void until(String what, long deadlineMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + deadlineMillis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("%s within %d ms", what, deadlineMillis).isNegative();
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /**
     * The same for checks that cost a request or another process's CPU: between attempts it parks
     * for {@code pause}, so polling does not take the cores from what it waits for. Past
     * {@code within} it fails with {@code what} and whatever {@code context} tells (the last answer,
     * log tails). The pause only spaces the attempts; the deadline decides.
     */
    public static void until(String what, Duration within, Duration pause, Supplier<String> context, Check check)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + within + ": " + what + "\n" + context.get());
            }
            LockSupport.parkNanos(pause.toNanos());
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting: " + what);
            }
        }
    }

    /** {@link #until(String, Duration, Duration, Supplier, Check)} with nothing more to tell at the deadline. */
    public static void until(String what, Duration within, Duration pause, Check check) throws Exception {
        until(what, within, pause, () -> "", check);
    }
}
