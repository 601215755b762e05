package ducke.relay;

import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * How one relayed session ends, once, whatever the path: client frames stop at once; a response
 * still in flight is cancelled upstream and its {@code response.done} awaited (at most
 * {@code finalUsageWait}) and charged, so what the provider bills is in the ledger; then the
 * ledger ends (a no-op if it already ended), the client hears why ({@link ClientEnding}), and both
 * sockets close. Also the session's duration timer, and the charges: an end announced while a
 * charge is under way waits for that charge, and a charge the cluster does not confirm ends the
 * session.
 */
final class SessionEnding {

    private static final Logger LOG = LoggerFactory.getLogger(RelaySession.class);
    /** How long a closed client may take to complete the close handshake before its connection is dropped. */
    static final long CLIENT_CLOSE_GRACE_SECONDS = 10;
    /** Two client frames within this long before the close: the client is still sending (streaming audio). */
    static final long STREAMING_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long the close waits behind the final events for a client that is still sending. */
    static final long FINAL_EVENTS_GRACE_MILLIS = 500;
    /** What the client hears when a charge could not be recorded. */
    static final String UNCONFIRMED_CHARGE = "This server could not record a charge with its cluster in time; reconnect";

    private final RelayContext ctx;
    private final RelaySession session;
    private final Metering metering;
    /** The link in use (a WebRTC call's sideband is replaced when it re-attaches). */
    private final Supplier<UpstreamLink> upstream;
    private final Supplier<ClientSender> client;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final Object chargeLock = new Object();
    private int charging;
    private SessionLedger endedWhileCharging;
    private volatile ScheduledFuture<?> timer;
    /** The client sent a message over the size limit. */
    private volatile boolean tooLarge;
    /** When the last two client frames arrived (the window's length before the start, at first). */
    private long lastClientFrameNanos = System.nanoTime() - STREAMING_WINDOW_NANOS;
    private long previousClientFrameNanos = lastClientFrameNanos;

    SessionEnding(RelayContext ctx, RelaySession session, Metering metering, Supplier<UpstreamLink> upstream,
                  Supplier<ClientSender> client) {
        this.ctx = ctx;
        this.session = session;
        this.metering = metering;
        this.upstream = upstream;
        this.client = client;
    }

    /** Whether the session is ending (or ended): client frames are dropped, no new spending starts. */
    boolean started() {
        return started.get();
    }

    /**
     * The client sent a message over the size limit: the session ends and the client is closed with
     * 1009 (as Jetty would), a moment after its last frame was read, since it is still sending.
     */
    void clientTooLarge() {
        tooLarge = true;
        soon(EndReason.CLIENT_CLOSED, null);
    }

    /** A frame arrived from the client (also while the session ends). */
    synchronized void clientFrame() {
        previousClientFrameNanos = lastClientFrameNanos;
        lastClientFrameNanos = System.nanoTime();
    }

    /** Whether the client sent two frames within the last {@link #STREAMING_WINDOW_NANOS}: it streams. */
    private synchronized boolean clientStreams() {
        return System.nanoTime() - previousClientFrameNanos < STREAMING_WINDOW_NANOS;
    }

    /** Completes when the session has ended and its last charge is recorded. */
    CompletableFuture<Void> finished() {
        return finished;
    }

    /** The session never began (no ledger opened for it here): only the client's socket to close. */
    void abandoned(ClientSender sender, int code, String reason) {
        started.set(true);
        finished.complete(null);
        closeClient(sender, code, reason);
    }

    // ---- the duration cap ----

    void scheduleExpiry() {
        long delay = Math.max(0, metering.ledger().expiresAtMillis() - ctx.clock().millis());
        timer = ctx.timers().schedule(this::checkExpiry, delay, TimeUnit.MILLISECONDS);
    }

