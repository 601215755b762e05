package ducke.relay;

import io.dropwizard.lifecycle.Managed;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The one WebSocket client of the node toward the upstream model (Jetty's core WebSocket client:
 * raw frames as bytes, demand-driven reading, TLS for {@code wss://} with the JVM's trust store and
 * host name verification). Started and stopped with the application; its threads are named
 * {@code ducke-upstream-*}. No extension (permessage-deflate) and no subprotocol is ever offered.
 */
final class UpstreamClient implements Managed {

    private final HttpClient http;
    private final QueuedThreadPool threads;
    private final WebSocketCoreClient client;
    private final Duration connectTimeout;
    private final long maxFrameBytes;

    UpstreamClient(Duration connectTimeout, long maxFrameBytes) {
        this.connectTimeout = connectTimeout;
        this.maxFrameBytes = maxFrameBytes;
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(new SslContextFactory.Client());
        connector.setConnectTimeout(connectTimeout);
        threads = new QueuedThreadPool();
        threads.setName("ducke-upstream");
        threads.setDaemon(true);
        connector.setExecutor(threads);
        http = new HttpClient(new HttpClientTransportOverHTTP(connector));
        http.setExecutor(threads);
        http.setConnectTimeout(connectTimeout.toMillis());
        http.setFollowRedirects(false);
        // every session is one connection to the same host: more than a node carries (maxConcurrentSessions ≤ 1000)
        http.setMaxConnectionsPerDestination(1024);
        client = new WebSocketCoreClient(http, new WebSocketComponents(null, null, null, null, null, threads));
    }

    /** The node's HTTP client toward the provider (WebRTC call offers and hang-ups). */
    HttpClient http() {
        return http;
    }

    /**
     * The pool that relayed frames leave the selector thread for when handling them may block
     * (metering, the grid, the end of a session): see {@link SelectorReads}.
     */
    Executor executor() {
        return threads;
    }

    @Override
    public void start() throws Exception {
        client.start();
    }

    @Override
    public void stop() throws Exception {
        client.stop();
        http.stop();
    }

    /**
     * Opens a connection; the handler hears everything from it. The opening handshake (TCP, TLS,
     * upgrade) must complete within the connect timeout. Frames up to the largest message allowed
     * arrive whole; the connection has no idle timeout of its own (the link pings it).
     */
    CompletableFuture<CoreSession> connect(URI uri, Map<String, String> headers, FrameHandler handler) {
        return connect(uri, headers, handler, connectTimeout);
    }

    /** {@link #connect(URI, Map, FrameHandler)} with its own deadline for the opening handshake. */
    CompletableFuture<CoreSession> connect(URI uri, Map<String, String> headers, FrameHandler handler, Duration timeout) {
        CoreClientUpgradeRequest request = CoreClientUpgradeRequest.from(client, uri, handler);
        request.headers(fields -> headers.forEach(fields::put));
        request.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Configuration.ConfigurationCustomizer configuration = new Configuration.ConfigurationCustomizer();
        // a frame up to the limit arrives whole (Jetty joins what the network splits); a larger one
        // arrives in fragments, which the link drops past the limit without dropping the connection
        configuration.setMaxFrameSize(maxFrameBytes);
        configuration.setAutoFragment(true);
        configuration.setInputBufferSize(RelayContext.SOCKET_BUFFER_BYTES);
        configuration.setOutputBufferSize(RelayContext.SOCKET_BUFFER_BYTES);
        configuration.setMaxTextMessageSize(maxFrameBytes);
        configuration.setMaxBinaryMessageSize(maxFrameBytes);
        configuration.setIdleTimeout(Duration.ZERO);
        request.setConfiguration(configuration);
        try {
            return client.connect(request);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
