package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A real WebSocket client (the JDK's) that records what the gateway sends and how it closes. */
final class WsClient implements WebSocket.Listener {

    private volatile String closeReason;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** One client for all connections, so that tests measure the server's threads, not the client's. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A message or the close, in arrival order. */
    record Received(String text, ByteBuffer binary, int closeCode) {
    }

    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final java.io.ByteArrayOutputStream partialBinary = new java.io.ByteArrayOutputStream();
    WebSocket ws;
    /** The gateway's {@code session_started}, once read. */
    JsonNode started;

    /** Connects, or returns the handshake's HTTP refusal as an exception. */
    static WsClient connect(int port, String query, String... headers) {
        return connect(new WsClient(), port, query, headers);
    }

    static WsClient connect(WsClient c, int port, String query, String... headers) {
        return connectTo(c, port, "/session" + query, List.of(), headers);
    }

    /** Connects to any path of the relay, offering these subprotocols. */
    static WsClient connectTo(WsClient c, int port, String pathAndQuery, List<String> subprotocols, String... headers) {
        var builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        if (!subprotocols.isEmpty()) {
            builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        c.ws = builder.buildAsync(URI.create("ws://127.0.0.1:" + port + pathAndQuery), c).join();
        return c;
    }

    /** The refused handshake's response, for a connection that must not upgrade. */
    static java.net.http.HttpResponse<String> refused(int port, String query, String... headers) {
        try {
            connect(port, query, headers).ws.abort();
            throw new AssertionError("the handshake was accepted");
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
            @SuppressWarnings("unchecked")
            var response = (java.net.http.HttpResponse<String>) ((WebSocketHandshakeException) e.getCause()).getResponse();
            return response;
        }
    }

    /** A client that stops reading after its first few messages, as a stalled one would. */
    boolean stalls;

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(stalls ? 2 : Long.MAX_VALUE);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            received.add(new Received(partial.toString(), null, 0));
            partial.setLength(0);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        byte[] part = new byte[data.remaining()];
        data.get(part);
        partialBinary.writeBytes(part);
        if (last) {
            received.add(new Received(null, ByteBuffer.wrap(partialBinary.toByteArray()), 0));
            partialBinary.reset();
        }
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeReason = reason;
        received.add(new Received(null, null, statusCode));
        closed.complete(statusCode);
        return null;
    }

    /** Pongs heard, their payloads as text, in arrival order. */
    final BlockingQueue<String> pongs = new LinkedBlockingQueue<>();

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        pongs.add(java.nio.charset.StandardCharsets.UTF_8.decode(message).toString());
        webSocket.request(1);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(-1);
    }

    void send(String text) {
        ws.sendText(text, true).join();
    }

    /**
     * Sends unless the gateway has closed the connection meanwhile (a session that ended may close
     * before the client hears of it and sends again); false when the frame could not be sent.
     */
    boolean sendIfOpen(String text) {
        try {
            ws.sendText(text, true).join();
            return true;
        } catch (java.util.concurrent.CompletionException e) {
            assertThat(e.getCause()).as("a send refused because the connection closed").isInstanceOf(java.io.IOException.class);
            return false;
        }
    }

    Received next() throws InterruptedException {
        Received r = received.poll(20, TimeUnit.SECONDS);
        assertThat(r).as("a message from the gateway in time").isNotNull();
        return r;
    }

    static JsonNode parse(String text) throws Exception {
        return JSON.readTree(text);
    }

    /** The next text frame, parsed. */
    JsonNode nextEvent() throws Exception {
        Received r = next();
        assertThat(r.text()).as("a text frame, got close %d", r.closeCode()).isNotNull();
        return JSON.readTree(r.text());
    }

    /** Skips frames until an event of {@code type}; returns it. */
    JsonNode until(String type) throws Exception {
        while (true) {
            JsonNode e = nextEvent();
            if (e.path("type").asText().equals(type)) {
                return e;
            }
        }
    }

    int awaitClose() throws Exception {
        return closed.get(20, TimeUnit.SECONDS);
    }

    /** The reason of the close frame, once closed. */
    String closeReason() {
        return closeReason;
    }
}
