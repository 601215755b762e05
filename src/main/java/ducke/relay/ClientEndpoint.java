package ducke.relay;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Frame;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.OpCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * The client's WebSocket, as Jetty hands it over: raw frames in (only {@code onWebSocketFrame} is
 * implemented, so Jetty decodes no message to a String), whole messages of UTF-8 bytes on to the
 * {@link RelaySession}, frames out through Jetty's core session ({@link ClientSender}). Reading is
 * demand-driven: the next frame is read when this one has been handed on. Jetty calls one method
 * at a time.
 */
public final class ClientEndpoint implements Session.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(ClientEndpoint.class);

    private final RelaySession relay;
    private final MessageAssembler incoming;
    private volatile Session session;
    private volatile CoreSession core;
    private volatile SelectorReads reads;
    /** The client sent a message over the limit: its data frames are dropped from then on. */
    private volatile boolean oversized;

    ClientEndpoint(RelaySession relay, long maxMessageBytes) {
        this.relay = relay;
        this.incoming = new MessageAssembler(maxMessageBytes);
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        CoreSession core = ((WebSocketSession) session).getCoreSession();
        this.core = core;
        reads = SelectorReads.install(core);
        if (relay.clientOpened(new ClientSender(core))) {
            session.demand();
        }
    }

    @Override
    public void onWebSocketFrame(Frame frame, Callback callback) {
        byte op = frame.getOpCode();
        if (op == OpCode.PING) {
            // Jetty answers no ping for an endpoint that takes raw frames: the relay does, within the
            // selector's share per read readiness like any frame (a ping flood cannot hog the selector)
            ByteBuffer payload = copy(frame.hasPayload() ? frame.getPayload() : null);
            callback.succeed();
            if (reads.handle(true, relay.executor(), () -> relay.clientPing(payload), this::demandNext)) {
                demandNext();
            }
            return;
        }
        MessageAssembler.Message message = null;
        if (OpCode.isDataFrame(op)) {
            if (oversized) {
                // the rest of a message over the limit: read and dropped, so that the close that ends
                // the session finds nothing unread (a reset could otherwise cost the client its close)
                callback.succeed();
                demandNext();
                return;
            }
            try {
                message = incoming.accept(op, frame.hasPayload() ? frame.getPayload() : null, frame.isFin());
            } catch (MessageAssembler.TooLarge e) {
                oversized = true;
                callback.succeed();
                relay.clientTooLarge();
                demandNext();
                return;
            }
        }
        // the payload is copied: the network buffer goes back now
        callback.succeed();
        if (message != null) {
            MessageAssembler.Message m = message;
            // audio appends up to one socket buffer pass through on the reading thread (a larger or
            // unusual one may need a JSON parse: not on the selector); every other event leaves it
            // (policy, metering), and the next frame is read once it is handled
            boolean audio = m.text() && m.payload().remaining() <= RelayContext.SOCKET_BUFFER_BYTES
                    && AudioAppend.TYPE.equals(EventScanner.type(m.payload()));
            if (!reads.handle(audio, relay.executor(), () -> relay.clientMessage(m), this::demandNext)) {
                return;
            }
        }
        if (op != OpCode.CLOSE) {
            demandNext();
        }
    }

    private static ByteBuffer copy(ByteBuffer payload) {
        if (payload == null || !payload.hasRemaining()) {
            return ByteBuffer.allocate(0);
        }
        return ByteBuffer.allocate(payload.remaining()).put(payload.slice()).flip();
    }

    /**
     * Reads on, also while the session ends (frames are then dropped): the client's close frame is
     * behind them, and a close handshake that never completes ends in a reset that can destroy the
     * last events (budget_exceeded, error) before the client has read them. So the test is the
     * input side: Jetty's {@code Session.isOpen()} is false as soon as the gateway's own close is
     * sent, and a client still streaming audio then was reset before it read its last events.
     */
    private void demandNext() {
        Session s = session;
        CoreSession c = core;
        if (s != null && c != null && c.isInputOpen()) {
            s.demand();
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        offReadingThread(relay::clientClosed);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.debug("Client connection of {} failed", relay.sessionId(), cause);
        offReadingThread(relay::clientClosed);
    }

    /** Runs an ending off the reading thread (it may be the selector's: see {@link SelectorReads}). */
    private void offReadingThread(Runnable r) {
        SelectorReads.offSelector(reads, relay.executor(), r);
    }
}
