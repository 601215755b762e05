package ducke.relay;

import ducke.errors.RootCause;
import ducke.metrics.RelayMetrics;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connection to the paid upstream model ({@link UpstreamClient}, Jetty core frames): connecting
 * with the server's key, frames sent in order as bytes (queued until the connection opened),
 * pings, fragments joined into whole messages, and a graceful close. Bytes waiting to be sent are
 * bounded by the caller through {@link #pendingBytes()}. What arrives goes to the {@link Events} in
 * order, one at a time: the next frame is read only when the last one has been handed on.
 */
final class UpstreamLink implements FrameHandler {

    /** What the session hears from the upstream. Called on the client's threads, one at a time. */
    interface Events {
        void opened();

        /** A whole text message, as its UTF-8 bytes. */
        void text(ByteBuffer utf8);

        void binary(ByteBuffer message);

        /** The connection is gone or unusable; {@code why} is a sentence for the log and the client. */
        void failed(String why);

        /**
         * A message over the upstream's size limit was dropped (the connection goes on);
         * {@code prefix}: its first bytes, to tell what it was.
         */
        void oversized(ByteBuffer prefix);
    }

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamLink.class);

    private final RelayContext ctx;
    private final Events events;
    private final MessageAssembler incoming;
    private final List<Frame> early = new ArrayList<>();
    private final AtomicLong pending = new AtomicLong();
    private volatile CoreSession session;
    private volatile SelectorReads reads;
    private volatile boolean closing;
    private volatile ScheduledFuture<?> pinger;
    /** Last sign of life, by the monotonic clock (a liveness timeout, not domain time). */
    private volatile long lastHeardNanos = System.nanoTime();
    /** When the last ping left (0 while none has, or one waits behind queued frames). */
    private volatile long pingSentNanos;
    private volatile boolean pingInFlight;

    UpstreamLink(RelayContext ctx, Events events) {
        this.ctx = ctx;
        this.events = events;
        this.incoming = new MessageAssembler(ctx.maxUpstreamFrameBytes());
    }

    /** Opens the connection; failures arrive as {@link Events#failed}. */
    void connect(String model, Map<String, String> headers) {
        URI uri = URI.create(ctx.upstreamUrl() + (ctx.upstreamUrl().getQuery() == null ? "?" : "&")
                + "model=" + URLEncoder.encode(model, StandardCharsets.UTF_8));
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Authorization", "Bearer " + ctx.apiKey());
        all.putAll(headers);
        ctx.upstream().connect(uri, all, this).whenComplete((s, error) -> {
            if (error != null) {
                ctx.metrics().connectFailure();
                // the operator's clue (a key refused with 401, a certificate not trusted, DNS); never sent to the client
                LOG.warn("Upstream {}://{}{}{} cannot be reached: {}", uri.getScheme(), uri.getHost(),
                        uri.getPort() < 0 ? "" : ":" + uri.getPort(), uri.getPath(), RootCause.of(error));
                events.failed("the upstream model cannot be reached");
            }
        });
    }

    /**
     * Attaches to a WebRTC call as its sideband ({@code ?call_id=}). Completes with 0 once open, with
     * the provider's HTTP status when it refused the upgrade (404: the call is gone), or -1 when it
     * could not be reached in time; failures are not reported to {@link Events#failed}.
     */
    java.util.concurrent.CompletableFuture<Integer> attach(String callId, java.time.Duration timeout) {
        URI uri = URI.create(ctx.upstreamUrl() + (ctx.upstreamUrl().getQuery() == null ? "?" : "&")
                + "call_id=" + URLEncoder.encode(callId, StandardCharsets.UTF_8));
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Authorization", "Bearer " + ctx.apiKey());
        return ctx.upstream().connect(uri, all, this, timeout).handle((s, error) -> {
            if (error == null) {
                return 0;
            }
            Throwable t = error;
            while (t != null) {
                if (t instanceof org.eclipse.jetty.websocket.core.exception.UpgradeException u && u.getResponseStatusCode() > 0) {
                    return u.getResponseStatusCode();
                }
                t = t.getCause() == t ? null : t.getCause();
            }
            LOG.warn("The sideband of call {} cannot attach: {}", callId, RootCause.of(error));
            return -1;
        });
    }

    long pendingBytes() {
        return pending.get();
    }

    boolean open() {
        CoreSession s = session;
        return s != null && s.isOutputOpen() && !closing;
    }

    /** Queues a text frame (its UTF-8 payload) behind the ones before it. */
    void text(ByteBuffer utf8) {
        send(new Frame(OpCode.TEXT, utf8));
    }

    /** Queues one of the gateway's own text events. */
    void text(String event) {
        text(ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)));
    }

    private void send(Frame frame) {
        pending.addAndGet(frame.getPayloadLength());
        synchronized (this) {
            if (session == null) {
                early.add(frame);
            } else {
                write(frame);
            }
        }
    }

    /**
     * Hands a frame to Jetty, whose flusher keeps the order frames are handed over in; callers
     * hold the lock, so that frames queued before the connection opened go first.
     */
    private void write(Frame frame) {
        long size = frame.getPayloadLength();
        session.sendFrame(frame, Callback.from(() -> pending.addAndGet(-size), error -> {
            pending.addAndGet(-size);
            if (!closing) {
                events.failed("the upstream connection failed");
            }
        }), false);
    }

    /** Closes with a close frame after what is queued; drops the connection if it does not close soon. */
    void close() {
        closing = true;
        cancelPings();
        CoreSession s;
        synchronized (this) {
            s = session;
            if (s == null) {
                early.clear();
                return;
            }
            s.close(CloseStatus.NORMAL, "", Callback.NOOP);
        }
        ctx.timers().schedule(s::abort, 1, TimeUnit.SECONDS);
    }

    /** Drops the connection at once. */
    void abort() {
        closing = true;
        cancelPings();
        CoreSession s = session;
        if (s != null) {
            s.abort();
        }
    }

    private void cancelPings() {
        ScheduledFuture<?> p = pinger;
        if (p != null) {
            p.cancel(false);
        }
    }

    /**
     * Pings, or gives the connection up when a ping it has been sent for three intervals is still
     * unanswered and nothing else arrived since. A ping waits behind the frames queued before it
     * (a client uploading audio), so the wait starts when it has really been sent.
     */
    private void ping() {
        if (closing) {
            return;
        }
        long sent = pingSentNanos;
        if (sent != 0) {
            if (lastHeardNanos - sent < 0 && System.nanoTime() - sent > 3 * ctx.pingInterval().toNanos()) {
                events.failed("the upstream stopped answering");
            }
            if (lastHeardNanos - sent < 0) {
                return;
            }
        } else if (pingInFlight) {
            return;
        }
        pingInFlight = true;
        pingSentNanos = 0;
        Callback sent0 = Callback.from(() -> {
            pingInFlight = false;
            pingSentNanos = System.nanoTime();
        }, error -> {
            pingInFlight = false;
            pingSentNanos = System.nanoTime();
            if (!closing) {
                events.failed("the upstream connection failed");
            }
        });
        synchronized (this) {
            session.sendFrame(new Frame(OpCode.PING, ByteBuffer.allocate(0)), sent0, false);
        }
    }

    // ---- Jetty core: called one at a time for this connection ----

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
        reads = SelectorReads.install(coreSession);
        lastHeardNanos = System.nanoTime();
        synchronized (this) {
            session = coreSession;
            early.forEach(this::write);
            early.clear();
        }
        callback.succeeded();
        if (closing) {
            coreSession.abort();
            return;
        }
        long every = ctx.pingInterval().toMillis();
        pinger = ctx.timers().scheduleWithFixedDelay(this::ping, every, every, TimeUnit.MILLISECONDS);
        events.opened();
        coreSession.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        lastHeardNanos = System.nanoTime();
        byte op = frame.getOpCode();
        if (op == OpCode.CLOSE) {
            // Jetty answers the close; onClosed follows
            callback.succeeded();
            return;
        }
        if (op == OpCode.PING) {
            // a core frame handler answers its pings itself; an upstream that pings and hears nothing drops the session
            ByteBuffer payload = frame.hasPayload()
                    ? ByteBuffer.allocate(frame.getPayloadLength()).put(frame.getPayload().slice()).flip()
                    : ByteBuffer.allocate(0);
            callback.succeeded();
            session.sendFrame(new Frame(OpCode.PONG, payload), Callback.NOOP, false);
            session.demand();
            return;
        }
        MessageAssembler.Message message = null;
        if (OpCode.isDataFrame(op)) {
            try {
                message = incoming.accept(op, frame.getPayload(), frame.isFin());
            } catch (MessageAssembler.TooLarge e) {
                callback.succeeded();
                // dropped, not the session: its fragments still to come are read and dropped too
                ByteBuffer prefix = e.prefix();
                if (reads.handle(false, ctx.upstream().executor(), () -> events.oversized(prefix), session::demand)) {
                    session.demand();
                }
                return;
            }
        }
        // the payload is copied: the network buffer goes back now
        callback.succeeded();
        if (message != null) {
            MessageAssembler.Message m = message;
            // an event that passes through (audio, text deltas) is relayed on the reading thread;
            // one that meters or calls tools leaves it, and the next frame is read once it is handled
            boolean passesThrough = m.text() && !RealtimeEvents.matters(EventScanner.type(m.payload()));
            if (!reads.handle(passesThrough, ctx.upstream().executor(), () -> deliver(m), session::demand)) {
                return;
            }
        }
        session.demand();
    }

    private void deliver(MessageAssembler.Message message) {
        ctx.metrics().frame(RelayMetrics.UPSTREAM_TO_CLIENT, message.payload().remaining());
        if (message.text()) {
            events.text(message.payload());
        } else {
            events.binary(message.payload());
        }
    }

    /** Runs an ending off the reading thread (it may be the selector's: see {@link SelectorReads}). */
    private void offReadingThread(Runnable r) {
        SelectorReads.offSelector(reads, ctx.upstream().executor(), r);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        callback.succeeded();
        // before the connection opened (a refused or failed upgrade), the future of connect() or
        // attach() reports it: reported here too, a call's sideband would start a second re-attachment
        // for every attempt that fails
        if (!closing && session != null) {
            offReadingThread(() -> events.failed(cause instanceof MessageTooLargeException
                    ? "the upstream sent an oversized frame" : "the upstream connection failed"));
        }
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
        callback.succeeded();
        if (!closing) {
            offReadingThread(() -> events.failed("the upstream closed the connection"));
        }
    }
}
