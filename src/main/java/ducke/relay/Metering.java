package ducke.relay;

import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.PriceTable;
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

    /**
     * A response asked for but not announced yet, what it reserved of the session's budget, and the
     * grid reservation (client hour, breaker window) it started on (null: none).
     */
    private record Pending(String eventId, long reserveNanoUsd, String holdId, long holdNanoUsd, boolean holdPartial) {
    }

    /** A response in progress: the same, once the upstream named it. */
    private record InFlight(long reserveNanoUsd, String holdId) {
    }

    /** How long a grid reservation outlives the session's duration cap before it lapses by itself. */
    static final long HOLD_GRACE_MILLIS = 60_000;

    private final CostGuard guard;
    private final String sessionId;
    private final int maxInFlight;
    private final ResponseBudget budget;
    /** The prices {@link #budget} was last set to. */
    private PriceTable pricedBy;
    private final Deque<Pending> pending = new ArrayDeque<>();
    private final Map<String, InFlight> active = new LinkedHashMap<>();
    /**
     * Responses that do not read the conversation or do not join it ({@link ResponseBudget.Scope}),
     * by event id while pending and by response id once announced; the others read and join it.
     */
    private final Map<String, ResponseBudget.Scope> scopes = new HashMap<>();
    private final String clientId;
    private final long holdExpiresAtMillis;
    /**
     * The grid reservation the next response starts on — the standing reservation that pays for a
     * response the upstream starts by itself (server VAD) — and its amount; null while none is held.
     */
    private String standing;
    private long standingNanoUsd;
    private long holdSeq;
    /** Why the last reservation was refused (the session ends for it); null when none was. */
    private EndReason holdRefusal;
    /** A raise of the standing reservation is under way. */
    private boolean raising;
    /** The standing reservation took less than asked: the clamp stays within it, no raise is asked. */
    private boolean standingPartial;
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
    /**
     * Committed audio items whose transcription, billed by the provider, is still to come, with what
     * transcribing the audio committed may cost (charged, estimated, if the completion never comes).
     */
    private final Map<String, Long> transcriptions = new LinkedHashMap<>();
    /**
     * Responses charged their reservation because their usage had not arrived: a {@code response.done}
     * that still comes for one is not charged again. Bounded: the oldest are forgotten.
     */
    private final Set<String> estimated = new LinkedHashSet<>();
    static final int MAX_ESTIMATED_REMEMBERED = 256;
    /** More are not remembered: a provider that never completes them does not hold a session's end longer. */
    static final int MAX_TRANSCRIPTIONS_AWAITED = 64;
    /** Responses and transcriptions whose usage arrived but whose charge is not through yet. */
    private int settling;

    Metering(CostGuard guard, SessionLedger ledger, int maxInFlight, ResponseBudget budget) {
        this.guard = guard;
        this.ledger = ledger;
        this.sessionId = ledger.sessionId();
        this.clientId = ledger.clientId();
        this.holdExpiresAtMillis = ledger.expiresAtMillis() + HOLD_GRACE_MILLIS;
        this.maxInFlight = maxInFlight;
        this.budget = budget;
    }

    /**
     * The budget, at the current prices: a new version of the cluster's settings reprices the
     * session's next reservations and clamps (what it reserved already stays). Called under this lock.
     */
    private ResponseBudget budget() {
        PriceTable now = guard.prices();
        if (now != pricedBy) {
            if (pricedBy != null) {
                budget.reprice(now.match(ledger.model()).price());
            }
            pricedBy = now;
        }
        return budget;
    }

    synchronized SessionLedger ledger() {
        return ledger;
    }

    /** The cap last set in the grid while this session runs (0: none); a charge answered with an older one keeps it. */
    private long capSetNanoUsd;

    /** The session's cap was set in the grid ({@code PATCH /v1/sessions/{id}}): budgets and clamps follow it from now on. */
    synchronized void capChanged(long capNanoUsd) {
        capSetNanoUsd = capNanoUsd;
        ledger = ducke.core.cost.SessionRules.capped(ledger, capNanoUsd);
    }

    /**
     * What the next response may cost, for its clamp: the session's remaining budget, and no more
     * than the standing reservation took (less when the client's hour or the breaker's window had
     * less room than the response's worst case) plus what responses in flight reserved.
     */
    private long remainingForClamp() {
        long session = remaining();
        return standing == null ? session : Math.min(session, Math.addExact(standingNanoUsd, budget().inFlightReserveNanoUsd()));
    }

    /** The session's remaining budget for its ordinary responses: the goodbye's worst case is set aside. */
    private long remaining() {
        return ledger.remainingBudgetNanoUsd() - goodbyeReserveNanoUsd();
    }

    // ---- the spoken goodbye (Goodbye) ----

    /** Output tokens set aside for the goodbye, and its instructions' bytes; 0 tokens: none (or spent). */
    private long goodbyeTokens;
    private long goodbyeTextBytes;

    /** Sets aside, out of the session's budget, what a goodbye of this many output tokens may cost. */
    synchronized void setAsideGoodbye(long outputTokens, long instructionBytes) {
        goodbyeTokens = Math.max(0, outputTokens);
        goodbyeTextBytes = Math.max(0, instructionBytes);
        // what the next response writes, the goodbye reads: the clamp keeps room for it
        budget().outputReadAgain(goodbyeTokens > 0);
    }

    /**
     * The goodbye's worst case: the next response's estimated input and the instructions, and the
     * reserved output at the dearest output rate. Called under this lock.
     */
    private long goodbyeReserveNanoUsd() {
        if (goodbyeTokens == 0) {
            return 0;
        }
        return Math.addExact(budget().worstCaseNanoUsd(goodbyeTokens, 0), budget().textCostNanoUsd(goodbyeTextBytes));
    }

    /**
     * Spends the set-aside: from now on the whole remaining budget is the goodbye's. Returns the most
     * output tokens it may have (its instructions counted as input, within what is set aside), 0 when
     * it cannot pay one, or none was set aside.
     */
    synchronized long goodbyeLimit() {
        long tokens = goodbyeTokens;
        goodbyeTokens = 0;
        budget().outputReadAgain(false);
        if (tokens == 0) {
            return 0;
        }
        budget().textAdded(goodbyeTextBytes);
        return Math.min(tokens, budget().maxOutputTokens(ledger.remainingBudgetNanoUsd()));
    }

    /**
     * Takes the goodbye's own grid reservation (client hour, breaker window), for its worst case at
     * this output limit, and counts it in flight as a response asked for with this event id. False
     * when the reservation is refused: no goodbye. Blocks for the grid.
     */
    boolean startGoodbye(String eventId, long maxOutputTokens, long nowMillis) {
        long worst;
        synchronized (this) {
            worst = budget().worstCaseNanoUsd(maxOutputTokens, 0);
        }
        String id = sessionId + "/goodbye";
        CostGuard.Grant g = guard.reserve(clientId, id, worst, worst, Math.max(holdExpiresAtMillis, nowMillis + HOLD_GRACE_MILLIS),
                nowMillis);
        if (!g.taken()) {
            return false;
        }
        synchronized (this) {
            lastClampForStart = maxOutputTokens;
            pending.add(new Pending(eventId, budget().responseStarted(maxOutputTokens), id, g.amountNanoUsd(), false));
        }
        return true;
    }

    /** Whether the next response the upstream announces takes the place of the one asked for with this event id. */
    synchronized boolean nextAnnouncedIs(String eventId) {
        Pending p = pending.peek();
        return p != null && p.eventId().equals(eventId);
    }

    /** The most output tokens a response may produce now, the client's own limit included. */
    synchronized long clamp() {
        return Math.min(budget().maxOutputTokens(remainingForClamp()), clientMaxOutput);
    }

    /** Whether the next response can still start: its estimated input and one output token. */
    synchronized boolean canAffordNext() {
        return budget().canAffordNext(remaining());
    }

    /**
     * The clamp to set on the upstream session, when it differs from the one last set; null when
     * nothing needs to be sent. It is set {@link #CLAMP_HEADROOM_AUDIO_CHARS} of audio ahead of what
     * was appended, so that audio still streaming in does not at once make it too high.
     */
    synchronized Long sessionClampUpdate() {
        long c = Math.max(1, Math.min(budget().maxOutputTokens(remainingForClamp(), CLAMP_HEADROOM_AUDIO_CHARS), clientMaxOutput));
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
        budget().audioAppended(base64Chars);
    }

    /** The session's input audio format, as the base64 characters per token it carries. */
    synchronized void audioFormat(long physicalCharsPerToken) {
        budget().audioFormat(physicalCharsPerToken);
    }

    synchronized void textAdded(long utf8Bytes) {
        budget().textAdded(utf8Bytes);
    }

    /** The session transcribes its input audio with this model, priced at this input rate. */
    synchronized void transcribing(String transcriptionModel, long inputRate) {
        this.transcriptionModel = transcriptionModel;
        budget().transcribing(inputRate);
    }

    /** The client turned transcription of its input audio on or off ({@code session.update}). */
    synchronized void transcribes(boolean on) {
        transcribes = on;
    }

    /** The upstream committed an input audio item: its transcription is to come when the session transcribes. */
    synchronized void audioCommitted(String itemId) {
        if (transcribes && !itemId.isEmpty() && transcriptions.size() < MAX_TRANSCRIPTIONS_AWAITED) {
            transcriptions.put(itemId, budget().pendingTranscriptionCostNanoUsd());
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
        if (transcriptions.remove(itemId) != null) {
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
        budget().repeatedItemReferences(count);
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
        if (clamp < 1 || !budget().canAffordNext(remaining())) {
            return Start.UNAFFORDABLE;
        }
        if (standing == null) {
            // the standing reservation is out (another response holds it, or it was refused and the
            // session ends): nothing may start without one
            return Start.ACTIVE_RESPONSE;
        }
        lastClampForStart = clamp;
        long held = standingNanoUsd;
        boolean partial = standingPartial;
        pending.add(new Pending(eventId, budget().responseStarted(clamp), takeStanding(), held, partial));
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
            active.put(responseId, new InFlight(p.reserveNanoUsd(), p.holdId()));
            return maxOutputTokens > lastClampForStart;
        }
        long allowed = clamp();
        // started by the upstream itself: paid for by the standing reservation
        String hold = takeStanding();
        active.put(responseId, new InFlight(budget().responseStarted(Math.min(Math.max(allowed, 0), maxOutputTokens)), hold));
        return maxOutputTokens > allowed || hold == null;
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
                budget().responseFinished(p.reserveNanoUsd());
                if (standing == null && p.holdId() != null) {
                    // never used: it stands again
                    standing = p.holdId();
                    standingNanoUsd = p.holdNanoUsd();
                    standingPartial = p.holdPartial();
                } else if (p.holdId() != null) {
                    orphanHolds.add(p.holdId());
                }
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
        long reserve;
        String hold;
        synchronized (this) {
            // still in flight for whoever waits: its charge and the client's usage update are to come
            settling++;
            if (estimated.contains(responseId)) {
                return null; // charged its reservation already, when the session ended without it
            }
            InFlight r = active.remove(responseId);
            ResponseBudget.Scope scope = scopes.remove(responseId);
            if (r == null && responseId.isEmpty() && pending.isEmpty() && !active.isEmpty()) {
                // a report without an id: the oldest response in flight
                Iterator<Map.Entry<String, InFlight>> oldest = active.entrySet().iterator();
                r = oldest.next().getValue();
                oldest.remove();
            }
            if (r == null) {
                Pending p = pending.poll();
                r = p == null ? new InFlight(0, null) : new InFlight(p.reserveNanoUsd(), p.holdId());
                if (p != null && scope == null) {
                    scope = scopes.remove(p.eventId());
                }
            }
            reserve = r.reserveNanoUsd();
            hold = r.holdId();
            budget().responseFinished(reserve);
            if (usage != null) {
                budget().reported(usage, scope == null ? ResponseBudget.Scope.CONVERSATION : scope);
            }
        }
        if (usage == null) {
            // the provider billed a response whose usage cannot be read: never under, charge what was reserved
            return reserve > 0 ? estimate(responseId.isEmpty() ? "response:unknown" : responseId, reserve, hold, nowMillis) : null;
        }
        return applied(guard.settle(ledger(), null, usage, responseId.isEmpty() ? null : responseId, hold, nowMillis));
    }

    /**
     * Charges every response and transcription still awaited at what was reserved for it, marked
     * estimated: the session ends without their usage (the upstream failed or closed, or the wait
     * for it ran out). Returns how many were charged; a {@code response.done} arriving later for
     * one of them is not charged again.
     */
    int chargeOutstanding(long nowMillis) {
        Map<String, InFlight> owed = new LinkedHashMap<>();
        synchronized (this) {
            int n = 0;
            for (Pending p : pending) {
                owed.put("pending:" + (p.eventId().isEmpty() ? String.valueOf(++n) : p.eventId()),
                        new InFlight(p.reserveNanoUsd(), p.holdId()));
                budget().responseFinished(p.reserveNanoUsd());
            }
            pending.clear();
            active.forEach((id, r) -> {
                owed.put(id, r);
                budget().responseFinished(r.reserveNanoUsd());
                remember(id);
            });
            active.clear();
            transcriptions.forEach((item, cost) -> owed.put("transcription:" + item, new InFlight(cost, null)));
            transcriptions.clear();
            scopes.clear();
            notifyIfIdle();
        }
        int charged = 0;
        for (Map.Entry<String, InFlight> e : owed.entrySet()) {
            InFlight r = e.getValue();
            if (r.reserveNanoUsd() > 0 && estimate(e.getKey(), r.reserveNanoUsd(), r.holdId(), nowMillis) != null) {
                charged++;
            } else if (r.holdId() != null) {
                synchronized (this) {
                    orphanHolds.add(r.holdId());
                }
            }
        }
        return charged;
    }

    // ---- grid reservations: the client's hour and the breaker's window ----

    /** Grid reservations no charge will settle (a response refused upstream): given back at the end. */
    private final Set<String> orphanHolds = new LinkedHashSet<>();

    /** Hands the standing reservation to a response that starts now; null when none is held. */
    private String takeStanding() {
        String h = standing;
        standing = null;
        standingNanoUsd = 0;
        return h;
    }

    /**
     * Takes a new standing reservation, sized for the next response at the session clamp with the
     * audio headroom, when none is held. Blocks for the grid. Returns null when one is held now, or
     * why the session must end: the client's hour ({@code client_budget_exceeded}) or the
     * breaker's window ({@code circuit_breaker}) cannot take it.
     */
    EndReason reserveStanding(long nowMillis) {
        String id;
        long least;
        long most;
        synchronized (this) {
            if (standing != null) {
                return null;
            }
            id = sessionId + "/" + (++holdSeq);
            most = standingWorstCase();
            least = Math.min(most, budget().leastNanoUsd());
        }
        return take(id, least, most, nowMillis, false);
    }

    /**
     * The amount the standing reservation must be raised to, when what was appended since has made
     * the next response's worst case larger than it holds (sized with another headroom, so that
     * raises come once per headroom of audio); null when it still holds, or a raise is under way.
     */
    synchronized Long standingShortfall() {
        if (standing == null || raising) {
            return null;
        }
        // the clamp the session's own budget allows no longer fits what is held: ask for more, once per reservation that got
        // all it asked for (one that got less — the client's hour or the breaker's window is nearly
        // full — is not asked again: the clamp shrinks within it instead)
        long wanted = Math.max(1, Math.min(budget().maxOutputTokens(remaining()), clientMaxOutput));
        if (standingPartial || budget().worstCaseNanoUsd(wanted, 0) <= standingNanoUsd) {
            return null;
        }
        raising = true;
        return standingWorstCase();
    }

    /** Raises the standing reservation toward {@code amount}; see {@link #reserveStanding} for the answer. */
    EndReason raiseStanding(long amount, long nowMillis) {
        String id;
        long least;
        synchronized (this) {
            id = standing;
            if (id == null) {
                raising = false;
                return null;
            }
            least = budget().leastNanoUsd();
        }
        return take(id, least, Math.max(least, amount), nowMillis, true);
    }

    private EndReason take(String id, long leastNanoUsd, long mostNanoUsd, long nowMillis, boolean raise) {
        CostGuard.Grant g;
        try {
            g = guard.reserve(clientId, id, leastNanoUsd, mostNanoUsd, holdExpiresAtMillis, nowMillis);
        } finally {
            synchronized (this) {
                raising = raise ? false : raising;
            }
        }
        synchronized (this) {
            CostGuard.Hold h = g.hold();
            if (h == CostGuard.Hold.TAKEN) {
                if (raise && !id.equals(standing)) {
                    return null; // taken by a response meanwhile, which now holds the larger amount
                }
                standing = id;
                standingNanoUsd = g.amountNanoUsd();
                standingPartial = g.amountNanoUsd() < mostNanoUsd;
                holdRefusal = null; // a session paused for a refusal goes on: its next refusal names its own reason
                return null;
            }
            if (raise && id.equals(standing)) {
                standing = null; // refused: given back whole
                standingNanoUsd = 0;
            }
            holdRefusal = h == CostGuard.Hold.CLIENT_BUDGET ? EndReason.CLIENT_BUDGET_EXCEEDED : EndReason.CIRCUIT_BREAKER;
            return holdRefusal;
        }
    }

    /** Why a reservation was refused, or null: the reason a session ends when it cannot start a response. */
    synchronized EndReason holdRefusal() {
        return holdRefusal;
    }

    /** What the standing reservation holds: the next response's worst case at the session clamp, audio headroom included. */
    private long standingWorstCase() {
        // the clamp the session is about to get (sessionClampUpdate), or the one it has if that is higher
        long clamp = Math.max(1, Math.min(budget().maxOutputTokens(remaining(), CLAMP_HEADROOM_AUDIO_CHARS), clientMaxOutput));
        return budget().worstCaseNanoUsd(Math.max(clamp, sessionClamp), CLAMP_HEADROOM_AUDIO_CHARS);
    }

    /**
     * Gives back every grid reservation no charge will settle: the standing one and those of
     * responses that never started. Best effort: what cannot be given back lapses by itself.
     */
    void releaseHolds(long nowMillis) {
        java.util.List<String> ids = new ArrayList<>();
        synchronized (this) {
            if (standing != null) {
                ids.add(takeStanding());
            }
            ids.addAll(orphanHolds);
            orphanHolds.clear();
        }
        for (String id : ids) {
            guard.release(clientId, id, nowMillis);
        }
    }

    private void remember(String responseId) {
        estimated.add(responseId);
        if (estimated.size() > MAX_ESTIMATED_REMEMBERED) {
            Iterator<String> oldest = estimated.iterator();
            oldest.next();
            oldest.remove();
        }
    }

    private CostGuard.Usage estimate(String chargeKey, long costNanoUsd, String holdId, long nowMillis) {
        return applied(guard.settleEstimate(ledger(), chargeKey, costNanoUsd, holdId, nowMillis));
    }

    /**
     * Tells whoever waits for the session to be idle (an ending session) that no response is in
     * flight any more; called after a charge's messages to the client went out.
     */
    synchronized void settled() {
        settling = Math.max(0, settling - 1);
        notifyIfIdle();
    }

    /**
     * Charges a transcription's usage, priced by the transcription model when the session named one,
     * keyed by its item ({@code transcription:<item id>}) so that it is charged once.
     */
    CostGuard.Usage chargeTranscription(String itemId, TokenUsage usage, long nowMillis) {
        String named;
        synchronized (this) {
            named = transcriptionModel;
        }
        return applied(guard.report(ledger(), named, usage, itemId.isEmpty() ? null : "transcription:" + itemId, nowMillis));
    }

    CostGuard.Usage chargeToolFee(String tool, long nowMillis) {
        return applied(guard.chargeToolFee(ledger(), tool, nowMillis));
    }

    private CostGuard.Usage applied(CostGuard.Usage u) {
        if (u == null || u.ledger() == null || !u.applied()) {
            return null;
        }
        synchronized (this) {
            if (u.ledger().costNanoUsd() >= ledger.costNanoUsd()) {
                // a charge the grid applied before a cap was set, answered after this node heard of the cap
                ledger = capSetNanoUsd > 0 ? ducke.core.cost.SessionRules.capped(u.ledger(), capSetNanoUsd) : u.ledger();
            }
        }
        return u;
    }

    /** Responses and transcriptions whose usage is still to be charged. */
    /** The output limit last set on the upstream session; -1 before the first. */
    synchronized long currentSessionClamp() {
        return sessionClamp;
    }

    /** The ids of the responses in progress (announced by the upstream, not charged yet). */
    synchronized List<String> activeResponseIds() {
        return List.copyOf(active.keySet());
    }

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
        return budget().audioCharsPerToken();
    }
}
