package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionPauses;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/**
 * Pause instead of cut ({@code COST_PROTECTION_ON_CAP=pause}) for one relayed session: the state
 * of its pause and what the client and the upstream are told. A session that cannot afford its
 * next response — its cap, or its client's budget refusing the next reservation — is paused
 * rather than ended: what is in flight finishes and is charged, nothing new starts, and the
 * session waits up to the pause timeout for a raised cap ({@code PATCH /v1/sessions/{id}}) or
 * client budget. The breaker, the duration cap, a drain and an admin end still end it.
 *
 * <p>While paused, the client events that start billed work are refused with the realtime
 * {@code error} event, code {@code session_paused}: {@code response.create},
 * {@code input_audio_buffer.commit} (a transcription, and with server VAD a turn),
 * {@code conversation.item.create} and {@code session.update} / {@code transcription_session.update}
 * (which could turn response creation back on). Input audio is dropped (the model hears nothing
 * while paused: server VAD cannot start a turn or a transcription from it); the first dropped
 * append of a pause is answered with the error, the rest silently. Everything else (cancel, clear,
 * retrieve, truncate, delete) passes. When the upstream session has turn detection, the guard's own
 * {@code session.update} sets its {@code create_response} to false for the pause and back after
 * it; a response the upstream still starts meanwhile finds no reservation and is cancelled.
 *
 * <p>A WebRTC call pauses for the same reasons, by reaction: the caller's events reach the provider
 * on its data channel, where nothing can be refused, and the caller hears no gateway event. The
 * guard turns {@code create_response} off through the sideband (again when the caller turns it
 * back on), and cancels by id every response the sideband shows starting while paused, charged
 * what it cost; a caller that keeps starting them is hung up (the call's cancel limit) with the
 * pause's reason.
 *
 * <p>Thread-safe: the state is guarded by this object.
 */
final class Pause {

    /** The gateway's error code for a client event refused while paused. */
    static final String CODE = "session_paused";
    /** How often a paused session looks at the clock for its timeout: the relay's timers do not follow a clock set by hand. */
    static final long CHECK_MILLIS = 1000;

    /** How a node pauses its sessions. */
    record Policy(boolean onCap, Duration timeout, SessionPauses board, PauseLog log) {
        /** Sessions end at their cap (the default). */
        static final Policy END = new Policy(false, Duration.ofSeconds(60), SessionPauses.inMemory(), PauseLog.NONE);
    }

    /** What a client event gets while the session is paused. */
    enum Verdict { PASS, REFUSE, DROP }

    private static final Set<String> REFUSED = Set.of("response.create", "input_audio_buffer.commit",
            "conversation.item.create", "session.update", "transcription_session.update");

    private final Policy policy;
    private final ObjectMapper mapper;
    private final boolean beta;
    private final String sessionId;
    private boolean paused;
    private EndReason reason;
    private long pausedAtMillis;
    private long deadlineMillis;
    private int pauses;
    private long pausedMillis;
    private boolean appendRefused;
    private ScheduledFuture<?> check;
    /** The upstream session's turn detection as it reported it last before a pause; null: none, or not reported. */
    private ObjectNode turnDetection;
    /**
     * The guard's update turning {@code create_response} off was sent and the upstream has not yet
     * reported it applied: a report meanwhile showing it on was written before it (not the caller's doing).
     */
    private boolean offPending;

    Pause(Policy policy, ObjectMapper mapper, boolean beta, String sessionId) {
        this.policy = policy;
        this.sessionId = sessionId;
        this.mapper = mapper;
        this.beta = beta;
    }

    /** Whether running out of budget for {@code reason} pauses the session rather than ending it. */
    boolean pausesFor(EndReason reason) {
        return policy.onCap() && (reason == EndReason.BUDGET_EXCEEDED || reason == EndReason.CLIENT_BUDGET_EXCEEDED);
    }

    boolean enabled() {
        return policy.onCap();
    }

    synchronized boolean paused() {
        return paused;
    }

    /** Pauses for {@code why}; false when paused already (the first reason stays). */
    synchronized boolean enter(EndReason why, long nowMillis) {
        if (paused) {
            return false;
        }
        paused = true;
        reason = why;
        pausedAtMillis = nowMillis;
        deadlineMillis = nowMillis + policy.timeout().toMillis();
        pauses++;
        appendRefused = false;
        policy.board().paused(sessionId, why.label(), policy.timeout().toMillis() + 60_000);
        return true;
    }

    /** Ends the pause; false when not paused. */
    synchronized boolean leave(long nowMillis) {
        if (!paused) {
            return false;
        }
        paused = false;
        offPending = false;
        pausedMillis += Math.max(0, nowMillis - pausedAtMillis);
        cancelCheck();
        policy.board().resumed(sessionId);
        return true;
    }

    /** The reason the session ends with now that the pause timed out; null while it may still wait. */
    synchronized EndReason expired(long nowMillis) {
        return paused && nowMillis >= deadlineMillis ? reason : null;
    }

    synchronized void checkWith(ScheduledFuture<?> next) {
        cancelCheck();
        check = paused ? next : null;
        if (!paused && next != null) {
            next.cancel(false);
        }
    }

    private void cancelCheck() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    /** Why the session is paused (null when it is not): the reason it ends with if it does not resume. */
    synchronized EndReason reason() {
        return paused ? reason : null;
    }

