package ducke.relay;

import ducke.core.cost.CostGuard;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Metering and the output clamp of one relayed session: the ledger as last charged, the responses
 * in flight with what each may still cost, and the estimate of what the next response may cost
 * ({@link ResponseBudget}). A response counts as in flight from the moment its
 * {@code response.create} is forwarded (or the upstream announces one it created itself) until its
 * {@code response.done} is charged. A transcription of committed input audio counts as in flight
 * from the upstream's {@code input_audio_buffer.committed} until its completion is charged (or it
 * failed), when the session transcribes. Thread-safe: client and upstream threads both call in.
 */
final class Metering {

    /** The answer to a request to start a response. */
    enum Start { FORWARD, ACTIVE_RESPONSE, UNAFFORDABLE }

    /** A response asked for but not announced yet, and what it reserved. */
    private record Pending(String eventId, long reserveNanoUsd) {
    }

    private final CostGuard guard;
    private final String sessionId;
    private final String model;
    private final int maxInFlight;
    private final ResponseBudget budget;
    private final Deque<Pending> pending = new ArrayDeque<>();
    private final Map<String, Long> active = new LinkedHashMap<>();
    /**
     * Responses that do not read the conversation or do not join it ({@link ResponseBudget.Scope}),
     * by event id while pending and by response id once announced; the others read and join it.
     */
    private final Map<String, ResponseBudget.Scope> scopes = new HashMap<>();
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();
    private SessionLedger ledger;
    /** The client's own limit on output tokens per response; unlimited unless it set one. */
    private long clientMaxOutput = Long.MAX_VALUE;
    /** The output limit last set on the upstream session; -1 before the first. */
    private long sessionClamp = -1;
    /** Audio the session clamp is set ahead of: 2 s of 24 kHz PCM16 (12 s of G.711), as base64 characters. */
    static final long CLAMP_HEADROOM_AUDIO_CHARS = 128_000;
    private long lastClampForStart;
    private String transcriptionModel;
    /** Whether the session transcribes its input audio (the client turned it on and not off again). */
    private boolean transcribes;
    /** Committed audio items whose transcription, billed by the provider, is still to come. */
    private final Set<String> transcriptions = new LinkedHashSet<>();
    /** More are not remembered: a provider that never completes them does not hold a session's end longer. */
    static final int MAX_TRANSCRIPTIONS_AWAITED = 64;
    /** Responses and transcriptions whose usage arrived but whose charge is not through yet. */
    private int settling;

    Metering(CostGuard guard, SessionLedger ledger, int maxInFlight, ResponseBudget budget) {
        this.guard = guard;
        this.ledger = ledger;
        this.sessionId = ledger.sessionId();
        this.model = ledger.model();
        this.maxInFlight = maxInFlight;
        this.budget = budget;
    }

    synchronized SessionLedger ledger() {
        return ledger;
    }

    private long remaining() {
        return ledger.remainingBudgetNanoUsd();
    }

    /** The most output tokens a response may produce now, the client's own limit included. */
    synchronized long clamp() {
        return Math.min(budget.maxOutputTokens(remaining()), clientMaxOutput);
    }

    /** Whether the next response can still start: its estimated input and one output token. */
    synchronized boolean canAffordNext() {
        return budget.canAffordNext(remaining());
    }

    /**
     * The clamp to set on the upstream session, when it differs from the one last set; null when
     * nothing needs to be sent. It is set {@link #CLAMP_HEADROOM_AUDIO_CHARS} of audio ahead of what
     * was appended, so that audio still streaming in does not at once make it too high.
     */
    synchronized Long sessionClampUpdate() {
        long c = Math.max(1, Math.min(budget.maxOutputTokens(remaining(), CLAMP_HEADROOM_AUDIO_CHARS), clientMaxOutput));
        if (c == sessionClamp) {
            return null;
        }
        sessionClamp = c;
        return c;
    }

    /**
     * A new session clamp when the one set upstream has become higher than what the budget allows
     * now (audio appended past the headroom, a transcription or tool fee charged): otherwise a
     * response the upstream starts by itself (server VAD) would carry the old limit and have to be
     * cancelled, dropping the user's turn. Null while the one set still holds.
     */
    synchronized Long staleSessionClamp() {
        return sessionClamp > 0 && clamp() < sessionClamp ? sessionClampUpdate() : null;
    }