    private void checkExpiry() {
        if (started.get()) {
            return;
        }
        if (ctx.clock().millis() >= metering.ledger().expiresAtMillis()) {
            now(EndReason.SESSION_TIMEOUT, null, null);
        } else {
            scheduleExpiry();
        }
    }

    // ---- charges ----

    /**
     * The cluster announced that this session's ledger ended (admin, breaker, another node, or a
     * charge of this very session). While a charge is under way the charge reports the end itself,
     * after its usage update, so the announcement waits for it.
     */
    void ledgerEnded(SessionLedger ended) {
        synchronized (chargeLock) {
            if (charging > 0) {
                endedWhileCharging = ended;
                return;
            }
        }
        now(ended.endReason(), ended, null);
    }

    /** Runs a charge and its messages to the client; endings announced meanwhile wait for it. */
    void charging(Runnable charge) {
        synchronized (chargeLock) {
            charging++;
        }
        try {
            charge.run();
        } catch (RuntimeException e) {
            // the grid did not confirm the charge in time (it may still apply it) or refused it: a
            // session whose spending the guard cannot record must not go on spending
            if (e instanceof ClusterUnavailableException) {
                LOG.warn("Session {}: a charge was not confirmed by the cluster ({}); ending the session",
                        session.sessionId(), e.getMessage());
            } else {
                LOG.error("Could not charge session {}; ending the session", session.sessionId(), e);
            }
            ctx.metrics().chargeUnconfirmed();
            soon(EndReason.CLUSTER_DEGRADED, UNCONFIRMED_CHARGE);
        } finally {
            SessionLedger deferred;
            synchronized (chargeLock) {
                charging--;
                deferred = charging == 0 ? endedWhileCharging : null;
                if (deferred != null) {
                    endedWhileCharging = null;
                }
            }
            if (deferred != null) {
                now(deferred.endReason(), deferred, null);
            }
        }
    }

    // ---- ending ----

    /**
     * Ends the session from a thread that must not block (a relayed frame may be handled on the
     * selector thread, see {@link SelectorReads}): client frames stop at once, the rest of
     * {@link #now} (the grid, the last response's usage) runs on a pool thread.
     */
    void soon(EndReason reason, String detail) {
        if (started.compareAndSet(false, true)) {
            session.executor().execute(() -> ending(reason, null, detail));
        }
    }

    /**
     * Ends the session once, whatever the path; see the class comment.
     *
     * @param ended  the ledger as ended elsewhere, when known
     * @param detail a sentence for upstream errors, stalls and unconfirmed charges
     */
    void now(EndReason reason, SessionLedger ended, String detail) {
        if (started.compareAndSet(false, true)) {
            ending(reason, ended, detail);
        }
    }

    /** {@link #now} once {@code started} is set. */
    private void ending(EndReason reason, SessionLedger ended, String detail) {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        if (session.isCall()) {
            callEnding(reason, ended, detail);
            return;
        }
        if (metering.inFlight() == 0) {
            session.goodbye().thenEnd(reason, upstream.get(), () -> complete(reason, ended, detail));
            return;
        }
        UpstreamLink link = upstream.get();
        if (reason == EndReason.UPSTREAM_ERROR || !link.open()) {
            // no usage can come any more for what is in flight: the provider bills it all the same
            chargeOutstanding();
            complete(reason, ended, detail);
            return;
        }
        LOG.info("Session {} ends ({}) with {} response(s) or transcription(s) in flight: cancelling and waiting for their usage",
                session.sessionId(), reason.label(), metering.inFlight());
        link.text(ctx.events().responseCancel(null));
        session.cancelledForEnding(link);
        CompletableFuture<Void> idle = metering.idle();
        ScheduledFuture<?> giveUp = ctx.timers().schedule(() -> idle.complete(null),
                ctx.finalUsageWait().toMillis(), TimeUnit.MILLISECONDS);
        idle.whenComplete((v, e) -> {
            giveUp.cancel(false);
            if (metering.inFlight() > 0) {
                LOG.warn("Session {} ended before the upstream reported its last response's usage: charging its reservation",
                        session.sessionId());
                ctx.metrics().finalUsageMissed();
                chargeOutstanding();
            }
            session.goodbye().thenEnd(reason, link, () -> complete(reason, ended, detail));
        });
    }

