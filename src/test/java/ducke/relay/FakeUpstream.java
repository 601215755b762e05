package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServlet;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServletFactory;
import org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the paid realtime model: a local WebSocket server that speaks its event shapes.
 * It sends {@code session.created} on connect, echoes {@code echo} events and binary frames, and
 * plays back the events a client puts into {@code test_script} of a {@code response.create}, so a
 * test writes the real upstream events ({@code response.done} with {@code usage}, function calls,
 * transcriptions) it wants to see. Everything received is recorded, with the request headers.
 */
public final class FakeUpstream implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one upstream connection saw. */
    public static final class Connection {
        public final String authorization;
        public final String model;
        public final List<String> received = new CopyOnWriteArrayList<>();
        volatile Session session;

        Connection(String authorization, String model) {
            this.authorization = authorization;
            this.model = model;
        }

        /** Drops the connection as a failing upstream would. */
        public void drop() {
            session.disconnect();
        }

        public boolean open() {
            return session != null && session.isOpen();
        }
    }

    private final Server server = new Server();
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final Map<Session, Connection> bySession = new ConcurrentHashMap<>();

    public FakeUpstream() throws Exception {
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        JettyWebSocketServletContainerInitializer.configure(context, null);
        context.addServlet(new Servlet(), "/v1/realtime");
        server.setHandler(context);
        server.start();
    }

    public String url() {
        return "ws://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "/v1/realtime";
    }

    public List<Connection> connections() {
        return connections;
    }

    public long openConnections() {
        return connections.stream().filter(Connection::open).count();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class Servlet extends JettyWebSocketServlet {
        @Override
        protected void configure(JettyWebSocketServletFactory factory) {
            factory.setMaxTextMessageSize(8 * 1024 * 1024);
            factory.setCreator((req, resp) -> {
                Connection c = new Connection(req.getHeader("Authorization"),
                        req.getParameterMap().getOrDefault("model", List.of("")).get(0));
                connections.add(c);
                return new Endpoint(c);
            });
        }
    }

    public static final class Endpoint implements Session.Listener.AutoDemanding {
        private final Connection c;

        Endpoint(Connection c) {
            this.c = c;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            c.session = session;
            session.sendText("{\"type\":\"session.created\",\"event_id\":\"event_1\",\"session\":{\"id\":\"sess_up\",\"model\":\""
                    + c.model + "\"}}", Callback.NOOP);
        }

        @Override
        public void onWebSocketText(String message) {
            c.received.add(message);
            try {
                JsonNode event = JSON.readTree(message);
                String type = event.path("type").asText();
                if (type.equals("echo")) {
                    c.session.sendText(message, Callback.NOOP);
                } else if (type.equals("response.create") && event.has("test_flood")) {
                    String chunk = "{\"type\":\"response.output_audio.delta\",\"delta\":\""
                            + "A".repeat(event.get("test_flood").get("size").asInt()) + "\"}";
                    for (int i = 0; i < event.get("test_flood").get("count").asInt() && c.session.isOpen(); i++) {
                        c.session.sendText(chunk, Callback.NOOP);
                    }
                } else if (type.equals("response.create") && event.has("test_script")) {
                    for (JsonNode e : event.get("test_script")) {
                        c.session.sendText(e.toString(), Callback.NOOP);
                    }
                }
            } catch (Exception e) {
                c.session.sendText("{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\"}}", Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            c.session.sendBinary(copy, Callback.NOOP);
        }
    }
}