    synchronized void audioAppended(long base64Chars) {
        budget.audioAppended(base64Chars);
    }

    /** The session's input audio format, as the base64 characters per token it carries. */
    synchronized void audioFormat(long physicalCharsPerToken) {
        budget.audioFormat(physicalCharsPerToken);
    }

    synchronized void textAdded(long utf8Bytes) {
        budget.textAdded(utf8Bytes);
    }

    /** The session transcribes its input audio with this model, priced at this input rate. */
    synchronized void transcribing(String transcriptionModel, long inputRate) {
        this.transcriptionModel = transcriptionModel;
        budget.transcribing(inputRate);
    }

    /** The client turned transcription of its input audio on or off ({@code session.update}). */
    synchronized void transcribes(boolean on) {
        transcribes = on;
    }

    /** The upstream committed an input audio item: its transcription is to come when the session transcribes. */
    synchronized void audioCommitted(String itemId) {
        if (transcribes && !itemId.isEmpty() && transcriptions.size() < MAX_TRANSCRIPTIONS_AWAITED) {
            transcriptions.add(itemId);
        }
    }

    /**
     * A transcription's completion arrived: no longer awaited, and in flight until its charge is
     * through and {@link #settled()} is called.
     */
    synchronized void transcriptionArrived(String itemId) {
        transcriptions.remove(itemId);
        settling++;
    }

    /** A transcription failed: nothing to charge, nothing more to await. */
    synchronized void transcriptionFailed(String itemId) {
        if (transcriptions.remove(itemId)) {
            notifyIfIdle();
        }
    }

    /** The client set its own per-response limit (Long.MAX_VALUE for "inf"). */
    synchronized void clientMaxOutput(long tokens) {
        clientMaxOutput = Math.max(1, tokens);
    }

    /**
     * The client set its own per-response limit on the upstream session ({@code session.update};
     * Long.MAX_VALUE for "inf"). Returns what to write there instead: the session clamp, with its
     * audio headroom and the client's limit, which is from now on the one set.
     */
    synchronized long clientSessionLimit(long tokens) {
        clientMaxOutput(tokens);
        sessionClampUpdate();
        return sessionClamp;
    }

    /** A response's own input refers to conversation items this many times more than once. */
    synchronized void repeatedItemReferences(long count) {
        budget.repeatedItemReferences(count);
    }

    /**
     * A {@code response.create} (the client's or the gateway's) is about to be forwarded. When it
     * may, the response is counted as in flight with its reservation; {@link #lastClamp()} then
     * says what its output was clamped to.
     */
    synchronized Start startResponse(String eventId, long requestedMaxOutput) {
        // a response whose charge is through (settling) no longer counts: its cost is in the ledger
        if (pending.size() + active.size() >= maxInFlight) {
            return Start.ACTIVE_RESPONSE;
        }
        long clamp = Math.min(clamp(), requestedMaxOutput);
        if (clamp < 1 || !budget.canAffordNext(remaining())) {
            return Start.UNAFFORDABLE;
        }
        lastClampForStart = clamp;
        pending.add(new Pending(eventId, budget.responseStarted(clamp)));
        return Start.FORWARD;
    }

    /** {@link #startResponse(String, long)} for a response of this scope. */
    synchronized Start startResponse(String eventId, long requestedMaxOutput, ResponseBudget.Scope scope) {
        Start s = startResponse(eventId, requestedMaxOutput);
        if (s == Start.FORWARD && scope != ResponseBudget.Scope.CONVERSATION) {
            scopes.put(eventId, scope);
        }
        return s;
    }

    synchronized long lastClamp() {
        return lastClampForStart;
    }

    /**
     * The upstream announced a response. One the relay asked for takes its place; one the upstream
     * started by itself (server VAD) is reserved now. Returns true when the response may produce
     * more than the budget allows and must be cancelled: the upstream started it before it saw the
     * latest clamp.
     */
    synchronized boolean responseCreated(String responseId, long maxOutputTokens) {
        Pending p = pending.poll();
        if (p != null) {
            active.put(responseId, p.reserveNanoUsd());
            return maxOutputTokens > lastClampForStart;
        }
        long allowed = clamp();
        active.put(responseId, budget.responseStarted(Math.min(Math.max(allowed, 0), maxOutputTokens)));
        return maxOutputTokens > allowed;
    }