    /**
     * How a WebRTC call ends. The caller's events go to the provider on its data channel, where
     * the guard cannot stop them: a response it starts while the call ends would not be seen by an
     * ending that only waits for what it knows. So what is in flight is cancelled and its usage
     * awaited (a response the caller starts meanwhile is cancelled and awaited too), then the call
     * is hung up — the caller can start nothing more — and the sideband is read on until the
     * provider closes it: a {@code response.created} already on its way is counted, and charged by
     * its usage, or by its reservation (estimated) when none comes. Each wait is at most
     * {@code finalUsageWait}. Only then does the ledger end.
     */
    private void callEnding(EndReason reason, SessionLedger ended, String detail) {
        UpstreamLink link = upstream.get();
        CompletableFuture<Void> idle;
        if (reason != EndReason.UPSTREAM_ERROR && link.open() && metering.inFlight() > 0) {
            LOG.info("Call {} ends ({}) with {} response(s) or transcription(s) in flight: cancelling and waiting for their usage",
                    session.sessionId(), reason.label(), metering.inFlight());
            link.text(ctx.events().responseCancel(null));
            session.cancelledForEnding(link);
            idle = within(metering.idle());
        } else {
            idle = CompletableFuture.completedFuture(null);
        }
        // the goodbye goes through the sideband before the hang-up, charged the same way
        idle.whenComplete((v, e) -> session.goodbye().thenEnd(reason, upstream.get(), () -> {
            session.hangUp();
            CompletableFuture<Void> gone = reason == EndReason.UPSTREAM_ERROR
                    ? CompletableFuture.completedFuture(null) : within(session.sidebandGone());
            gone.whenComplete((v2, e2) -> session.executor().execute(() -> {
                // usage read before the close is charged by now (charges run on the reading path); the rest never comes
                awaitCharges();
                if (metering.inFlight() > 0) {
                    LOG.warn("Call {} ended before the provider reported the usage of {} response(s) or transcription(s): "
                            + "charging their reservation", session.sessionId(), metering.inFlight());
                    ctx.metrics().finalUsageMissed();
                    chargeOutstanding();
                }
                complete(reason, ended, detail);
            }));
        }));
    }

    /** {@code f}, or completed anyway after {@code finalUsageWait}. */
    private CompletableFuture<Void> within(CompletableFuture<Void> f) {
        return ctx.withinFinalUsageWait(f);
    }

