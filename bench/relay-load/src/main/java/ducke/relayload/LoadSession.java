package ducke.relayload;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One load session: a JDK WebSocket to the relay ({@code /session}), to nginx, or straight to the stand-in.
 * It keeps one echo frame outstanding at a time and times each round trip with
 * {@link System#nanoTime}: stamped just before {@code sendText}, read when the whole echo has
 * arrived. Every echo is compared with what was sent (sequence number and full text); anything
 * else that arrives after the session is ready (except {@code session.updated}, the upstream's answer
 * to the relay's own {@code session.update}), every close the driver did not ask for, and every echo
 * still missing when a round is abandoned, is recorded as a problem.
 */
final class LoadSession implements WebSocket.Listener {

    /** Audio as the SDKs append it; the sequence number travels in the event id, which the relay passes unchanged. */
    static final String ECHO_PREFIX = "{\"type\":\"input_audio_buffer.append\",\"event_id\":\"";
    private static final int MAX_PROBLEMS_KEPT = 10;

    /**
     * One measured (or warm-up) pass: every session sends {@code frames} echoes, at most one every
     * {@code paceNanos} (0: the next as soon as the echo is back).
     */
    static final class Round {
        final int frames;
        final long paceNanos;
        final CountDownLatch done;
        final AtomicLong received = new AtomicLong();
        final AtomicInteger failedSessions = new AtomicInteger();

        Round(int frames, int sessions, long paceNanos) {
            this.frames = frames;
            this.paceNanos = paceNanos;
            this.done = new CountDownLatch(sessions);
        }
    }

    final int id;
    final boolean viaRelay;
    private final String payload;
    private final ScheduledExecutorService pacer;

    private volatile WebSocket ws;
    private final StringBuilder partial = new StringBuilder();

    private long connectStartNanos;
    private volatile long readyNanos;
    private boolean sawStarted;
    private boolean sawCreated;
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private volatile boolean closing;

    // the current round, guarded by this
    private Round round;
    private long seq;
    private String outstanding;
    private long sentAt;
    private long[] rtts = new long[0];
    private int count;
    private CompletableFuture<?> sendTail = CompletableFuture.completedFuture(null);

    private final AtomicInteger problemCount = new AtomicInteger();
    final AtomicInteger sessionUpdated = new AtomicInteger();
    private final List<String> problems = new ArrayList<>();

    LoadSession(int id, boolean viaRelay, String payload, ScheduledExecutorService pacer) {
        this.id = id;
        this.viaRelay = viaRelay;
        this.payload = payload;
        this.pacer = pacer;
    }

    /** Starts the handshake; {@link #ready} completes once the session's opening events have arrived. */
    void connect(HttpClient client, URI uri, String... headers) {
        connectStartNanos = System.nanoTime();
        WebSocket.Builder b = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        b.buildAsync(uri, this).whenComplete((w, error) -> {
            if (error != null) {
                problem("handshake failed: " + error);
                ready.completeExceptionally(error);
            }
        });
    }

    /** Handshake start to the last opening event ({@code session_started} and {@code session.created} via the relay). */
    long setupNanos() {
        return readyNanos - connectStartNanos;
    }

    synchronized void start(Round r) {
        round = r;
        rtts = new long[r.frames];
        count = 0;
        if (ws == null || closed.isDone()) {
            fail("not open at the start of a round");
            return;
        }
        if (r.paceNanos > 0) {
            // spread the first frames over one pacing interval so the sessions do not send in lockstep
            pacer.schedule(this::sendNext, ThreadLocalRandom.current().nextLong(r.paceNanos), TimeUnit.NANOSECONDS);
        } else {
            sendNext();
        }
    }

    /** The round trips of the last round, in nanoseconds (only the ones that completed). */
    synchronized long[] roundTrips() {
        return java.util.Arrays.copyOf(rtts, count);
    }

    private synchronized void sendNext() {
        if (round == null || ws == null) {
            return;
        }
        seq++;
        String frame = ECHO_PREFIX + seq + "\",\"audio\":\"" + payload + "\"}";
        outstanding = frame;
        WebSocket w = ws;
        sentAt = System.nanoTime();
        sendTail = sendTail.thenCompose(v -> w.sendText(frame, true)).whenComplete((v, error) -> {
            if (error != null) {
                fail("send failed: " + error);
            }
        });
    }

    private synchronized void echo(String message, long now) {
        int comma = message.indexOf('"', ECHO_PREFIX.length());
        long s;
        try {
            s = Long.parseLong(message, ECHO_PREFIX.length(), comma < 0 ? message.length() : comma, 10);
        } catch (NumberFormatException e) {
            problem("echo without a readable seq: " + cut(message));
            return;
        }
        if (round == null || outstanding == null || s != seq) {
            problem("unexpected echo seq " + s + " (outstanding: " + (outstanding == null ? "none" : seq) + ")");
            return;
        }
        if (!message.equals(outstanding)) {
            problem("echo of seq " + s + " differs from what was sent (" + message.length() + " vs "
                    + outstanding.length() + " chars)");
            fail("corrupted echo");
            return;
        }
        outstanding = null;
        rtts[count++] = now - sentAt;
        round.received.incrementAndGet();
        if (count == round.frames) {
            Round r = round;
            round = null;
            r.done.countDown();
        } else if (round.paceNanos == 0) {
            sendNext();
        } else {
            long wait = sentAt + round.paceNanos - now;
            if (wait <= 0) {
                sendNext();
            } else {
                pacer.schedule(this::sendNext, wait, TimeUnit.NANOSECONDS);
            }
        }
    }

    private synchronized void event(String message, long now) {
        String type = typeOf(message);
        if (type.equals("session.updated")) {
            // the upstream's answer to the relay's own session.update (its output clamp); not a client frame
            sessionUpdated.incrementAndGet();
            return;
        }
        if (!ready.isDone()) {
            if (type.equals("session_started")) {
                sawStarted = true;
            } else if (type.equals("session.created")) {
                sawCreated = true;
            } else {
                problem("unexpected event before the session was ready: " + cut(message));
            }
            if (sawCreated && (sawStarted || !viaRelay)) {
                readyNanos = now;
                ready.complete(null);
            }
            return;
        }
        problem("unexpected event: " + cut(message));
    }

    /** Ends this session's part of the current round as failed. */
    private synchronized void fail(String why) {
        problem(why);
        Round r = round;
        if (r != null) {
            round = null;
            outstanding = null;
            r.failedSessions.incrementAndGet();
            r.done.countDown();
        }
    }

    /** Whether a frame is on its way and for how long, for stall reports. */
    synchronized long outstandingForNanos(long now) {
        return outstanding == null ? -1 : now - sentAt;
    }

    /** Abandons a stalled round (the driver gave up waiting); a frame still waiting for its echo counts as lost. */
    synchronized void abandon() {
        if (outstanding != null) {
            problem("echo of seq " + seq + " never came back (lost)");
        }
        round = null;
        outstanding = null;
    }

    CompletableFuture<String> close() {
        closing = true;
        WebSocket w = ws;
        if (w != null && !closed.isDone()) {
            w.sendClose(WebSocket.NORMAL_CLOSURE, "done").exceptionally(e -> {
                w.abort();
                closed.complete("abort after failed close: " + e);
                return null;
            });
        } else if (w == null) {
            closed.complete("never opened");
        }
        return closed;
    }

    void abort() {
        WebSocket w = ws;
        if (w != null) {
            w.abort();
        }
    }

    int problemCount() {
        return problemCount.get();
    }

    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    private synchronized void problem(String what) {
        problemCount.incrementAndGet();
        if (problems.size() < MAX_PROBLEMS_KEPT) {
            problems.add(what);
        }
    }

    // ---- WebSocket.Listener ----

    @Override
    public void onOpen(WebSocket webSocket) {
        ws = webSocket;
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            long now = System.nanoTime();
            String message = partial.toString();
            partial.setLength(0);
            if (message.startsWith(ECHO_PREFIX)) {
                echo(message, now);
            } else {
                event(message, now);
            }
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        if (last) {
            problem("unexpected binary frame");
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        String how = statusCode + (reason == null || reason.isEmpty() ? "" : " " + reason);
        if (!closing) {
            fail("closed by the far end: " + how);
            ready.completeExceptionally(new IllegalStateException("closed: " + how));
        }
        closed.complete(how);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        if (!closing) {
            fail("connection error: " + error);
            ready.completeExceptionally(error);
        }
        closed.complete("error: " + error);
    }

    static String typeOf(String message) {
        int at = message.indexOf("\"type\":\"");
        if (at < 0) {
            return "";
        }
        int end = message.indexOf('"', at + 8);
        return end < 0 ? "" : message.substring(at + 8, end);
    }

    private static String cut(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)";
    }
}
