package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * Charging: a usage report or tool fee priced, then charged to the session, the cluster's spend
 * and breaker, and the client's hourly spend, each exactly once ({@link ChargeId}); without a
 * quorum, kept in the {@link ChargeJournal} instead. Thread-safe; all state lives in the stores.
 */
final class Charges {

    /** Numbers the charges of this process that carry no key of their own, for their audit rows. */
    private final java.util.concurrent.atomic.AtomicLong chargeSeq = new java.util.concurrent.atomic.AtomicLong();

    /** The guard's stores, limits and collaborators, shared with it. */
    private final CostParts parts;
    private final SessionEnds ends;

    Charges(CostParts parts, SessionEnds ends) {
        this.parts = parts;
        this.ends = ends;
    }

    /** See {@link CostGuard#report(String, String, TokenUsage, String, long)}. */
    CostGuard.Usage report(String sessionId, String model, TokenUsage usage, String chargeKey, long nowMillis) {
        Optional<SessionLedger> current;
        try {
            current = parts.health().quorum() ? parts.sessions().get(sessionId) : null;
        } catch (QuorumLostException e) {
            current = null;
        }
        if (current == null) {
            return journaledUsage(sessionId, model, usage, chargeKey, seq -> new ChargeJournal.Usage(new ChargeId(parts.writer(), seq),
                    nowMillis, sessionId, null, null, model, usage, chargeKey));
        }
        if (current.isEmpty()) {
            return unknown(null);
        }
        return report(sessionId, current.get().clientId(), current.get().model(), model, usage, chargeKey, null, nowMillis);
    }

    /**
     * Prices a report and charges it as {@code chargeKey} (null: unkeyed), settling the reservation
     * {@code holdId} (null: none) in the same steps; without a quorum it is journaled with what the
     * caller knows of the session ({@code clientId}, {@code sessionModel}; null when not known), so
     * that it is counted even if the ledger is gone when it is applied.
     */
    CostGuard.Usage report(String sessionId, String clientId, String sessionModel, String reportedModel, TokenUsage usage,
                           String chargeKey, String holdId, long nowMillis) {
        PriceTable.Priced priced = price(sessionModel, reportedModel, usage);
        ChargeKey key = ChargeKey.orNull(chargeKey, reportedModel, usage);
        LongFunction<ChargeJournal.Entry> entry = seq -> new ChargeJournal.Usage(new ChargeId(parts.writer(), seq), nowMillis,
                sessionId, clientId, sessionModel, reportedModel, usage, chargeKey);
        if (!parts.health().quorum()) {
            return journaledUsage(sessionId, reportedModel, usage, chargeKey, entry);
        }
        ChargeJournal.Room room = parts.journal().reserve();
        if (room == null) {
            throw refused();
        }
        try {
            return charge(sessionId, ChargeId.live(parts.writer()), key, priced.costNanoUsd(), priced.tokens(), priced,
                    new How(null, chargeKey, holdId), nowMillis, room);
        } catch (QuorumLostException e) {
            ChargeJournal.Usage pending = chargeKey == null ? null : parts.journal().pending(sessionId, chargeKey);
            return pending != null ? journaledUsage(sessionId, reportedModel, usage, chargeKey, entry)
                    : journaled(parts.journal().append(room, entry));
        } finally {
            parts.journal().release(room);
        }
    }

    /**
     * Journals a usage report, unless it is keyed and this node's journal holds its key already:
     * then the answer is that entry's, and nothing more is journaled.
     */
    private CostGuard.Usage journaledUsage(String sessionId, String reportedModel, TokenUsage usage, String chargeKey,
                                           LongFunction<ChargeJournal.Entry> entry) {
        ChargeJournal.Usage pending = chargeKey == null ? null : parts.journal().pending(sessionId, chargeKey);
        if (pending == null) {
            return journaled(entry);
        }
        boolean same = ChargeKey.of(chargeKey, reportedModel, usage).reportHash()
                == ChargeKey.of(chargeKey, pending.reportedModel(), pending.usage()).reportHash();
        return new CostGuard.Usage(null, false, 0, false, false, null, parts.view().get(), List.of(), null, false, pending.seq(),
                same ? ChargeKeys.Seen.SAME_REPORT : ChargeKeys.Seen.OTHER_REPORT);
    }

