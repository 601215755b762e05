package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;
import ducke.core.ratelimit.RateLimitSettings;
import ducke.core.settings.LiveSettings;
import ducke.core.settings.Settings;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Cost protection as one service: opening sessions through the gates ({@link Admission}), charging
 * usage to the session, the cluster's spend and breaker, and the client's hourly spend
 * ({@link Charges}), ending sessions. Every end path goes through {@link SessionEnds}, which frees
 * the client's slot and reports the session once. Thread-safe; all state lives in the stores.
 *
 * <p>Without a quorum ({@link ClusterHealth}) new sessions are refused, and charges and relay
 * ends are kept in a local {@link ChargeJournal} until {@link #replayJournal} can apply them:
 * money that was spent is never dropped, and never counted twice ({@link ChargeId}).
 */
public final class CostGuard {

    public static final String WARNING_BUDGET = "Session budget limit exceeded";
    public static final String WARNING_DURATION = "Session duration limit exceeded";
    public static final String WARNING_BREAKER = "System-wide circuit breaker is active";
    public static final String WARNING_HOURLY = "Hourly cost limit exceeded";

    /** Why a new session was refused. */
    public enum Refusal { CIRCUIT_BREAKER_OPEN, HOURLY_LIMIT, CLIENT_BUDGET, CONCURRENT_LIMIT, CLUSTER_DEGRADED }

    /**
     * A session start: either the new ledger, or the refusal and how long to wait (0 = no sensible
     * wait), with the cluster's and the client's spend as the gates saw them. For the concurrent
     * limit the wait is until the client's first session reaches its duration cap, the latest moment
     * a slot frees by itself.
     */
    public record Start(SessionLedger ledger, Refusal refusal, long retryAfterMillis, SpendLedger.Snapshot spend,
                        ClientSpend.Snapshot clientSpend, ClientBudgets.View budget) {
        public Start(SessionLedger ledger, Refusal refusal, long retryAfterMillis, SpendLedger.Snapshot spend,
                     ClientSpend.Snapshot clientSpend) {
            this(ledger, refusal, retryAfterMillis, spend, clientSpend, null);
        }

        /** Refused by a day or month budget (or the day's session time): its window; null otherwise. */
        public BudgetWindow budgetWindow() {
            return budget == null || budget.refusal() == null ? null : budget.refusal().window();
        }

        public boolean started() {
            return ledger != null;
        }
    }

    /**
     * The answer to a usage report. {@code ledger} is null when the session is unknown, or when the
     * report was journaled ({@code journalSeq > 0}) to be applied once the quorum is back; otherwise
     * the charge was recorded ({@code applied}). {@code afterEnd}: the session had already ended,
     * so the charge was only recorded (ledger, spend, breaker, metrics, audit row), nothing ended.
     * {@code key}: for a keyed report, whether its key had been charged (or journaled) before; if
     * so, nothing was charged now ({@link #repeated()}), and {@code priced} is what the report costs.
     */
    public record Usage(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean budgetOk, boolean warningNow,
                        EndReason endedNow, SpendLedger.Snapshot spend, List<String> warnings, PriceTable.Priced priced,
                        boolean afterEnd, long journalSeq, ChargeKeys.Seen key) {

        public Usage {
            key = key == null ? ChargeKeys.Seen.NEW : key;
        }

        public Usage(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean budgetOk, boolean warningNow,
                     EndReason endedNow, SpendLedger.Snapshot spend, List<String> warnings, PriceTable.Priced priced,
                     boolean afterEnd, long journalSeq) {
            this(ledger, applied, callCostNanoUsd, budgetOk, warningNow, endedNow, spend, warnings, priced, afterEnd,
                    journalSeq, ChargeKeys.Seen.NEW);
        }

        public Usage(SessionLedger ledger, boolean applied, long callCostNanoUsd, boolean budgetOk, boolean warningNow,
                     EndReason endedNow, SpendLedger.Snapshot spend, List<String> warnings, PriceTable.Priced priced,
                     boolean afterEnd) {
            this(ledger, applied, callCostNanoUsd, budgetOk, warningNow, endedNow, spend, warnings, priced, afterEnd, 0);
        }

        public boolean journaled() {
            return journalSeq > 0;
        }

        /** The report's key was charged (or journaled) before: this one charged nothing. */
        public boolean repeated() {
            return key != ChargeKeys.Seen.NEW;
        }

        /** ... and for a different report: the key was reused. */
        public boolean conflicting() {
            return key == ChargeKeys.Seen.OTHER_REPORT;
        }
    }

    /** How a reservation ended: taken, or refused by the client's hour or by the breaker's window. */
    public enum Hold { TAKEN, CLIENT_BUDGET, CIRCUIT_BREAKER }

    /** A reservation's answer and, when taken, the amount held (between the least and the most asked). */
    public record Grant(Hold hold, long amountNanoUsd) {
        public boolean taken() {
            return hold == Hold.TAKEN;
        }
    }

    /** Entries a journal holds by default. */
    public static final int DEFAULT_JOURNAL_CAPACITY = 10_000;

    private final CostParts parts;
    private final SessionEnds ends;
    private final Admission admission;
    private final Charges charges;
    private final JournalReplay replay;
    /** Whether the cluster's spend state is complete ({@link StateRebuild}): until then nothing is admitted or replayed. */
    private volatile java.util.function.BooleanSupplier ready = () -> true;

    private volatile SessionCaps caps = SessionCaps.NONE;

    /** A guard that always has a quorum (a node on its own), with a journal of the default size. */
    public CostGuard(PriceTable prices, CostLimits limits, SessionStore sessions, SpendStore spend, SpendView view,
                     BreakerBroadcast broadcast, CostObserver observer, String nodeName, Supplier<String> ids) {
        this(prices, limits, sessions, spend, view, broadcast, observer, nodeName, ids, ClusterHealth.alone(),
                new ChargeJournal(DEFAULT_JOURNAL_CAPACITY), newWriter(nodeName));
    }

    /**
     * @param health  whether this node's part of the cluster has a quorum
     * @param journal where charges wait while it has none
     * @param writer  this process's writer id ({@link ChargeId}); unique to this process
     */
    public CostGuard(PriceTable prices, CostLimits limits, SessionStore sessions, SpendStore spend, SpendView view,
                     BreakerBroadcast broadcast, CostObserver observer, String nodeName, Supplier<String> ids,
                     ClusterHealth health, ChargeJournal journal, String writer) {
        this(new LiveSettings(new Settings(1, prices, limits, new RateLimitSettings(java.util.Map.of(), false, true),
                32, 64)), sessions, spend, view, broadcast, observer, nodeName, ids, health, journal, writer);
    }

    /**
     * @param settings the cluster's settings, read once per operation: a newer version prices the
     *                 next charge and caps the next session; a live session keeps its cap
     */
    public CostGuard(LiveSettings settings, SessionStore sessions, SpendStore spend, SpendView view,
                     BreakerBroadcast broadcast, CostObserver observer, String nodeName, Supplier<String> ids,
                     ClusterHealth health, ChargeJournal journal, String writer) {
        ClientBudgets budgets = new ClientBudgets();
        this.parts = new CostParts(settings, sessions, spend, view, broadcast, observer, health, journal, writer, budgets);
        this.ends = new SessionEnds(sessions, observer, budgets);
        this.admission = new Admission(settings, sessions, spend, view, observer, nodeName, ids, health, this::ready, budgets);
        this.charges = new Charges(parts, ends);
        this.replay = new JournalReplay(this, journal, observer);
    }

    /**
     * Moves every live session of the cluster from the session cap {@code oldCapNanoUsd} to
     * {@code newCapNanoUsd} ({@link SessionRules#recapped}); the operator asked for it, a new
     * version of the settings alone leaves live sessions' caps as they are.
     *
     * @return how many sessions' caps changed
     */
    public int recapLive(long oldCapNanoUsd, long newCapNanoUsd) {
        return parts.sessions().recapLive(oldCapNanoUsd, newCapNanoUsd);
    }

    /**
     * Admits no session and applies no journaled charge until {@code ready} says so (new sessions
     * are refused as without a quorum); set once while wiring, before the node serves.
     */
    public void admitWhen(java.util.function.BooleanSupplier ready) {
        this.ready = ready;
    }

    /** Whether the cluster's spend state is complete, so that this node may admit sessions. */
    public boolean ready() {
        return ready.getAsBoolean();
    }

    /** Who hears of every session this node ends; set once while wiring. */
    public void announceEndingsTo(SessionEndings endings) {
        ends.announceTo(endings);
    }

    public CostLimits limits() {
        return parts.limits();
    }

    public PriceTable prices() {
        return parts.prices();
    }

    public SpendView view() {
        return parts.view();
    }

    /** Who is told about charges, refusals and ends (metrics, audit). */
    public CostObserver observer() {
        return parts.observer();
    }

    public ClusterHealth health() {
        return parts.health();
    }

    public ChargeJournal journal() {
        return parts.journal();
    }

    /** This process's writer id ({@link ChargeId}). */
    public String writer() {
        return parts.writer();
    }

    /** A writer id for one process of {@code nodeName}: the name and 64 random bits. */
    public static String newWriter(String nodeName) {
        return nodeName + "/" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    /**
     * Opens a session unless the breaker is open, the hourly spend is at its cap, the client's own
     * hourly spend is at its cap, or the client already holds its maximum of concurrent sessions.
     *
     * @param holder grid member that will hold the live connection, or "" for API sessions
     */
    public Start start(String clientId, String model, String holder, long nowMillis) {
        return start(clientId, model, holder, parts.limits().maxSessionCostNanoUsd(), nowMillis);
    }

    /** The same, with a budget of its own for the session (never above the configured cap). */
    public Start start(String clientId, String model, String holder, long maxCostNanoUsd, long nowMillis) {
        Start s = reserve(clientId, model, holder, maxCostNanoUsd, nowMillis);
        if (s.started()) {
            open(s.ledger());
        }
        return s;
    }

    /**
     * Passes the gates and takes the client's slot for a session that does not exist yet: the
     * returned ledger is only prospective until {@link #open} stores it, or {@link #release} gives
     * the slot back (a WebSocket handshake whose upgrade did not complete leaves nothing behind).
     */
    public Start reserve(String clientId, String model, String holder, long maxCostNanoUsd, long nowMillis) {
        return reserve(clientId, model, holder, maxCostNanoUsd, 0, nowMillis);
    }

    /**
     * The same for a session whose first response reserves at least {@code firstResponseNanoUsd}
     * (a relayed one: its estimated input and one output token): the client's hour (spend and its
     * live sessions' reservations) or a day or month budget with less room left than that refuses it,
     * rather than admitting a session that ends before its first response.
     */
    public Start reserve(String clientId, String model, String holder, long maxCostNanoUsd, long firstResponseNanoUsd,
                         long nowMillis) {
        return admission.reserve(clientId, model, holder, maxCostNanoUsd, firstResponseNanoUsd, nowMillis);
    }

    /** Stores a reserved session's ledger: from now on it is live, charged and audited. */
    public void open(SessionLedger reserved) {
        admission.open(reserved);
    }

    /** Gives back the slot of a reserved session that was never opened. */
    public void release(SessionLedger reserved, long nowMillis) {
        admission.release(reserved, nowMillis);
    }

    /**
     * Prices one usage report by the model it names (the session's model when it names none) and
     * charges it to the session, the cluster's spend and the client's spend. A session that has
     * ended (and is still retained) is charged too, record-only: see {@link Usage#afterEnd()}.
     * Without a quorum the report is journaled (priced when applied) unless the journal is full.
     */
    public Usage report(String sessionId, String model, TokenUsage usage, long nowMillis) {
        return report(sessionId, model, usage, null, nowMillis);
    }

    /**
     * The same, keyed: a report whose {@code chargeKey} the session has been charged (or this
     * node's journal holds) already charges nothing and says so ({@link Usage#repeated()},
     * {@link Usage#conflicting()}), on whichever node it arrives, also after a partition heals.
     *
     * @param chargeKey unique within the session (see {@link ChargeKey}); null: unkeyed
     */
    public Usage report(String sessionId, String model, TokenUsage usage, String chargeKey, long nowMillis) {
        return charges.report(sessionId, model, usage, chargeKey, nowMillis);
    }

    /**
     * The same, for callers that already know the session's model (the relay): no grid read first.
     * Also for responses and transcriptions that complete after the session ended: they are
     * recorded, never dropped.
     *
     * @param reportedModel the model the report names; null or blank: the session's model
     */
    public Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, long nowMillis) {
        return report(sessionId, sessionModel, reportedModel, usage, null, nowMillis);
    }

    /**
     * The same, keyed: the relay passes a response's id ({@code resp_…}) or
     * {@code transcription:<item id>}, so that a response charged twice (two paths, a retry)
     * counts once; see {@link #report(String, String, TokenUsage, String, long)}.
     *
     * @param chargeKey unique within the session; null: unkeyed
     */
    public Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, String chargeKey,
                        long nowMillis) {
        return charges.report(sessionId, null, sessionModel, reportedModel, usage, chargeKey, null, nowMillis);
    }

    /**
     * The same for the session a caller holds (the relay): a journaled report also keeps the
     * session's client and model, so that it is counted even if the ledger is gone when it is applied.
     */
    public Usage report(SessionLedger session, String reportedModel, TokenUsage usage, long nowMillis) {
        return report(session, reportedModel, usage, null, nowMillis);
    }

    /** The same, keyed ({@code chargeKey}, null: unkeyed). */
    public Usage report(SessionLedger session, String reportedModel, TokenUsage usage, String chargeKey, long nowMillis) {
        return charges.report(session.sessionId(), session.clientId(), session.model(), reportedModel, usage, chargeKey, null,
                nowMillis);
    }

    /** The price of a report: by the model it names, or by the session's model when it names none. */
    PriceTable.Priced price(String sessionModel, String reportedModel, TokenUsage usage) {
        return charges.price(sessionModel, reportedModel, usage);
    }

    /** Charges a fixed tool fee; nothing happens when the tool has no fee. */
    public Usage chargeToolFee(String sessionId, String tool, long nowMillis) {
        return charges.chargeToolFee(sessionId, null, null, tool, nowMillis);
    }

    /** The same for the session a caller holds; see {@link #report(SessionLedger, String, TokenUsage, String, long)}. */
    public Usage chargeToolFee(SessionLedger session, String tool, long nowMillis) {
        return charges.chargeToolFee(session.sessionId(), session.clientId(), session.model(), tool, nowMillis);
    }

    /**
     * Reserves as much as fits of {@code maxNanoUsd}, at least {@code minNanoUsd}, as {@code holdId}
     * (replacing what that id held) against the client's rolling hour, then the breaker's window,
     * until {@code expiresAtMillis}: the worst case of a response that may start (the relay clamps
     * the response to what was taken). Refused by either, nothing stays held; a refusal by the breaker's
     * window opens the breaker (see {@link SpendLedger#reserve}) and tells every node.
     *
     * @throws QuorumLostException without a quorum (nothing held)
     */
    public Grant reserve(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long expiresAtMillis,
                         long nowMillis) {
        if (!parts.health().quorum()) {
            throw new QuorumLostException("No quorum: nothing can be reserved", Math.max(1, parts.health().retryAfterMillis() / 1000));
        }
        long client = parts.spend().reserveClient(clientId, holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, parts.limits());
        if (client <= 0) {
            parts.observer().limitReached("client_hourly");
            return new Grant(Hold.CLIENT_BUDGET, 0);
        }
        long budget = reserveBudget(clientId, holdId, minNanoUsd, client, expiresAtMillis, nowMillis);
        if (budget <= 0) {
            return new Grant(Hold.CLIENT_BUDGET, 0);
        }
        if (budget < client) {
            // the day's or the month's budget took less: the client's hour holds no more than that
            parts.spend().reserveClient(clientId, holdId, budget, budget, nowMillis, expiresAtMillis, parts.limits());
            client = budget;
        }
        SpendLedger.Reserved r;
        try {
            r = parts.spend().reserve(holdId, minNanoUsd, client, nowMillis, expiresAtMillis, parts.limits());
        } catch (RuntimeException e) {
            releaseQuietly(clientId, holdId, nowMillis);
            throw e;
        }
        if (r.ok()) {
            if (r.amountNanoUsd() < client) {
                // the breaker's window took less: the client holds no more than that
                parts.spend().reserveClient(clientId, holdId, r.amountNanoUsd(), r.amountNanoUsd(), nowMillis, expiresAtMillis, parts.limits());
                if (parts.budgets().inUse()) {
                    parts.budgets().reserve(clientId, holdId, r.amountNanoUsd(), r.amountNanoUsd(), expiresAtMillis, nowMillis);
                }
            }
            return new Grant(Hold.TAKEN, r.amountNanoUsd());
        }
        releaseQuietly(clientId, holdId, nowMillis);
        if (r.breakerOpenedNow()) {
            SpendLedger.Snapshot s = refreshSpend(nowMillis);
            parts.observer().limitReached("circuit_breaker");
            parts.observer().breakerChanged(s, "spend");
            parts.broadcast().publish(s);
        }
        return new Grant(Hold.CIRCUIT_BREAKER, 0);
    }

    /** Gives back a reservation that will not be settled by a charge; lapsed or unknown ones are fine. */
    public void release(String clientId, String holdId, long nowMillis) {
        parts.spend().release(holdId, nowMillis, parts.limits());
        parts.spend().releaseClient(clientId, holdId, nowMillis, parts.limits());
        parts.budgets().release(clientId, holdId, nowMillis);
    }

    /**
     * The same reservation against the client's day and month budgets, at most what its hour took;
     * refused: the hour's part is given back and the window that refused is counted.
     */
    private long reserveBudget(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long expiresAtMillis,
                               long nowMillis) {
        long taken;
        try {
            taken = parts.budgets().reserve(clientId, holdId, minNanoUsd, maxNanoUsd, expiresAtMillis, nowMillis);
        } catch (RuntimeException e) {
            releaseQuietly(clientId, holdId, nowMillis);
            throw e;
        }
        if (taken <= 0) {
            releaseQuietly(clientId, holdId, nowMillis);
            parts.observer().limitReached(parts.budgets().refusingWindow(clientId, nowMillis).limit());
        }
        return taken;
    }

    private void releaseQuietly(String clientId, String holdId, long nowMillis) {
        try {
            parts.spend().releaseClient(clientId, holdId, nowMillis, parts.limits());
            parts.budgets().release(clientId, holdId, nowMillis);
        } catch (RuntimeException e) {
            // it lapses at its expiry
        }
    }

    /** The clients' day and month budgets; wired once at start-up ({@link ClientBudgets#use}). */
    public ClientBudgets budgets() {
        return parts.budgets();
    }

    /**
     * {@link #report(SessionLedger, String, TokenUsage, String, long)} that settles the reservation
     * {@code holdId} (null: none) in the same steps as the charge; keyed by {@code chargeKey} (the
     * response id) so that a response is charged once.
     */
    public Usage settle(SessionLedger session, String reportedModel, TokenUsage usage, String chargeKey, String holdId,
                        long nowMillis) {
        return charges.report(session.sessionId(), session.clientId(), session.model(), reportedModel, usage, chargeKey,
                holdId, nowMillis);
    }

    /**
     * Charges a response or transcription whose usage never arrived (the upstream failed or closed,
     * its usage was unreadable, or the wait for it ran out): what was reserved for it, marked
     * estimated (metric, audit), settling the reservation {@code holdId} (null: none). Without a
     * quorum it is journaled like any charge.
     *
     * @param chargeKey the response id, or {@code transcription:<item id>}: charged once
     */
    public Usage settleEstimate(SessionLedger session, String chargeKey, long costNanoUsd, String holdId, long nowMillis) {
        return charges.chargeEstimate(session.sessionId(), session.clientId(), session.model(), chargeKey, costNanoUsd,
                holdId, nowMillis);
    }

    /** See {@link Charges#charge}: for the journal's replay, as {@code id}. */
    Usage charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                 PriceTable.Priced priced, long nowMillis) {
        return charges.charge(sessionId, id, key, costNanoUsd, tokens, priced, nowMillis);
    }

    /** See {@link Charges#replayed}: a journaled entry applied as {@code id}, its audit row keyed {@code auditKey}. */
    Usage replayed(String sessionId, ChargeId id, ChargeKey key, String auditKey, long costNanoUsd, TokenCounts tokens,
                   PriceTable.Priced priced, long nowMillis) {
        return charges.replayed(sessionId, id, key, auditKey, costNanoUsd, tokens, priced, nowMillis);
    }

    /**
     * Journal entries of an earlier process that the cluster's spend counts already (it was rebuilt
     * from the audit store, which holds their charges): when the replay reaches one, it is dropped,
     * not applied again. Set before {@link #admitWhen}'s condition holds.
     */
    public void alreadyCounted(java.util.Set<ChargeId> ids) {
        replay.alreadyCounted(ids);
    }

    /** Adds journaled spend alone as {@code id}: the session part of its charge went through before. */
    void spendOnly(ChargeId id, String clientId, long costNanoUsd, long nowMillis) {
        charges.spendOnly(id, clientId, costNanoUsd, nowMillis);
    }

    /** See {@link Charges#orphan}: a journaled charge whose session is gone, counted all the same. */
    void orphan(ChargeId id, String sessionId, String clientId, long costNanoUsd, TokenCounts tokens,
                PriceTable.Priced priced, String sessionModel, long atMillis) {
        charges.orphan(id, sessionId, clientId, costNanoUsd, tokens, priced, sessionModel, atMillis);
    }

    /**
     * Ends a session; empty when it is unknown. Ending an ended session changes nothing.
     *
     * @throws QuorumLostException without a quorum; nothing was ended
     */
    public Optional<SessionStore.Ended> end(String sessionId, EndReason reason, long nowMillis) {
        return ends.end(sessionId, reason, nowMillis);
    }

    /**
     * Ends a session whose connection this node has closed: without a quorum the end is journaled
     * (empty is returned) and applied, after the charges journaled before it, once the quorum is back.
     */
    public Optional<SessionStore.Ended> endOrJournal(String sessionId, EndReason reason, long nowMillis) {
        try {
            if (parts.health().quorum()) {
                return end(sessionId, reason, nowMillis);
            }
        } catch (QuorumLostException e) {
            // journaled below
        }
        parts.observer().journal(parts.journal().append(seq -> new ChargeJournal.End(new ChargeId(parts.writer(), seq), nowMillis, sessionId, reason)) == null
                ? "refused" : "journaled");
        return Optional.empty();
    }

    /**
     * Applies journaled charges and ends, oldest first, while the quorum holds; each exactly once
     * however often this runs. Call from one background thread.
     *
     * @return how many entries were applied (to their session, or, when it is gone, to the spend alone)
     *         or discarded (the end of a session that is gone)
     */
    public int replayJournal() {
        return replay.run();
    }

    /**
     * Sets a live session's cap, raised or lowered ({@code PATCH /v1/sessions/{id}}); the node
     * holding its connection hears of it ({@link #announceCapsTo}). Empty when the session is
     * unknown; an ended session's ledger is returned as it is.
     *
     * @throws QuorumLostException without a quorum; nothing was changed
     */
    public Optional<SessionLedger> setCap(String sessionId, long capNanoUsd) {
        Optional<SessionLedger> after = parts.sessions().setCap(sessionId, capNanoUsd);
        after.filter(l -> l.active() && !l.holder().isEmpty()).ifPresent(caps::changed);
        return after;
    }

    /** Who hears of every cap set on a live session; set once while wiring. */
    public void announceCapsTo(SessionCaps caps) {
        this.caps = caps;
    }

    public Optional<SessionLedger> get(String sessionId) {
        return parts.sessions().get(sessionId);
    }

    /** Trips the breaker by hand and tells every node; an open breaker stays as it is. */
    public SpendLedger.Snapshot trip(String cause, long nowMillis) {
        SpendLedger.Snapshot s = parts.spend().trip(nowMillis, parts.limits(), cause);
        parts.view().force(s);
        // a breaker that was open already keeps its opening time: nothing changed, nothing to announce
        if (s.breakerOpenedAtMillis() == nowMillis) {
            parts.observer().breakerChanged(s, cause);
            parts.broadcast().publish(s);
        }
        return s;
    }

    /** Closes the breaker now and tells every node. */
    public SpendLedger.Snapshot resetBreaker(long nowMillis) {
        SpendLedger.Snapshot s = parts.spend().reset(nowMillis, parts.limits());
        parts.view().force(s);
        parts.observer().breakerChanged(s, "reset");
        parts.broadcast().publish(s);
        return s;
    }

    /** Reads the cluster's spend and breaker afresh into this node's view. */
    public SpendLedger.Snapshot refreshSpend(long nowMillis) {
        return admission.refreshSpend(nowMillis);
    }
}
