package ducke.relayload;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Frame;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stand-in for the realtime model, in the driver's own JVM: a Jetty WebSocket server on
 * {@code ws://127.0.0.1:<port>/v1/realtime} that sends {@code session.created} on connect and then
 * echoes every text (and binary) frame unchanged, at once. The one exception is {@code session.update}
 * (the relay sends its own at the start of every session, to clamp the output): that is answered
 * with a {@code session.updated}, as the model does, instead of being reflected to the client. It
 * parses nothing beyond that prefix check (on bytes: frames are echoed as they came, never decoded), so what it costs is the same whether the relay, nginx or
 * the driver is on the other end.
 */
public final class EchoUpstream implements AutoCloseable {

    static final String PATH = "/v1/realtime";
    private static final String SESSION_UPDATE = "{\"type\":\"session.update\"";

    private final Server server = new Server();
    private final ServerConnector connector;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong echoed = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong sessionUpdates = new AtomicLong();

    EchoUpstream() throws Exception {
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(8 * 1024 * 1024);
            container.setMaxBinaryMessageSize(8 * 1024 * 1024);
            container.setIdleTimeout(Duration.ofMinutes(10));
            container.addMapping(PATH, (request, response, callback) -> new Echo(this));
        }));
        server.start();
    }

    int port() {
        return connector.getLocalPort();
    }

    String url() {
        return "ws://127.0.0.1:" + port() + PATH;
    }

    int connections() {
        return connections.get();
    }

    int openConnections() {
        return open.get();
    }

    long echoed() {
        return echoed.get();
    }

    long sendFailures() {
        return sendFailures.get();
    }

    /** {@code session.update} events answered with {@code session.updated} instead of echoed. */
    long sessionUpdates() {
        return sessionUpdates.get();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /**
     * One upstream connection. Public: Jetty calls its methods through method handles. It works on
     * raw frames, as bytes: a text frame is echoed with the same payload and never decoded to a
     * String, so the stand-in costs little and the same whatever is in front of it.
     */
    public static final class Echo implements Session.Listener {
        private static final byte[] SESSION_UPDATE_BYTES = SESSION_UPDATE.getBytes(StandardCharsets.UTF_8);

        private final AtomicInteger connections;
        private final AtomicInteger open;
        private final AtomicLong sessionUpdates;
        private final AtomicLong echoed;
        private final AtomicLong sendFailures;
        private volatile Session session;
        private CoreSession core;
        private ByteArrayOutputStream partial;
        private byte partialOpCode;
        private int updates;

        Echo(EchoUpstream up) {
            connections = up.connections;
            open = up.open;
            sessionUpdates = up.sessionUpdates;
            echoed = up.echoed;
            sendFailures = up.sendFailures;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            this.core = ((WebSocketSession) session).getCoreSession();
            int n = connections.incrementAndGet();
            open.incrementAndGet();
            send(OpCode.TEXT, utf8("{\"type\":\"session.created\",\"event_id\":\"event_" + n
                    + "\",\"session\":{\"id\":\"sess_standin_" + n + "\",\"model\":\"gpt-realtime\"}}"), false);
            session.demand();
        }

        @Override
        public void onWebSocketFrame(Frame frame, Callback callback) {
            byte op = frame.getOpCode();
            if (op == OpCode.TEXT || op == OpCode.BINARY || op == OpCode.CONTINUATION) {
                ByteBuffer payload = frame.hasPayload() ? frame.getPayload() : ByteBuffer.allocate(0);
                if (op != OpCode.CONTINUATION) {
                    partialOpCode = op;
                }
                ByteBuffer message;
                if (frame.isFin() && partial == null) {
                    message = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
                } else {
                    if (partial == null) {
                        partial = new ByteArrayOutputStream();
                    }
                    byte[] bytes = new byte[payload.remaining()];
                    payload.get(bytes);
                    partial.writeBytes(bytes);
                    message = frame.isFin() ? ByteBuffer.wrap(partial.toByteArray()) : null;
                    if (frame.isFin()) {
                        partial = null;
                    }
                }
                callback.succeed();
                if (message != null) {
                    if (partialOpCode == OpCode.TEXT && startsWith(message, SESSION_UPDATE_BYTES)) {
                        sessionUpdates.incrementAndGet();
                        send(OpCode.TEXT, utf8("{\"type\":\"session.updated\",\"event_id\":\"event_upd_" + (++updates)
                                + "\",\"session\":{\"model\":\"gpt-realtime\"}}"), false);
                    } else {
                        send(partialOpCode, message, true);
                    }
                }
            } else {
                callback.succeed();
            }
            if (op != OpCode.CLOSE && session.isOpen()) {
                session.demand();
            }
        }

        private void send(byte op, ByteBuffer payload, boolean count) {
            core.sendFrame(new org.eclipse.jetty.websocket.core.Frame(op, payload),
                    org.eclipse.jetty.util.Callback.from(() -> {
                        if (count) {
                            echoed.incrementAndGet();
                        }
                    }, t -> sendFailures.incrementAndGet()), false);
        }

        private static ByteBuffer utf8(String s) {
            return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        }

        private static boolean startsWith(ByteBuffer b, byte[] prefix) {
            if (b.remaining() < prefix.length) {
                return false;
            }
            for (int i = 0; i < prefix.length; i++) {
                if (b.get(b.position() + i) != prefix[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            open.decrementAndGet();
        }
    }
}