    /** The price of a report: by the model it names, or by the session's model when it names none. */
    PriceTable.Priced price(String sessionModel, String reportedModel, TokenUsage usage) {
        return parts.prices().price(reportedModel == null || reportedModel.isBlank() ? sessionModel : reportedModel, usage);
    }

    /** Charges a fixed tool fee; nothing happens (null) when the tool has no fee. Client and model as for a report. */
    CostGuard.Usage chargeToolFee(String sessionId, String clientId, String sessionModel, String tool, long nowMillis) {
        PriceTable prices = parts.prices();
        long fee = prices.toolFeeNanoUsd(tool);
        return fee == 0 ? null : chargeOrJournal(sessionId, fee, TokenCounts.ZERO, null,
                new How(null, null, null, tool, prices.version()), nowMillis,
                seq -> new ChargeJournal.Charge(new ChargeId(parts.writer(), seq), nowMillis, sessionId, clientId, sessionModel, fee));
    }

    /**
     * Charges an estimate: a response (or transcription) whose usage never arrived is charged what
     * was reserved for it, marked estimated, keyed by {@code chargeKey} (its response id), settling
     * the reservation {@code holdId} (null: none).
     */
    CostGuard.Usage chargeEstimate(String sessionId, String clientId, String sessionModel, String chargeKey, long costNanoUsd,
                                   String holdId, long nowMillis) {
        How how = new How(sessionModel == null ? "" : sessionModel, chargeKey, holdId);
        return chargeOrJournal(sessionId, costNanoUsd, TokenCounts.ZERO, null, how, nowMillis,
                seq -> new ChargeJournal.Charge(new ChargeId(parts.writer(), seq), nowMillis, sessionId, clientId, sessionModel,
                        costNanoUsd));
    }

    /**
     * More about a charge: for an estimate, the session's model ({@code estimatedModel}, null when
     * the charge is no estimate); its key within the session ({@code chargeKey}, null: none); the
     * reservation it settles ({@code holdId}, null: none); the tool of a fee ({@code tool}, null for
     * usage, or a fee replayed from the journal); the version of the prices that set a fee's amount
     * ({@code priceVersion}; null: a report names its {@link PriceTable.Priced#version()}, anything
     * else the version current when it is recorded).
     */
    record How(String estimatedModel, String chargeKey, String holdId, String tool, String priceVersion) {
        static final How PLAIN = new How(null, null, null, null, null);

        How(String estimatedModel, String chargeKey, String holdId) {
            this(estimatedModel, chargeKey, holdId, null, null);
        }

        boolean estimate() {
            return estimatedModel != null;
        }
    }

    /**
     * Charges live, or journals {@code entry} without a quorum. Room in the journal is taken first:
     * the spend part may find no quorum after the session part was applied, and must then be kept;
     * a journal without room refuses before anything is applied.
     */
    private CostGuard.Usage chargeOrJournal(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                                            How how, long nowMillis, LongFunction<ChargeJournal.Entry> entry) {
        if (!parts.health().quorum()) {
            estimated(how, costNanoUsd);
            return journaled(entry);
        }
        ChargeJournal.Room room = parts.journal().reserve();
        if (room == null) {
            throw refused();
        }
        try {
            return charge(sessionId, ChargeId.live(parts.writer()), keyOf(how, costNanoUsd), costNanoUsd, tokens, priced, how,
                    nowMillis, room);
        } catch (QuorumLostException e) {
            estimated(how, costNanoUsd);
            return journaled(parts.journal().append(room, entry));
        } finally {
            parts.journal().release(room);
        }
    }

    private void estimated(How how, long costNanoUsd) {
        if (how.estimate()) {
            parts.observer().estimated(parts.prices().match(how.estimatedModel()).label(), costNanoUsd);
        }
    }

