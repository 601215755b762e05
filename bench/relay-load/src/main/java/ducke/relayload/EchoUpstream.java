package ducke.relayload;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stand-in for the realtime model, in the driver's own JVM: a Jetty WebSocket server on
 * {@code ws://127.0.0.1:<port>/v1/realtime} that sends {@code session.created} on connect and then
 * echoes every text (and binary) frame unchanged, at once. It parses nothing, so what it costs is
 * the same whether the relay or the driver is on the other end.
 */
public final class EchoUpstream implements AutoCloseable {

    static final String PATH = "/v1/realtime";

    private final Server server = new Server();
    private final ServerConnector connector;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong echoed = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();

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

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** One upstream connection. Public: Jetty calls its methods through method handles. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private final AtomicInteger connections;
        private final AtomicInteger open;
        private volatile Session session;
        private final Callback counted;

        Echo(EchoUpstream up) {
            connections = up.connections;
            open = up.open;
            counted = Callback.from(up.echoed::incrementAndGet, t -> up.sendFailures.incrementAndGet());
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            int n = connections.incrementAndGet();
            open.incrementAndGet();
            session.sendText("{\"type\":\"session.created\",\"event_id\":\"event_" + n
                    + "\",\"session\":{\"id\":\"sess_standin_" + n + "\",\"model\":\"gpt-realtime\"}}", Callback.NOOP);
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText(message, counted);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, counted);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            open.decrementAndGet();
        }
    }
}