    /** Waits (briefly) for charges under way on other threads to be through. */
    private void awaitCharges() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            synchronized (chargeLock) {
                if (charging == 0) {
                    return;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                return;
            }
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Charges what is still in flight at its reservation, marked estimated (see
     * {@link Metering#chargeOutstanding}); a charge the cluster cannot take now is journaled, or
     * logged with its amount when even that fails.
     */
    private void chargeOutstanding() {
        try {
            int n = metering.chargeOutstanding(ctx.clock().millis());
            if (n > 0) {
                LOG.info("Session {}: {} response(s) or transcription(s) without usage charged their reservation (estimated)",
                        session.sessionId(), n);
            }
        } catch (RuntimeException e) {
            ctx.metrics().chargeUnconfirmed();
            LOG.error("Session {}: could not charge the estimate of what was in flight", session.sessionId(), e);
        }
    }

    private void complete(EndReason reason, SessionLedger ended, String detail) {
        Runnable done = () -> {
            ctx.registry().remove(session);
            finished.complete(null);
        };
        boolean closesLater = false;
        CompletableFuture<Void> hungUp = null;
        try {
            try {
                metering.releaseHolds(ctx.clock().millis());
            } catch (RuntimeException e) {
                LOG.info("Session {}: reservations not given back ({}); they lapse by themselves", session.sessionId(), e.toString());
            }
            SessionLedger last = ended;
            try {
                last = ctx.guard().endOrJournal(session.sessionId(), reason, ctx.clock().millis())
                        .map(e -> e.ledger()).orElse(ended);
            } catch (RuntimeException e) {
                LOG.warn("Could not end the ledger of {}; the reaper will", session.sessionId(), e);
            }
            EndReason actual = last != null && last.endReason() != null ? last.endReason() : reason;
            LOG.info("Relayed session {} ended: {}{}", session.sessionId(), actual.label(), detail == null ? "" : " (" + detail + ")");
            ctx.metrics().sessionClosed(actual.label());
            closesLater = closeClient(actual, last == null ? metering.ledger() : last, detail, done);
            // a WebRTC call is hung up before its sideband closes (the provider ends the media too); the
            // session is finished once the provider answered, so that a node that stops waits for it
            hungUp = session.ended();
            UpstreamLink link = upstream.get();
            Runnable closeLink = () -> {
                try {
                    if (reason == EndReason.UPSTREAM_ERROR) {
                        link.abort();
                    } else {
                        link.close();
                    }
                } catch (RuntimeException e) {
                    link.abort(); // the node's timers stopped: no graceful close to wait for
                }
            };
            if (hungUp.isDone()) {
                closeLink.run();
            } else {
                hungUp = hungUp.whenComplete((v, e) -> closeLink.run());
            }
        } finally {
            if (!closesLater) {
                if (hungUp == null || hungUp.isDone()) {
                    done.run();
                } else {
                    hungUp.whenComplete((v, e) -> done.run());
                }
            }
        }
    }

    /**
     * Sends the client its ending and closes it; true when the close (and then {@code done}) is
     * to come: a node that stops waits for it, or its own shutdown would close the client first.
     */
    private boolean closeClient(EndReason reason, SessionLedger last, String detail, Runnable done) {
        ClientSender sender = client.get();
        if (sender == null) {
            return false;
        }
        ClientEnding ending = ClientEnding.of(reason, last, detail, ctx.events(), ctx.guard().limits());
        if (ending.event() != null) {
            sender.text(ending.event());
        }
        if (ending.error() != null) {
            sender.text(ending.error());
        }
        // Jetty drops the connection as soon as it has sent a close with an error code (1008, 1013,
        // ...): a client still sending audio then gets a reset, which can destroy the events above
        // before it has read them (seen with the JDK's client). Such a client gets a moment first.
        int code = tooLarge ? 1009 : ending.code();
        String closeReason = tooLarge ? "message too large" : ending.closeReason();
        boolean errorCode = code != 1000 && code != 1001;
        if (errorCode && (tooLarge || clientStreams())) {
            try {
                ctx.timers().schedule(() -> {
                    try {
                        closeClient(sender, code, closeReason);
                    } finally {
                        done.run();
                    }
                }, FINAL_EVENTS_GRACE_MILLIS, TimeUnit.MILLISECONDS);
                return true;
            } catch (RejectedExecutionException stopping) {
                // the timers are gone: close now
            }
        }
        closeClient(sender, code, closeReason);
        return false;
    }

    /**
     * Closes the client behind what is queued for it, and drops the connection if the close
     * handshake is not done {@link #CLIENT_CLOSE_GRACE_SECONDS} later (time to read the last events
     * on a slow link; a client that reads nothing holds no socket for the idle timeout).
     */
    void closeClient(ClientSender sender, int code, String reason) {
        sender.close(code, reason);
        try {
            ctx.timers().schedule(sender::abortIfOpen, CLIENT_CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (RejectedExecutionException stopping) {
            // the node is stopping: its connectors close every socket anyway
        }
    }
}