    /** Keeps an entry for later; the journal being full is a refusal ({@link QuorumLostException}). */
    private CostGuard.Usage journaled(LongFunction<ChargeJournal.Entry> entry) {
        return journaled(parts.journal().append(entry));
    }

    private CostGuard.Usage journaled(ChargeJournal.Entry e) {
        if (e == null) {
            throw refused();
        }
        parts.observer().journal("journaled");
        return new CostGuard.Usage(null, false, 0, false, false, null, parts.view().get(), List.of(), null, false, e.seq());
    }

    private QuorumLostException refused() {
        parts.observer().journal("refused");
        return new QuorumLostException("No quorum, and the journal of charges waiting for it is full (or cannot be written)",
                Math.max(1, parts.health().retryAfterMillis() / 1000));
    }

    /**
     * Charges the session, the cluster's spend and the client's spend as {@code id}. Throws
     * {@link QuorumLostException} only when nothing was charged; a live charge whose session part
     * went through but whose spend part found no quorum journals the spend part.
     */
    CostGuard.Usage charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                           long nowMillis) {
        return charge(sessionId, id, null, costNanoUsd, tokens, priced, How.PLAIN, nowMillis, null);
    }

    /**
     * The same, keyed by {@code key} (null: unkeyed). A key the session has been charged already
     * charges nothing at all: neither the session, nor the cluster's spend, nor the client's.
     */
    CostGuard.Usage charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                           PriceTable.Priced priced, long nowMillis) {
        return charge(sessionId, id, key, costNanoUsd, tokens, priced, How.PLAIN, nowMillis, null);
    }

    /**
     * The same for a journaled entry, whose audit row gets {@code auditKey} ({@link JournalReplay#auditKey}):
     * the same key whichever process applies it, so that its row is written once and can be found.
     */
    CostGuard.Usage replayed(String sessionId, ChargeId id, ChargeKey key, String auditKey, long costNanoUsd,
                             TokenCounts tokens, PriceTable.Priced priced, long nowMillis) {
        return charge(sessionId, id, key, costNanoUsd, tokens, priced, new How(null, auditKey, null), nowMillis, null);
    }

    /** The same, with room taken in the journal for the spend part of a live charge (null: none). */
    private CostGuard.Usage charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                                   PriceTable.Priced priced, How how, long nowMillis, ChargeJournal.Room room) {
        SessionRules.Charge c = parts.sessions().charge(sessionId, id, key, costNanoUsd, tokens, nowMillis, parts.limits());
        if (c.ledger() != null && c.keyRepeated()) {
            if (how.holdId() != null) {
                // charged before: the reservation this attempt brought is given back, not settled twice
                releaseHold(c.ledger().clientId(), how.holdId(), nowMillis);
            }
            if (c.key() != ChargeKeys.Seen.OTHER_REPORT && how.chargeKey() != null) {
                // the first attempt may have been applied and then answered 503 before it handed its
                // audit row over: the row is handed over again (written once, whoever writes it first)
                record(c.ledger(), costNanoUsd, tokens, priced, how, nowMillis);
            }
            if (c.key() == ChargeKeys.Seen.SAME_REPORT_UNSPENT && key.reported() && !id.replay()) {
                // ... and before its spend part ran: this retry completes it (counted twice if the first
                // is still running it now: never not at all)
                SpendLedger.Charged spent = parts.spend().charge(id, costNanoUsd, nowMillis, parts.limits());
                afterSpend(spent, priced == null ? "tool_fee" : priced.match().label(), priced == null || priced.match().known(),
                        costNanoUsd, tokens);
                chargeClient(id, c.ledger().clientId(), costNanoUsd, nowMillis, null);
                confirmSpend(sessionId, key);
            }
            return new CostGuard.Usage(c.ledger(), false, 0, c.budgetOk(), false, null, parts.view().get(),
                    warnings(c.ledger(), parts.view().get(), nowMillis), priced, false, 0, c.key());
        }
        if (c.ledger() == null || !c.applied() && !c.repeated()) {
            return unknown(priced);
        }
        if (!c.repeated()) {
            record(c.ledger(), costNanoUsd, tokens, priced, how, nowMillis);
        }
        SpendLedger.Charged spent;
        try {
            spent = parts.spend().charge(id, costNanoUsd, nowMillis, parts.limits(), how.holdId());
        } catch (QuorumLostException e) {
            if (id.replay()) {
                throw e;
            }
            String clientId = c.ledger().clientId();
            ChargeJournal.Entry kept = parts.journal().append(room, seq -> new ChargeJournal.Spend(new ChargeId(parts.writer(), seq), nowMillis,
                    clientId, costNanoUsd));
            parts.observer().journal(kept == null ? "refused" : "journaled");
            return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(), parts.view().get(),
                    List.of(), priced, c.afterEnd());
        } finally {
            // the session's own end must be completed even if the cluster spend could not be updated
            if (c.endedNow() != null) {
                ends.ended(c.ledger());
            }
        }
        if (how.estimate() && c.applied()) {
            parts.observer().estimated(parts.prices().match(how.estimatedModel()).label(), costNanoUsd);
        }
        String label = how.estimate() ? parts.prices().match(how.estimatedModel()).label()
                : priced == null ? "tool_fee" : priced.match().label();
        boolean known = how.estimate() ? parts.prices().match(how.estimatedModel()).known() : priced == null || priced.match().known();
        afterSpend(spent, label, known, costNanoUsd, tokens);
        chargeClient(id, c.ledger().clientId(), costNanoUsd, nowMillis, how.holdId());
        if (key != null && key.reported()) {
            confirmSpend(sessionId, key);
        }
        return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(),
                spent.snapshot(), warnings(c.ledger(), spent.snapshot(), nowMillis), priced, c.afterEnd());
    }

    /**
     * Tells the observer of a charge the session's ledger took (once per charge): its key (the
     * charge's own — a response id, a report's idempotency key — or one unique within this process),
     * the model that priced it (a tool fee, an estimate: the session's model), and whether it is an
     * estimate.
     */
    private void record(SessionLedger ledger, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced, How how,
                        long nowMillis) {
        String key = how.chargeKey() != null ? how.chargeKey()
                : (priced == null ? "tool:" + (how.tool() == null ? "fee" : how.tool()) : "charge") + ":" + parts.writer() + ":"
                + chargeSeq.incrementAndGet();
        String model = how.estimate() ? parts.prices().match(how.estimatedModel()).label()
                : priced == null ? ledger.model() : priced.match().label();
        // the version that priced the charge: its cost and the version it names come from one table
        String version = priced != null ? priced.version() : how.priceVersion() != null ? how.priceVersion() : parts.prices().version();
        parts.observer().chargeRecorded(new ChargeRecord(ledger.sessionId(), key, ledger.clientId(), model, tokens, costNanoUsd,
                how.estimate(), nowMillis, version));
    }

    /**
     * Records on the ledger that the usage report {@code key}'s spend part completed, so that a retry
     * charges nothing more; if that cannot be recorded, a retry counts the spend again (never under).
     */
    private void confirmSpend(String sessionId, ChargeKey key) {
        try {
            parts.sessions().confirmSpend(sessionId, key);
        } catch (RuntimeException e) {
            // the retry (if any) counts the spend part once more
        }
    }

    /** A fixed-amount charge (an estimate) keyed by its response id, so that it is charged once. */
    private static ChargeKey keyOf(How how, long costNanoUsd) {
        return how.chargeKey() == null || !how.estimate() ? null : ChargeKey.of(how.chargeKey(), costNanoUsd);
    }

    private void releaseHold(String clientId, String holdId, long nowMillis) {
        try {
            parts.spend().release(holdId, nowMillis, parts.limits());
            parts.spend().releaseClient(clientId, holdId, nowMillis, parts.limits());
            parts.budgets().release(clientId, holdId, nowMillis);
        } catch (QuorumLostException e) {
            // it lapses at its expiry
        }
    }

    /**
     * The client's hourly spend: a live charge it misses without quorum is let go (the session, the
     * cluster's spend and the audit have it; the reservation it settles lapses). A replay is retried
     * instead (it runs when the quorum is back, and a grid that still refuses a moment later would
     * otherwise drop the client's part for good): its other parts are idempotent, this one is charged again.
     */
    private void chargeClient(ChargeId id, String clientId, long costNanoUsd, long nowMillis, String releaseHoldId) {
        try {
            parts.spend().chargeClient(clientId, costNanoUsd, nowMillis, parts.limits(), releaseHoldId);
            parts.budgets().charge(clientId, costNanoUsd, nowMillis, releaseHoldId);
        } catch (QuorumLostException e) {
            if (id.replay()) {
                throw e;
            }
        }
    }

    /** Adds journaled spend alone as {@code id}: the session part of its charge went through before. */
    void spendOnly(ChargeId id, String clientId, long costNanoUsd, long nowMillis) {
        SpendLedger.Charged spent = parts.spend().charge(id, costNanoUsd, nowMillis, parts.limits());
        afterSpend(spent, "journal", true, costNanoUsd, TokenCounts.ZERO);
        chargeClient(id, clientId, costNanoUsd, nowMillis, null);
    }

    /**
     * Counts a journaled charge whose session's ledger is gone (it expired during a long partition):
     * the money was spent all the same, so it goes to the cluster's spend and breaker as {@code id},
     * to the client's hourly spend when the entry knew the client, and to the audit as a charge of
     * its own ({@code journal:<writer>#<seq>}).
     */
    void orphan(ChargeId id, String sessionId, String clientId, long costNanoUsd, TokenCounts tokens,
                PriceTable.Priced priced, String sessionModel, long atMillis) {
        SpendLedger.Charged spent = parts.spend().charge(id, costNanoUsd, atMillis, parts.limits());
        String label = priced == null ? "tool_fee" : priced.match().label();
        afterSpend(spent, label, priced == null || priced.match().known(), costNanoUsd, tokens);
        if (clientId != null) {
            chargeClient(id, clientId, costNanoUsd, atMillis, null);
        }
        String model = priced == null ? sessionModel : priced.match().known() ? priced.match().price().model() : label;
        parts.observer().chargeRecorded(new ChargeRecord(sessionId, JournalReplay.orphanKey(id), clientId, model, tokens,
                costNanoUsd, false, atMillis, priced == null ? parts.prices().version() : priced.version()));
    }

    private void afterSpend(SpendLedger.Charged spent, String modelLabel, boolean knownModel, long costNanoUsd,
                            TokenCounts tokens) {
        parts.view().offer(spent.snapshot());
        parts.observer().spend(spent.snapshot());
        parts.observer().charged(modelLabel, knownModel, costNanoUsd, tokens);
        if (spent.breakerOpenedNow()) {
            parts.observer().limitReached("circuit_breaker");
            parts.observer().breakerChanged(spent.snapshot(), "spend");
            parts.broadcast().publish(spent.snapshot());
        }
    }

    private CostGuard.Usage unknown(PriceTable.Priced priced) {
        return new CostGuard.Usage(null, false, 0, false, false, null, parts.view().get(), List.of(), priced, false);
    }

    private List<String> warnings(SessionLedger l, SpendLedger.Snapshot s, long nowMillis) {
        List<String> w = new ArrayList<>();
        if (l.costNanoUsd() >= l.maxCostNanoUsd()) {
            w.add(CostGuard.WARNING_BUDGET);
        }
        if (nowMillis >= l.expiresAtMillis()) {
            w.add(CostGuard.WARNING_DURATION);
        }
        if (s.breakerOpenAt(nowMillis)) {
            w.add(CostGuard.WARNING_BREAKER);
        }
        if (s.hourlyNanoUsd() >= parts.limits().maxHourlyCostNanoUsd()) {
            w.add(CostGuard.WARNING_HOURLY);
        }
        return w;
    }
}
