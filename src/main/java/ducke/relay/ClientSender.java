package ducke.relay;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends to one client in order, one frame at a time (a Jetty session refuses a send while another
 * is pending). Frames come from several threads: relayed upstream events, the gateway's own events,
 * and endings announced by the cluster. A close is queued behind the frames before it, so a client
 * always reads the event that says why before the close. Bytes waiting are counted.
 */
final class ClientSender {

    private record Close(int code, String reason) {
    }

    private final Session session;
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final AtomicLong pendingBytes = new AtomicLong();
    private boolean sending;
    private boolean closed;

    ClientSender(Session session) {
        this.session = session;
    }

    long pendingBytes() {
        return pendingBytes.get();
    }

    /** Queues a text or binary frame; false when the client is already closing. */
    boolean send(Object frame) {
        pendingBytes.addAndGet(size(frame));
        return enqueue(frame);
    }

    /** Queues the close after everything already queued; later frames are dropped. */
    void close(int code, String reason) {
        enqueue(new Close(code, reason));
    }

    private boolean enqueue(Object item) {
        synchronized (queue) {
            if (closed) {
                pendingBytes.addAndGet(-size(item));
                return false;
            }
            if (item instanceof Close) {
                closed = true;
            }
            queue.add(item);
            if (sending) {
                return true;
            }
            sending = true;
        }
        pump();
        return true;
    }

    /** Sends queued items until one completes asynchronously; its callback resumes the pump. */
    private void pump() {
        while (true) {
            Object item;
            synchronized (queue) {
                item = queue.poll();
                if (item == null) {
                    sending = false;
                    return;
                }
            }
            if (item instanceof Close c) {
                session.close(c.code(), c.reason(), Callback.NOOP);
                continue;
            }
            // 0: in flight, 1: completed before send returned, 2: send returned first
            AtomicInteger state = new AtomicInteger();
            Runnable done = () -> {
                pendingBytes.addAndGet(-size(item));
                if (!state.compareAndSet(0, 1)) {
                    pump();
                }
            };
            Callback callback = Callback.from(done, error -> done.run());
            if (item instanceof String text) {
                session.sendText(text, callback);
            } else {
                session.sendBinary((ByteBuffer) item, callback);
            }
            if (state.compareAndSet(0, 2)) {
                return;
            }
        }
    }

    private static long size(Object frame) {
        return frame instanceof String s ? s.length() : frame instanceof ByteBuffer b ? b.remaining() : 0;
    }
}