    /** Milliseconds until the timeout, never negative. */
    synchronized long leftMillis(long nowMillis) {
        return Math.max(0, deadlineMillis - nowMillis);
    }

    /** The session ended: its pauses go to its audit row, and it is paused no more. */
    void ended(long nowMillis) {
        int n;
        long ms;
        synchronized (this) {
            if (paused) {
                leave(nowMillis);
            }
            n = pauses;
            ms = pausedMillis;
        }
        if (n > 0) {
            policy.log().ended(sessionId, n, ms);
        }
    }

    /** What a client event of this type gets while the session is paused ({@link Verdict#PASS} when it is not). */
    synchronized Verdict verdict(String type) {
        if (!paused) {
            return Verdict.PASS;
        }
        if (type.equals(AudioAppend.TYPE)) {
            if (appendRefused) {
                return Verdict.DROP;
            }
            appendRefused = true;
            return Verdict.REFUSE;
        }
        return REFUSED.contains(type) ? Verdict.REFUSE : Verdict.PASS;
    }

    /** The refusal of a client event while paused. */
    ClientEventPolicy.Refuse refusal(String type, String eventId) {
        return new ClientEventPolicy.Refuse(CODE, type.equals(AudioAppend.TYPE)
                ? "This session is paused at its cost limit: input audio is not forwarded until it resumes"
                : "This session is paused at its cost limit: " + type + " is refused until it resumes", eventId);
    }

    /**
     * The upstream reported its session ({@code session.created} / {@code session.updated}): its
     * turn detection is remembered, except while paused (the report then shows the pause's own change).
     */
    synchronized void sessionReported(JsonNode event) {
        if (paused) {
            return;
        }
        JsonNode s = event.path("session");
        JsonNode td = beta ? s.get("turn_detection") : s.path("audio").path("input").get("turn_detection");
        if (td == null) {
            return;
        }
        turnDetection = td instanceof ObjectNode o ? o.deepCopy() : null;
    }

    /**
     * A WebRTC call reported its session while paused: the caller may have changed its turn
     * detection on its data channel, where the guard cannot refuse it. Turn detection that would
     * start responses again is remembered (to be given back on resume) and answered with the
     * guard's {@code session.update} turning {@code create_response} off again, returned; null when
     * nothing is to be sent (not paused, or the report shows no turn detection that starts responses,
     * such as the guard's own pause update).
     */
    synchronized String callSessionReportedWhilePaused(JsonNode event) {
        if (!paused) {
            return null;
        }
        JsonNode td = event.path("session").path("audio").path("input").get("turn_detection");
        if (td == null) {
            return null;
        }
        if (!(td instanceof ObjectNode o)) {
            turnDetection = null; // turned off: nothing to stop, nothing to give back
            return null;
        }
        if (!o.path("create_response").asBoolean(true)) {
            offPending = false; // the guard's own update applied (or the caller's, to the same effect)
            return null;
        }
        if (offPending) {
            return null; // reported before the guard's update applied
        }
        turnDetection = o.deepCopy();
        return turnDetectionOff();
    }

    /** The guard's {@code session.update} that stops server VAD from starting responses; null when none is needed. */
    synchronized String turnDetectionOff() {
        if (turnDetection == null || !turnDetection.path("create_response").asBoolean(true)) {
            return null;
        }
        ObjectNode td = turnDetection.deepCopy();
        td.put("create_response", false);
        offPending = true;
        return turnDetectionUpdate(td, "event_gw_pause");
    }

    /** The guard's {@code session.update} that gives turn detection back its own {@code create_response}; null when none is needed. */
    synchronized String turnDetectionBack() {
        if (turnDetection == null || !turnDetection.path("create_response").asBoolean(true)) {
            return null;
        }
        ObjectNode td = turnDetection.deepCopy();
        td.put("create_response", true);
        return turnDetectionUpdate(td, "event_gw_resume");
    }

    private String turnDetectionUpdate(ObjectNode td, String eventId) {
        ObjectNode e = mapper.createObjectNode();
        e.put("type", "session.update");
        e.put("event_id", eventId);
        ObjectNode session = e.putObject("session");
        if (beta) {
            session.set("turn_detection", td);
        } else {
            session.put("type", "realtime");
            session.putObject("audio").putObject("input").set("turn_detection", td);
        }
        return e.toString();
    }

    /** The gateway event that tells the client of the pause. */
    String pausedEvent(SessionLedger l, EndReason why) {
        ObjectNode e = mapper.createObjectNode();
        e.put("type", "session_paused");
        e.put("reason", why.label());
        e.put("session_id", l.sessionId());
        e.put("session_cost", Money.usd(l.costNanoUsd()));
        e.put("max_cost_usd", Money.usd(l.maxCostNanoUsd()));
        e.put("resume_timeout_seconds", policy.timeout().toSeconds());
        e.put("message", "This session is paused at its cost limit: no new response starts until its budget is raised");
        return e.toString();
    }

    /** The gateway event that tells the client the session goes on. */
    String resumedEvent(SessionLedger l) {
        ObjectNode e = mapper.createObjectNode();
        e.put("type", "session_resumed");
        e.put("session_id", l.sessionId());
        e.put("max_cost_usd", Money.usd(l.maxCostNanoUsd()));
        e.put("session_cost", Money.usd(l.costNanoUsd()));
        e.put("remaining_budget_usd", Money.usd(l.remainingBudgetNanoUsd()));
        return e.toString();
    }
}
