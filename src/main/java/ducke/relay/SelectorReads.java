package ducke.relay;

import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets one relayed WebSocket connection (client side or upstream side) be read on Jetty's selector
 * thread, the way nginx reads: a frame that only passes through (an audio append, an audio delta)
 * is read, checked and written to the other socket without a hand-off to a pool thread and
 * without waking the selector again. Measured on 2 cores: 2.9 context switches per relayed frame
 * with pool-thread reads and 0.9 with these; ~76 against 39–47 µs of CPU per frame
 * (docs/benchmarks.md).
 *
 * <p>Jetty runs a WebSocket connection's reads as blocking tasks, through a private callback of
 * {@link AbstractConnection}, and offers no setting for it; this class replaces that callback with
 * one that declares itself non-blocking, by reflection (checked against the Jetty version in use
 * by {@code SelectorReadsAppTest}). When that is not possible the connection keeps Jetty's own reads,
 * which are always safe, and a warning is logged once.
 *
 * <p>Whatever runs on the selector thread must not block: the endpoints hand every frame that may
 * call the grid, parse JSON or end the session to a pool thread ({@link #handle}, {@link
 * #offSelector}; the upstream client's pool) and ask for the next frame only when it has been
 * handled, so frames stay in order. {@link #handle} also caps
 * the frames one connection may take on the selector thread per read readiness ({@link
 * #FRAMES_PER_PASS}), so that a client flooding the socket cannot keep the selector from the
 * other connections: past it, frames go to the pool as before.
 */
final class SelectorReads {

    private static final Logger LOG = LoggerFactory.getLogger(SelectorReads.class);

    /** Frames one connection may handle on the selector thread per read readiness. */
    static final int FRAMES_PER_PASS = 16;

    private static final Field FILLABLE = fillableField();
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final AtomicLong INSTALLED = new AtomicLong();

    private final boolean installed;
    private volatile int framesThisPass;

    private SelectorReads(boolean installed) {
        this.installed = installed;
    }

    /** Reads of {@code session}'s connection from now on run on the selector thread, when possible. */
    static SelectorReads install(CoreSession session) {
        if (FILLABLE != null && session instanceof WebSocketCoreSession core && core.getConnection() != null) {
            SelectorReads reads = new SelectorReads(true);
            WebSocketConnection connection = core.getConnection();
            try {
                FILLABLE.set(connection, reads.callback(connection));
                INSTALLED.incrementAndGet();
                return reads;
            } catch (IllegalAccessException | RuntimeException e) {
                warn(e.toString());
            }
        } else {
            warn(FILLABLE == null ? "Jetty's AbstractConnection has no field _fillableCallback"
                    : "not a Jetty core WebSocket session: " + session.getClass().getName());
        }
        return new SelectorReads(false);
    }

    /** Connections of this process whose reads were moved to the selector thread (for tests). */
    static long installations() {
        return INSTALLED.get();
    }

    /**
     * Whether a frame that only passes through may be handled on the thread reading it: always
     * with Jetty's own reads (a pool thread), and up to {@link #FRAMES_PER_PASS} frames per read
     * readiness on the selector thread.
     */
    private boolean cheapHere() {
        if (!installed) {
            return true;
        }
        int n = framesThisPass + 1;
        framesThisPass = n;
        return n <= FRAMES_PER_PASS;
    }

    /**
     * Handles one frame read from this connection: here when it only passes through (and the
     * selector's share of this read readiness is not used up) or when reads run on pool threads
     * anyway; otherwise on {@code pool}, followed by {@code next}.
     *
     * @return true when the caller asks for the next frame now; false when {@code next} will
     */
    boolean handle(boolean passesThrough, Executor pool, Runnable frame, Runnable next) {
        if (passesThrough && cheapHere() || !installed) {
            frame.run();
            return true;
        }
        pool.execute(() -> {
            try {
                frame.run();
            } catch (RuntimeException e) {
                // a bug in handling one frame must not stop the connection's reads for good
                LOG.error("A relayed frame could not be handled", e);
            } finally {
                next.run();
            }
        });
        return false;
    }

    /**
     * Runs {@code work} (an ending, anything that may block) on {@code pool} when the reads of the
     * connection run on the selector thread, where it was called from; otherwise where it is.
     */
    static void offSelector(SelectorReads reads, Executor pool, Runnable work) {
        if (reads != null && reads.installed) {
            pool.execute(work);
        } else {
            work.run();
        }
    }

    private Callback callback(WebSocketConnection connection) {
        return new Callback() {
            @Override
            public void succeeded() {
                framesThisPass = 0;
                connection.onFillable();
            }

            @Override
            public void failed(Throwable x) {
                connection.onFillInterestedFailed(x);
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }
        };
    }

    private static Field fillableField() {
        try {
            Field f = AbstractConnection.class.getDeclaredField("_fillableCallback");
            if (!Callback.class.isAssignableFrom(f.getType())) {
                return null;
            }
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static void warn(String why) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("Relayed WebSockets are read on pool threads ({}): the relay works, at more CPU per frame", why);
        }
    }
}