    /**
     * {@link #responseCreated(String, long)}, told whether the response resource says it joins no
     * conversation; the scope its {@code response.create} asked for follows it otherwise.
     */
    synchronized boolean responseCreated(String responseId, long maxOutputTokens, boolean outOfBand) {
        Pending p = pending.peek();
        ResponseBudget.Scope scope = p == null ? null : scopes.remove(p.eventId());
        if (outOfBand) {
            scope = ResponseBudget.Scope.OUT_OF_BAND;
        }
        if (scope != null) {
            scopes.put(responseId, scope);
        }
        return responseCreated(responseId, maxOutputTokens);
    }

    /** The upstream refused the client event with this id: a pending response never started. */
    synchronized void createFailed(String eventId) {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.eventId().equals(eventId)) {
                it.remove();
                scopes.remove(eventId);
                budget.responseFinished(p.reserveNanoUsd());
                notifyIfIdle();
                return;
            }
        }
    }

    /**
     * A response ended ({@code response.done}): its reservation is released and its usage (null
     * when it carried none) charged. Returns the charge, or null when nothing was charged. Waiters
     * for idleness hear of it only through {@link #settled()}.
     */
    CostGuard.Usage responseDone(String responseId, TokenUsage usage, long nowMillis) {
        synchronized (this) {
            Long reserve = active.remove(responseId);
            ResponseBudget.Scope scope = scopes.remove(responseId);
            if (reserve == null) {
                Pending p = pending.poll();
                reserve = p == null ? 0L : p.reserveNanoUsd();
                if (p != null && scope == null) {
                    scope = scopes.remove(p.eventId());
                }
            }
            budget.responseFinished(reserve);
            if (usage != null) {
                budget.reported(usage, scope == null ? ResponseBudget.Scope.CONVERSATION : scope);
            }
            // still in flight for whoever waits: its charge and the client's usage update are to come
            settling++;
        }
        return usage == null ? null : charge(usage, nowMillis);
    }

    /**
     * Tells whoever waits for the session to be idle (an ending session) that no response is in
     * flight any more; called after a charge's messages to the client went out.
     */
    synchronized void settled() {
        settling = Math.max(0, settling - 1);
        notifyIfIdle();
    }

    /** Charges a transcription's usage, priced by the transcription model when the session named one. */
    CostGuard.Usage chargeTranscription(TokenUsage usage, long nowMillis) {
        String named;
        synchronized (this) {
            named = transcriptionModel;
        }
        return applied(guard.report(sessionId, model, named, usage, nowMillis));
    }

    private CostGuard.Usage charge(TokenUsage usage, long nowMillis) {
        return applied(guard.report(sessionId, model, null, usage, nowMillis));
    }

    CostGuard.Usage chargeToolFee(String tool, long nowMillis) {
        return applied(guard.chargeToolFee(sessionId, tool, nowMillis));
    }

    private CostGuard.Usage applied(CostGuard.Usage u) {
        if (u == null || u.ledger() == null || !u.applied()) {
            return null;
        }
        synchronized (this) {
            if (u.ledger().costNanoUsd() >= ledger.costNanoUsd()) {
                ledger = u.ledger();
            }
        }
        return u;
    }

    /** Responses and transcriptions whose usage is still to be charged. */
    synchronized int inFlight() {
        return pending.size() + active.size() + settling + transcriptions.size();
    }

    /** Completes when nothing is in flight ({@link #inFlight()}). */
    synchronized CompletableFuture<Void> idle() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (inFlight() == 0) {
            f.complete(null);
        } else {
            idleWaiters.add(f);
        }
        return f;
    }

    private void notifyIfIdle() {
        if (inFlight() == 0 && !idleWaiters.isEmpty()) {
            List<CompletableFuture<Void>> waiters = List.copyOf(idleWaiters);
            idleWaiters.clear();
            waiters.forEach(w -> w.complete(null));
        }
    }

    synchronized long audioCharsPerToken() {
        return budget.audioCharsPerToken();
    }
}
