package ducke.relay;

import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends to one client in order. Frames come from several threads: relayed upstream events, the
 * gateway's own events, and endings announced by the cluster. Each is handed to Jetty's core
 * session as one whole frame of bytes (a text frame's payload is its UTF-8, never a String), and
 * Jetty's flusher writes them in the order they were handed over, gathering several into one
 * write while the socket is busy. A close is handed over behind the frames before it, so a client
 * always reads the event that says why before the close; later frames are dropped. Bytes handed
 * over and not yet written are counted, so that the caller can bound them.
 */
final class ClientSender {

    /**
     * Counted for every queued frame on top of its payload, so that a flood of small or empty
     * frames (pongs to a client's pings) is bounded like a flood of large ones.
     */
    static final int FRAME_OVERHEAD_BYTES = 64;

    private final CoreSession session;
    private final AtomicLong pendingBytes = new AtomicLong();
    private boolean closed;

    ClientSender(CoreSession session) {
        this.session = session;
    }

    long pendingBytes() {
        return pendingBytes.get();
    }

    /** Queues a text frame whose payload is UTF-8; false when the client is already closing. */
    boolean text(ByteBuffer utf8) {
        return send(OpCode.TEXT, utf8);
    }

    /** Queues the gateway's own text event. */
    boolean text(String event) {
        return send(OpCode.TEXT, ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)));
    }

    boolean binary(ByteBuffer payload) {
        return send(OpCode.BINARY, payload);
    }

    /** Queues the answer to a client's ping (RFC 6455 5.5.3: the ping's payload), in order with the other frames. */
    boolean pong(ByteBuffer payload) {
        return send(OpCode.PONG, payload);
    }

    /** Queues the close after everything already queued; later frames are dropped. */
    void close(int code, String reason) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            session.close(code, reason, Callback.NOOP);
        }
    }

    /**
     * Drops the connection if it is still there: a client that reads nothing leaves the close frame
     * unsent, and Jetty keeps the socket (the session already counts as closed) until the idle
     * timeout. Nothing happens to a connection that is gone already.
     */
    void abortIfOpen() {
        if (session instanceof WebSocketCoreSession core && core.getConnection() != null
                && !core.getConnection().getEndPoint().isOpen()) {
            return;
        }
        session.abort();
    }

    private boolean send(byte opCode, ByteBuffer payload) {
        long size = payload.remaining() + FRAME_OVERHEAD_BYTES;
        Callback written = Callback.from(() -> pendingBytes.addAndGet(-size), error -> pendingBytes.addAndGet(-size));
        synchronized (this) {
            if (closed) {
                return false;
            }
            pendingBytes.addAndGet(size);
            session.sendFrame(new Frame(opCode, payload), written, false);
        }
        return true;
    }
}
